import { resolve } from 'node:path';
import { encodeRounds, makeWorkload } from './lib/workload.js';

/**
 * A/B of two source trees on the main thread's share of the request path (registry and scoring,
 * CPU time): `node --import tsx bench/ab-pipeline.ts A B`. Both trees are loaded into this one
 * process, each with its own pipeline, and scored request by request in alternation (order flipped
 * every request), so both see the same machine.
 */
const [dirA, dirB] = process.argv.slice(2).map((d) => resolve(d));
if (dirA === undefined || dirB === undefined) {
  console.error('usage: bench/ab-pipeline.ts A_DIR B_DIR');
  process.exit(2);
}
const SERIES = Number(process.env.BENCH_SERIES ?? 100_000);
const WARM = Number(process.env.BENCH_WARM_ROUNDS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const CT = 'application/x-protobuf';

const w = makeWorkload(SERIES, 2000);
const t0 = Date.now() - (WARM + ROUNDS + 1) * 15_000;
const warm = encodeRounds(w, 0, WARM, 15_000, t0);
const measured = encodeRounds(w, WARM, ROUNDS, 15_000, t0);

const sides = await Promise.all([dirA, dirB].map(async (dir) => {
  const { Receiver } = await import(`${dir}/src/ingest/receiver.ts`);
  const { createPipeline } = await import(`${dir}/src/augur.ts`);
  const { defaultConfig } = await import(`${dir}/src/config/load.ts`);
  const { fillHints } = await import(`${dir}/src/ingest/id-hints.ts`);
  const rx = new Receiver({ maxDecodedBytes: 32 << 20, maxSeriesPerRequest: 0, maxLabels: 256, maxNameLength: 1024, maxValueLength: 65536 });
  return { dir, rx, pipeline: createPipeline(defaultConfig()), fillHints, us: 0, samples: 0 };
}));
type Side = (typeof sides)[number];

function run(s: Side, body: Buffer, measure: boolean): void {
  s.rx.decode(body, CT, 'snappy');
  s.fillHints(s.rx.batch, s.pipeline.registry.identitySlots);
  const before = process.cpuUsage();
  s.pipeline.ingest(s.rx.batch, Date.now());
  if (!measure) return;
  const d = process.cpuUsage(before);
  s.us += d.user + d.system;
  s.samples += s.rx.batch.sampleCount;
}

for (const b of warm) for (const s of sides) run(s, b, false);
measured.forEach((b, i) => {
  for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) run(sides[k]!, b, true);
});
const [a, b] = sides.map((s) => s.us / s.samples);
console.log(`# A/B registry + scoring, ${SERIES} series, ${sides[0]!.samples} samples each, CPU time`);
console.log(`A ${dirA}  ${a!.toFixed(3)} µs/sample`);
console.log(`B ${dirB}  ${b!.toFixed(3)} µs/sample`);
console.log(`B/A ${(b! / a!).toFixed(3)}`);
