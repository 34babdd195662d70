import { ForecastEngine } from '../src/forecast/engine.js';
import { defaultForecastConfig } from '../src/forecast/config.js';

/**
 * LSTM rounds against the event loop: SERIES series in groups of 200 with a day and a half of
 * 5-minute history, then LSTM rounds (window collection on the main thread, training and
 * prediction in the worker) while a 1 ms timer records the longest gap.
 */
const SERIES = Number(process.env.BENCH_SERIES ?? 20_000);
const STEPS = 432;

export async function benchForecastLoop(): Promise<Record<string, number>> {
  const f = new ForecastEngine([defaultForecastConfig]);
  f.resize(SERIES);
  for (let id = 0; id < SERIES; id++) {
    f.reset(id);
    f.setProfile(id, 0);
    f.setGroup(id, Math.floor(id / 200));
  }
  const t0 = Date.now() - STEPS * 300_000;
  await f.start();
  let maxGap = 0;
  let roundSeconds = 0;
  let rounds = 0;
  // Feed buckets in steps of 8, as they would arrive, and run an LSTM round after each step; only
  // the rounds are measured against the event loop (feeding here is the benchmark's own loop).
  for (let k0 = 0; k0 < STEPS; k0 += 8) {
    for (let k = k0; k < Math.min(STEPS, k0 + 8); k++) {
      for (let id = 0; id < SERIES; id++) {
        const phase = (2 * Math.PI * k) / 288;
        f.observe(id, t0 + k * 300_000, 100 + (id % 50) + 20 * Math.sin(phase + (id % 7)) + ((k * 7919 + id) % 17) / 4);
      }
    }
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 1);
    const started = performance.now();
    await f.flushBackground();
    roundSeconds += (performance.now() - started) / 1000;
    rounds++;
    clearInterval(timer);
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = roundSeconds;
  await f.stop();
  console.log(`# LSTM rounds, ${SERIES} series in groups of 200: ${rounds} rounds in ${seconds.toFixed(1)} s, ${f.trainingRuns} trainings, ${f.trainingErrors} errors`);
  console.log(`longest event-loop block during the rounds: ${maxGap.toFixed(1)} ms`);
  return { maxGap };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchForecastLoop();
