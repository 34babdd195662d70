import { resolve } from 'node:path';
import { encodeRounds, makeWorkload } from './lib/workload.js';
import { addSegment, emptyResult, report, sendAll } from './lib/send.js';
import { startChild, stopChild, threadCpu } from './lib/child.js';

/**
 * A/B of two source trees under the ingest workload: `node --import tsx bench/ab-ingest.ts A B`
 * (each a checkout with node_modules, e.g. a `git worktree` of the baseline and this tree). Both
 * servers run at once and take turns segment by segment, the order flipped each segment, so a
 * change of a few percent shows through the machine's weather, which moves single runs by 30%.
 */
const [dirA, dirB] = process.argv.slice(2).map((d) => resolve(d));
if (dirA === undefined || dirB === undefined) {
  console.error('usage: bench/ab-ingest.ts A_DIR B_DIR');
  process.exit(2);
}
const SERIES = Number(process.env.BENCH_SERIES ?? 100_000);
const PER_REQUEST = 2000;
const CONNECTIONS = 8;
const WARM_ROUNDS = Number(process.env.BENCH_WARM_ROUNDS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 80);
const SEGMENTS = Number(process.env.BENCH_SEGMENTS ?? 16);
const STEP_MS = 15_000;

const w = makeWorkload(SERIES, PER_REQUEST);
const t0 = Date.now() - (WARM_ROUNDS + ROUNDS + 1) * STEP_MS;
const warm = encodeRounds(w, 0, WARM_ROUNDS, STEP_MS, t0);
const measured = encodeRounds(w, WARM_ROUNDS, ROUNDS, STEP_MS, t0);
console.log(`# A/B ingest: ${SERIES} series, ${PER_REQUEST} samples/request, ${CONNECTIONS} connections, ${ROUNDS} rounds in ${SEGMENTS} alternating segments`);

const sides = [dirA, dirB].map((dir, k) => ({ name: `${'AB'[k]} ${dir}`, dir, result: emptyResult(), cpu: new Map<string, number>() }));
const servers = [];
for (const s of sides) {
  const c = await startChild(['--import', 'tsx', `${s.dir}/src/cli.ts`, 'serve', '--web.listen-address=127.0.0.1:0', '--log.level=info'], process.env);
  await sendAll(c.url, warm, CONNECTIONS);
  servers.push(c);
}
const per = Math.ceil(measured.length / SEGMENTS);
for (let seg = 0; seg < SEGMENTS; seg++) {
  const bodies = measured.slice(seg * per, (seg + 1) * per);
  for (const k of seg % 2 === 0 ? [0, 1] : [1, 0]) {
    const s = sides[k]!;
    const pid = servers[k]!.proc.pid!;
    const before = threadCpu(pid);
    addSegment(s.result, await sendAll(servers[k]!.url, bodies, CONNECTIONS));
    for (const [t, v] of threadCpu(pid)) s.cpu.set(t, (s.cpu.get(t) ?? 0) + v - (before.get(t) ?? 0));
  }
}
const rates = sides.map((s) => report(s.name, s.result, PER_REQUEST));
for (const s of sides) {
  const samples = s.result.requests * PER_REQUEST;
  const main = ((s.cpu.get('main') ?? 0) * 1e6) / samples;
  const busiest = [...s.cpu.entries()].filter(([t]) => t !== 'main').sort((a, b) => b[1] - a[1])[0];
  const worker = busiest === undefined ? 0 : (busiest[1] * 1e6) / samples;
  console.log(`  ${s.name}: main thread ${main.toFixed(3)} µs/sample, busiest other thread ${worker.toFixed(3)} µs/sample`);
}
console.log(`B/A throughput ${(rates[1]! / rates[0]!).toFixed(3)}`);
for (const c of servers) await stopChild(c);
