import SnappyJS from 'snappyjs';
import { encodeRounds, makeWorkload } from './lib/workload.js';
import { Receiver } from '../src/ingest/receiver.js';
import { createPipeline } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';

/**
 * Resident memory per active series with the default config: SERIES series (default 1,000,000),
 * each scored ROUNDS times through the real decode and scoring path. Run with --expose-gc.
 */
const SERIES = Number(process.env.BENCH_MEMORY_SERIES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 4);

function jsSnappy(b: Buffer): Buffer {
  const out = SnappyJS.compress(b) as Uint8Array;
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Its own function so that no frame of the caller still points at the last round's bodies when
 * memory is read.
 */
function scoreRounds(rx: Receiver, pipeline: ReturnType<typeof createPipeline>, w: ReturnType<typeof makeWorkload>): number {
  const t0 = Date.now() - (ROUNDS + 1) * 15_000;
  let samples = 0;
  for (let r = 0; r < ROUNDS; r++) {
    // Generated one round at a time so that request bodies do not count as series memory.
    const bodies = encodeRounds(w, r, 1, 15_000, t0, jsSnappy);
    for (const b of bodies) {
      rx.decode(b, 'application/x-protobuf', 'snappy');
      pipeline.ingest(rx.batch, Date.now());
      samples += rx.batch.sampleCount;
    }
  }
  return samples;
}

export async function benchMemory(): Promise<Record<string, number>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const rx = new Receiver({ maxDecodedBytes: 32 << 20, maxSeriesPerRequest: 0, maxLabels: 256, maxNameLength: 1024, maxValueLength: 65536 });
  gc();
  const base = process.memoryUsage().rss;
  const pipeline = createPipeline(defaultConfig());
  const w = makeWorkload(SERIES, 2000);
  const samples = scoreRounds(rx, pipeline, w);
  const workloadBytes = w.labels.length + w.labelOffsets.byteLength + w.isCounter.byteLength;
  gc();
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const m = process.memoryUsage();
  const perSeries = (m.rss - base - workloadBytes) / SERIES;
  console.log(`# memory: ${pipeline.registry.active} active series, ${samples} samples scored`);
  console.log(`RSS ${(m.rss / 2 ** 20).toFixed(0)} MiB (heap ${(m.heapUsed / 2 ** 20).toFixed(0)} of ${(m.heapTotal / 2 ** 20).toFixed(0)} MiB, array buffers ${(m.arrayBuffers / 2 ** 20).toFixed(0)} MiB), before ${(base / 2 ** 20).toFixed(0)} MiB, the generator's label blocks ${(workloadBytes / 2 ** 20).toFixed(0)} MiB excluded`);
  console.log(`per active series: ${perSeries.toFixed(0)} bytes (${(perSeries / 1024).toFixed(2)} KiB)`);
  return { perSeries };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMemory();
