import { encodeRounds, makeWorkload } from './lib/workload.js';
import { Receiver } from '../src/ingest/receiver.js';
import { createPipeline } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';
import { fillHints } from '../src/ingest/id-hints.js';

/**
 * The request path without HTTP, stage by stage: snappy + protobuf decode, then registry and
 * scoring, over the ingest workload. Single thread, so figures are per-core costs. Decode includes
 * the id hints a decode worker adds (see id-hints.ts); set BENCH_HINTS=0 to score without them.
 */
const SERIES = Number(process.env.BENCH_SERIES ?? 100_000);
const WARM = Number(process.env.BENCH_WARM_ROUNDS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const HINTS = process.env.BENCH_HINTS !== '0';

export async function benchPipeline(): Promise<Record<string, number>> {
  const w = makeWorkload(SERIES, 2000);
  const t0 = Date.now() - (WARM + ROUNDS + 1) * 15_000;
  const warm = encodeRounds(w, 0, WARM, 15_000, t0);
  const measured = encodeRounds(w, WARM, ROUNDS, 15_000, t0);
  const config = defaultConfig();
  const rx = new Receiver({ maxDecodedBytes: 32 << 20, maxSeriesPerRequest: 0, maxLabels: 256, maxNameLength: 1024, maxValueLength: 65536 });
  const pipeline = createPipeline(config);
  const ct = 'application/x-protobuf';
  const decode = (b: Buffer): void => {
    rx.decode(b, ct, 'snappy');
    if (HINTS) fillHints(rx.batch, pipeline.registry.identitySlots);
  };
  for (const b of warm) {
    decode(b);
    pipeline.ingest(rx.batch, Date.now());
  }
  // CPU time of this thread, less disturbed than wall time on a shared machine.
  let decodeUs = 0;
  let scoreUs = 0;
  let samples = 0;
  for (const b of measured) {
    const a = process.cpuUsage();
    decode(b);
    const m = process.cpuUsage();
    pipeline.ingest(rx.batch, Date.now());
    const e = process.cpuUsage();
    decodeUs += m.user + m.system - a.user - a.system;
    scoreUs += e.user + e.system - m.user - m.system;
    samples += rx.batch.sampleCount;
  }
  decodeUs /= samples;
  scoreUs /= samples;
  console.log(`# request path without HTTP, ${SERIES} series, ${samples} samples, CPU time`);
  console.log(`decode (snappy + protobuf + labels + hash${HINTS ? ' + hints' : ''})  ${decodeUs.toFixed(3)} µs/sample`);
  console.log(`registry + scoring                          ${scoreUs.toFixed(3)} µs/sample`);
  console.log(`total                                       ${(decodeUs + scoreUs).toFixed(3)} µs/sample = ${(1 / (decodeUs + scoreUs)).toFixed(2)} M samples/s per core`);
  return { decodeUs, scoreUs };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchPipeline();
