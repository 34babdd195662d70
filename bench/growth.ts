import { PerformanceObserver } from 'node:perf_hooks';
import { encodeRounds, makeWorkload } from './lib/workload.js';
import { Receiver } from '../src/ingest/receiver.js';
import { createPipeline } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';

/**
 * Taking in new series without stalling the event loop: SERIES (default 1,000,000) new series in
 * requests of 2,000, decoded and ingested in one process with a turn of the event loop between
 * requests, as a server gets between them. Prints the longest requests (with the series count at
 * the time), the gaps between turns over 100 ms and the garbage collections over 50 ms. The
 * registry's capacity doublings and the identity table's rebuilds happen along the way.
 */
const SERIES = Number(process.env.BENCH_SERIES ?? 1_000_000);
const SLOW_MS = 100;

const w = makeWorkload(SERIES, 2000);
const bodies = encodeRounds(w, 0, 1, 15_000, Date.now() - 10 * 15_000);
const rx = new Receiver({ maxDecodedBytes: 32 << 20, maxSeriesPerRequest: 0, maxLabels: 256, maxNameLength: 1024, maxValueLength: 65536 });
const pipeline = createPipeline(defaultConfig());
const gcs: string[] = [];
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.duration > 50) gcs.push(`${e.duration.toFixed(0)} ms`);
});
obs.observe({ entryTypes: ['gc'] });

const slow: string[] = [];
const gaps: number[] = [];
let longest = 0;
let last = performance.now();
let running = true;
const tick = (): void => {
  const now = performance.now();
  if (now - last > SLOW_MS) gaps.push(now - last);
  last = now;
  if (running) setImmediate(tick);
};
setImmediate(tick);
let ingestMs = 0;
const started = performance.now();
for (const body of bodies) {
  rx.decode(body, 'application/x-protobuf', 'snappy');
  const t = performance.now();
  pipeline.ingest(rx.batch, Date.now());
  const ms = performance.now() - t;
  ingestMs += ms;
  longest = Math.max(longest, ms);
  if (ms > SLOW_MS) slow.push(`${ms.toFixed(0)} ms at ${pipeline.registry.active} series`);
  await new Promise((r) => setImmediate(r));
}
running = false;
obs.disconnect();
console.log(`# growth: ${pipeline.registry.active} series created in ${((performance.now() - started) / 1000).toFixed(1)} s, ${(ingestMs * 1000 / SERIES).toFixed(1)} µs of ingest per new series, capacity ${pipeline.registry.capacity}`);
console.log(`longest request ${longest.toFixed(0)} ms; requests over ${SLOW_MS} ms: ${slow.length > 0 ? slow.join(', ') : 'none'}`);
console.log(`event-loop gaps over ${SLOW_MS} ms: ${gaps.length > 0 ? gaps.map((g) => g.toFixed(0)).join(', ') : 'none'}; garbage collections over 50 ms: ${gcs.length > 0 ? gcs.join(', ') : 'none'}`);
process.exit(0);
