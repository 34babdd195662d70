/**
 * Per-sample cost of ForecastEngine.observe at 100,000 series with the default config (one 1h
 * horizon): `node --import tsx bench/forecast-cost.ts [series]`. Two sampling intervals: 15 s (a
 * bucket closes every 20th sample) and 5 minutes (every sample closes a bucket, the worst case).
 * The LSTM is measured apart (worker time per predicted window, per training run) since it never
 * runs on this path, and its duty-cycle cap is stated with the numbers that follow from it.
 */
import { defaultForecastConfig, forecastSchema } from '../src/forecast/config.js';
import { ForecastEngine } from '../src/forecast/engine.js';
import { DUTY, ROUND_BUDGET_S, ROUND_MS } from '../src/forecast/lstm-runner.js';

const SERIES = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 100_000);
const DAY = 86_400_000;

function run(intervalMs: number, days: number): void {
  const e = new ForecastEngine([forecastSchema.parse({ models: { lstm: false } })]);
  const heap0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  e.resize(SERIES);
  for (let id = 0; id < SERIES; id++) e.reset(id);
  const heap1 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const steps = Math.floor((days * DAY) / intervalMs);
  // Warm-up day, not timed, so the timed part is the steady state with full history.
  const warm = Math.floor(DAY / intervalMs);
  for (let i = 0; i < warm; i++) {
    const t = i * intervalMs;
    for (let id = 0; id < SERIES; id++) e.observe(id, t, 100 + 20 * Math.sin((2 * Math.PI * t) / DAY + id) + (id % 7));
  }
  const t0 = process.hrtime.bigint();
  let samples = 0;
  for (let i = warm; i < warm + steps; i++) {
    const t = i * intervalMs;
    for (let id = 0; id < SERIES; id++) {
      e.observe(id, t, 100 + 20 * Math.sin((2 * Math.PI * t) / DAY + id) + ((id * 31 + i) % 7));
      samples++;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0) / samples;
  console.log(
    `interval ${intervalMs / 1000}s: ${samples} samples, ${ns.toFixed(0)} ns/sample; ` +
      `state ${e.bytesPerSeries()} B/series (computed), ${((heap1 - heap0) / SERIES).toFixed(0)} B/series (measured)`,
  );
}

console.log(`ForecastEngine cost at ${SERIES} series, horizons ${defaultForecastConfig.horizons.join(',')}`);
async function lstm(): Promise<void> {
  const S = 4096;
  const e = new ForecastEngine([forecastSchema.parse({})]);
  e.resize(S);
  for (let id = 0; id < S; id++) {
    e.reset(id);
    e.setGroup(id, 0);
  }
  await e.start();
  try {
    for (let i = 0; i < 120; i++) {
      for (let id = 0; id < S; id++) e.observe(id, i * 300_000, 50 + 20 * Math.sin((i + id) / 9) + ((id * 7 + i) % 5));
      if (i % 6 === 5) await e.flushBackground();
    }
    for (let k = 0; k < 3; k++) await e.flushBackground();
    const r = e.lstm!;
    const perWindow = r.predictSeconds / Math.max(1, r.predictedWindows);
    const perRound = Math.floor(Math.max(0, ROUND_BUDGET_S - e.lastTrainingSeconds) / perWindow);
    const rounds = Math.ceil(SERIES / perRound);
    console.log(
      `LSTM (worker thread, not on the sample path): ${(perWindow * 1e6).toFixed(0)} µs of worker time per predicted window, ` +
        `${e.lastTrainingSeconds.toFixed(2)} s per training run (${e.trainingRuns} runs, ${e.trainingErrors} errors). ` +
        `Capped at ${(DUTY * 100).toFixed(0)}% of one core: ${ROUND_BUDGET_S} s of worker time per ${ROUND_MS / 1000} s round, ` +
        `about ${perRound} windows per round after a training run; at ${SERIES} series each series' LSTM forecast is refreshed ` +
        `every ${rounds} round(s) (${((rounds * ROUND_MS) / 60_000).toFixed(0)} min) instead of taking ${(SERIES * perWindow).toFixed(1)} s of a core every round.`,
    );
  } finally {
    await e.stop();
  }
}

run(300_000, 0.5);
run(15_000, 0.05);
if (!process.argv.includes('--no-lstm')) await lstm();
