import { encodeRounds, makeWorkload } from './lib/workload.js';
import { addSegment, emptyResult, percentile, report, sendAll } from './lib/send.js';
import { mainThreadSched, procStats, startChild, stopChild, threadCpu } from './lib/child.js';

/**
 * Remote-write 1.0 ingest: 100,000 series, 2,000 samples per request, 8 connections, against a
 * null receiver (same HTTP stack, reads the body, answers 204) and against Augur, in one run.
 */
const SERIES = Number(process.env.BENCH_SERIES ?? 100_000);
const PER_REQUEST = 2000;
const CONNECTIONS = 8;
const WARM_ROUNDS = Number(process.env.BENCH_WARM_ROUNDS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const STEP_MS = 15_000;
const SEGMENTS = 4;
/** The null receiver gets each segment's bodies this many times: at ten or more times Augur's
 * rate, one pass would be a window of about a tenth of a second, too short to average out the
 * machine's noise. */
const NULL_REPEAT = 4;

export async function benchIngest(): Promise<Record<string, number>> {
  console.log(`# ingest: ${SERIES} series, ${PER_REQUEST} samples/request, ${CONNECTIONS} connections, ${ROUNDS} measured rounds after ${WARM_ROUNDS} warm-up rounds`);
  const w = makeWorkload(SERIES, PER_REQUEST);
  const t0 = Date.now() - (WARM_ROUNDS + ROUNDS + 1) * STEP_MS;
  const t = performance.now();
  const warm = encodeRounds(w, 0, WARM_ROUNDS, STEP_MS, t0);
  const measured = encodeRounds(w, WARM_ROUNDS, ROUNDS, STEP_MS, t0);
  const bytes = measured.reduce((a, b) => a + b.length, 0) / measured.length;
  console.log(`generated ${warm.length + measured.length} bodies (${(bytes / 1024).toFixed(1)} KiB compressed each) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const nul = await startChild(['--import', 'tsx', new URL('./null-receiver.ts', import.meta.url).pathname]);
  // Warmed exactly as long as Augur: with a few hundred requests the baseline is still being
  // optimised by V8 while it is measured, and runs well below its warm rate.
  await sendAll(nul.url, warm, CONNECTIONS);
  const augur = await startChild([...(process.env.BENCH_AUGUR_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', new URL('../src/cli.ts', import.meta.url).pathname, 'serve', '--web.listen-address=127.0.0.1:0', '--log.level=info', '--log.format=json'], process.env);
  const warmRes = await sendAll(augur.url, warm, CONNECTIONS);
  console.log(`augur warm-up  ${warm.length} requests in ${warmRes.seconds.toFixed(1)} s (creates ${SERIES} series), failures ${warmRes.failures}`);

  // The two receivers take turns, segment by segment (the same bodies, in order for Augur), so that
  // both see the same weather on a shared machine; each idles while the other is measured.
  const nullRes = emptyResult();
  const augurRes = emptyResult();
  let nullCpuSeconds = 0;
  let augurCpuSeconds = 0;
  let genCpuUs = 0;
  const threadUs = new Map<string, number>();
  let mainRun = 0;
  let mainWait = 0;
  let rss = 0;
  const per = Math.ceil(measured.length / SEGMENTS);
  for (let seg = 0; seg < SEGMENTS; seg++) {
    const bodies = measured.slice(seg * per, (seg + 1) * per);
    const nb = procStats(nul.proc.pid!);
    addSegment(nullRes, await sendAll(nul.url, Array.from({ length: NULL_REPEAT }, () => bodies).flat(), CONNECTIONS));
    nullCpuSeconds += procStats(nul.proc.pid!).cpuSeconds - nb.cpuSeconds;
    const before = procStats(augur.proc.pid!);
    const threadsBefore = threadCpu(augur.proc.pid!);
    const schedBefore = mainThreadSched(augur.proc.pid!);
    const genBefore = process.cpuUsage();
    addSegment(augurRes, await sendAll(augur.url, bodies, CONNECTIONS));
    const gen = process.cpuUsage(genBefore);
    genCpuUs += gen.user + gen.system;
    const after = procStats(augur.proc.pid!);
    const sched = mainThreadSched(augur.proc.pid!);
    mainRun += sched.runSeconds - schedBefore.runSeconds;
    mainWait += sched.waitSeconds - schedBefore.waitSeconds;
    for (const [k, v] of threadCpu(augur.proc.pid!)) threadUs.set(k, (threadUs.get(k) ?? 0) + (v - (threadsBefore.get(k) ?? 0)) * 1e6);
    augurCpuSeconds += after.cpuSeconds - before.cpuSeconds;
    rss = after.rssBytes;
  }
  await stopChild(nul);
  const nullRate = report('null receiver', nullRes, PER_REQUEST);
  const nullCpu = (nullCpuSeconds * 1e6) / (nullRes.requests * PER_REQUEST);
  console.log(`null receiver CPU ${nullCpu.toFixed(2)} µs/sample (HTTP and reading the body: the floor under any receiver on this stack)`);
  const augurRate = report('augur', augurRes, PER_REQUEST);
  const samples = augurRes.requests * PER_REQUEST;
  const cpuUsPerSample = (augurCpuSeconds * 1e6) / samples;
  console.log(`augur CPU ${cpuUsPerSample.toFixed(2)} µs/sample (HTTP + snappy + decode + scoring, all threads), RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
  const perThread = [...threadUs.entries()]
    .map(([k, v]) => [k, v / samples] as const)
    .filter(([, v]) => v >= 0.01)
    .sort((a, b) => b[1] - a[1]);
  console.log(`  by thread (µs/sample): ${perThread.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}; load generator ${(genCpuUs / samples).toFixed(2)}`);
  // The main thread scores every sample: while it is runnable but has no core (Augur's other
  // threads, the load generator and other processes hold both), throughput is lost to contention.
  const wall = augurRes.seconds;
  if (mainRun > 0) {
    console.log(`  main thread: running ${(mainRun / wall).toFixed(2)} of the time, waiting for a core ${(mainWait / wall).toFixed(2)}, idle ${Math.max(0, 1 - (mainRun + mainWait) / wall).toFixed(2)}`);
  }
  const ratio = augurRate / nullRate;
  console.log(`ratio augur/null ${ratio.toFixed(3)} (${SEGMENTS} alternating segments each; the null receiver takes each segment's bodies ${NULL_REPEAT} times)`);
  const metrics = await (await fetch(augur.url + '/metrics')).text();
  const scored = /^augur_samples_scored_total (\S+)/m.exec(metrics)?.[1];
  const ooo = /^augur_samples_out_of_order_total (\S+)/m.exec(metrics)?.[1];
  console.log(`augur counters: scored ${scored}, out of order ${ooo}`);
  await stopChild(augur);
  return { nullRate, augurRate, ratio, p99: percentile(augurRes.latenciesMs, 0.99), cpuUsPerSample };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchIngest();
