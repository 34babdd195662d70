// Snapshot and restore figures at 1,000,000 series (override with SERIES=...): wall time, bytes,
// and the longest stretch the event loop was blocked while each ran (a 5 ms timer's lateness).
//   npm run bench:snapshot
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPipeline } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';
import { Receiver } from '../src/ingest/receiver.js';
import { createLogger } from '../src/log.js';
import { Snapshotter, walkOptions } from '../src/persist/snapshotter.js';
import { describe } from '../src/persist/walk.js';
import { PerformanceObserver } from 'node:perf_hooks';
import { encodeRounds, makeWorkload } from './lib/workload.js';

const CT = 'application/x-protobuf;proto=prometheus.WriteRequest';
const SERIES = Number(process.env['SERIES'] ?? 1_000_000);
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'augur-bench-snap-'));
const log = createLogger('silent', 'json');
const noEvents = { restoreFailed: () => undefined, restored: () => undefined, written: () => undefined, writeFailed: () => undefined };

/** Runs `fn` while a 5 ms timer measures how late it fires: the longest event-loop block. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; maxBlockMs: number }> {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last - 5);
    last = now;
  }, 5);
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  return { value, seconds, maxBlockMs: Math.max(0, max) };
}

let longestGc = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) longestGc = Math.max(longestGc, e.duration);
}).observe({ entryTypes: ['gc'] });

async function main(): Promise<void> {
  const config = defaultConfig();
  config.series.max_active = Math.max(SERIES, 1);
  config.storage.path = dir;
  const t0 = Date.now() - ROUNDS * 15_000;
  const w = makeWorkload(SERIES, 2000);
  const a = createPipeline(config);
  const rx = new Receiver({ maxDecodedBytes: 1 << 26, maxSeriesPerRequest: 0, maxLabels: 64, maxNameLength: 1024, maxValueLength: 4096 });
  const fillStart = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    for (const body of encodeRounds(w, r, 1, 15_000, t0)) {
      rx.decode(body, CT, 'snappy');
      a.ingest(rx.batch, Date.now());
    }
  }
  console.log(`filled ${a.registry.active} series x ${ROUNDS} samples in ${((performance.now() - fillStart) / 1000).toFixed(1)} s; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  const d0 = performance.now();
  describe(a, walkOptions(a));
  console.log(`walk (synchronous part of a snapshot): ${(performance.now() - d0).toFixed(1)} ms`);
  const snap = new Snapshotter(dir, a, config, log, noEvents);
  longestGc = 0;
  const write = await measured(() => snap.snapshot('bench'));
  console.log(`  longest GC pause during the snapshot: ${longestGc.toFixed(1)} ms`);
  if (!write.value) throw new Error('snapshot failed');
  const bytes = snap.lastWrite!.bytes;
  console.log(`snapshot: ${write.seconds.toFixed(2)} s, ${(bytes / 2 ** 20).toFixed(0)} MiB (${(bytes / SERIES).toFixed(0)} B/series), event loop blocked at most ${write.maxBlockMs.toFixed(1)} ms (writer's own longest synchronous step ${snap.lastWrite!.maxBlockMs.toFixed(1)} ms)`);
  // A second snapshot while requests keep arriving: ingestion between slices.
  const bodies = encodeRounds(w, ROUNDS, 1, 15_000, t0);
  let ingested = 0;
  let maxReq = 0;
  const during = await measured(async () => {
    const p = snap.snapshot('bench-concurrent');
    let done = false;
    void p.then(() => (done = true));
    for (let i = 0; !done; i = (i + 1) % bodies.length) {
      const s = performance.now();
      rx.decode(bodies[i]!, CT, 'snappy');
      a.ingest(rx.batch, Date.now());
      maxReq = Math.max(maxReq, performance.now() - s);
      ingested += rx.batch.sampleCount;
      await new Promise((r) => setImmediate(r));
    }
    return p;
  });
  console.log(`snapshot while ingesting: ${during.seconds.toFixed(2)} s, ${ingested} samples ingested meanwhile, loop blocked at most ${during.maxBlockMs.toFixed(1)} ms (one 2000-sample request ${maxReq.toFixed(1)} ms at most)`);
  const b = createPipeline(config);
  const snapB = new Snapshotter(dir, b, config, log, noEvents);
  const restore = await measured(() => snapB.restore());
  console.log(`restore: ${restore.seconds.toFixed(2)} s, ${restore.value} series, event loop blocked at most ${restore.maxBlockMs.toFixed(1)} ms; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  if (restore.value !== a.registry.active) throw new Error(`restored ${restore.value} series, expected ${a.registry.active}`);
  rmSync(dir, { recursive: true, force: true });
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
