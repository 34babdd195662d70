import { IsolationForest } from 'ml-isolation-forest';
import { FEATURES, trainForest } from '../src/detect/forest.js';

/**
 * Why Augur scores with its own isolation forest: ml-isolation-forest against src/detect/forest.ts
 * on the same data (FEATURES standardised per-sample features), training and scoring rates.
 */
const TRAIN = Number(process.env.BENCH_FOREST_TRAIN ?? 2048);
const SCORE = Number(process.env.BENCH_FOREST_SCORE ?? 20_000);

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

export async function benchForest(): Promise<Record<string, number>> {
  let s = 42;
  const rand = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const rows: number[][] = [];
  for (let i = 0; i < TRAIN + SCORE; i++) rows.push(Array.from({ length: FEATURES }, () => gaussian(rand) * (i % 97 === 0 ? 6 : 1)));
  const train = rows.slice(0, TRAIN);
  const test = rows.slice(TRAIN);

  let t = performance.now();
  const ml = new IsolationForest();
  ml.train(train);
  const mlTrainMs = performance.now() - t;
  t = performance.now();
  ml.predict(test);
  const mlScorePerS = SCORE / ((performance.now() - t) / 1000);

  const flat = new Float32Array(TRAIN * FEATURES);
  train.forEach((r, i) => r.forEach((v, k) => (flat[i * FEATURES + k] = v)));
  t = performance.now();
  const own = trainForest(flat, TRAIN, 7);
  const ownTrainMs = performance.now() - t;
  const row = new Float64Array(FEATURES);
  t = performance.now();
  let sink = 0;
  for (let rep = 0; rep < 10; rep++) {
    for (const r of test) {
      for (let k = 0; k < FEATURES; k++) row[k] = r[k]!;
      sink += own.score(row);
    }
  }
  const ownScorePerS = (10 * SCORE) / ((performance.now() - t) / 1000);
  console.log(`# isolation forest, ${TRAIN} training rows, ${SCORE} scored rows of ${FEATURES} features (checksum ${sink.toFixed(1)})`);
  console.log(`ml-isolation-forest 0.1.0   train ${mlTrainMs.toFixed(0)} ms, score ${Math.round(mlScorePerS).toLocaleString('en')} points/s`);
  console.log(`augur forest (12 trees)     train ${ownTrainMs.toFixed(1)} ms, score ${Math.round(ownScorePerS).toLocaleString('en')} points/s`);
  console.log(`at 600,000 samples/s, ml-isolation-forest would need ${(600_000 / mlScorePerS).toFixed(0)} cores to score every sample`);
  return { mlScorePerS, ownScorePerS };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchForest();
