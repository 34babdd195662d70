import { encodeRounds, makeWorkload } from './lib/workload.js';
import { sendAll } from './lib/send.js';
import { procStats, startChild, stopChild } from './lib/child.js';

/**
 * Resident memory of a real `augur serve` (decode worker, model workers, HTTP) per active series:
 * SERIES series (default 1,000,000) remote-written ROUNDS times over HTTP from this process, the
 * server's RSS read from /proc before the first request and after the last, then again after an
 * idle pause (V8 gives unused heap pages back when the process goes quiet). Complements
 * bench/memory.ts, which measures the scoring state alone in one process.
 */
const SERIES = Number(process.env.BENCH_MEMORY_SERIES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 4);
const IDLE_MS = Number(process.env.BENCH_MEMORY_IDLE_MS ?? 15_000);
const STEP_MS = 15_000;

/** `augur_active_series` from /metrics, scanned as it streams: the whole text runs to gigabytes. */
async function activeSeries(url: string): Promise<number> {
  const res = await fetch(url + '/metrics', { headers: { accept: 'text/plain' } });
  const decoder = new TextDecoder();
  let tail = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const text = tail + decoder.decode(chunk, { stream: true });
    const m = /^augur_active_series (\S+)$/m.exec(text);
    if (m) return Number(m[1]);
    tail = text.slice(-200);
  }
  return NaN;
}

export async function benchServerMemory(): Promise<Record<string, number>> {
  const w = makeWorkload(SERIES, 2000);
  const augur = await startChild(['--import', 'tsx', new URL('../src/cli.ts', import.meta.url).pathname, 'serve', '--web.listen-address=127.0.0.1:0', '--log.level=info', '--log.format=json']);
  await new Promise((r) => setTimeout(r, 2000));
  const base = procStats(augur.proc.pid!).rssBytes;
  const t0 = Date.now() - (ROUNDS + 1) * STEP_MS;
  let failures = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const bodies = encodeRounds(w, r, 1, STEP_MS, t0);
    // Requests shed with 503 are sent again, as Prometheus would; a repeated sample is only
    // counted out of order.
    for (let attempt = 0; attempt < 5; attempt++) {
      const res = await sendAll(augur.url, bodies, 8);
      if (res.failures === 0) break;
      failures += res.failures;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  const loaded = procStats(augur.proc.pid!).rssBytes;
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idle = procStats(augur.proc.pid!).rssBytes;
  const active = await activeSeries(augur.url);
  await stopChild(augur);
  const perLoaded = (loaded - base) / active;
  const perIdle = (idle - base) / active;
  console.log(`# augur serve: ${active} active series after ${ROUNDS} rounds over HTTP (${failures} requests shed and sent again)`);
  console.log(`RSS ${(base / 2 ** 20).toFixed(0)} MiB at start, ${(loaded / 2 ** 20).toFixed(0)} MiB after the last request, ${(idle / 2 ** 20).toFixed(0)} MiB after ${IDLE_MS / 1000} s idle`);
  console.log(`per active series: ${perLoaded.toFixed(0)} bytes right after the load, ${perIdle.toFixed(0)} bytes (${(perIdle / 1024).toFixed(2)} KiB) idle`);
  return { perLoaded, perIdle };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchServerMemory();
