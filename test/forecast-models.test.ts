import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forecastSchema, defaultForecastConfig } from '../src/forecast/config.js';
import { coprimeStride, ForecastEngine, stepFor } from '../src/forecast/engine.js';
import { HOLT, HW, LINEAR, NAIVE, SES, SNAIVE } from '../src/forecast/models.js';

const STEP = 300_000;
const DAY = 86_400_000;
const H1 = 3_600_000;

function engine(opts: object = {}): ForecastEngine {
  const e = new ForecastEngine([forecastSchema.parse({ models: { lstm: false }, ...opts })]);
  e.resize(4);
  for (let id = 0; id < 4; id++) e.reset(id);
  return e;
}

function feed(e: ForecastEngine, id: number, n: number, f: (t: number) => number, t0 = 0): number {
  let t = t0;
  for (let i = 0; i < n; i++) {
    t = t0 + i * STEP;
    e.observe(id, t, f(t));
  }
  return t;
}

test('config defaults and validation', () => {
  assert.deepEqual(defaultForecastConfig.horizons, ['1h']);
  assert.deepEqual(defaultForecastConfig.levels, [0.8, 0.95]);
  assert.deepEqual(defaultForecastConfig.breach_thresholds, []);
  assert.equal(forecastSchema.safeParse({ horizons: ['1m'] }).success, false);
  assert.equal(forecastSchema.safeParse({ horizons: ['25h'] }).success, false);
  assert.equal(forecastSchema.safeParse({ horizons: ['bogus'] }).success, false);
  assert.equal(forecastSchema.safeParse({ horizons: ['5m', '24h', '1h30m'] }).success, true);
  assert.equal(forecastSchema.safeParse({ levels: [1.2] }).success, false);
});

test('linear trend: predict_linear, Holt and naive-free models extrapolate the ramp', () => {
  const e = engine();
  const slope = 2 / STEP; // 2 per bucket
  const t = feed(e, 0, 600, (t) => 10 + slope * t);
  const want = 10 + slope * (t + H1);
  assert.ok(Math.abs(e.predict(0, LINEAR, H1, H1) - want) < 1e-3 * want);
  assert.ok(Math.abs(e.predict(0, HOLT, H1, H1) - want) < 0.01 * want);
  assert.ok(Math.abs(e.predict(0, NAIVE, H1, H1) - (want - 24)) < 1e-3 * want);
  assert.ok(e.predict(0, SES, H1, H1) < want - 24);
  const chosen = e.chosenModel(0, 0);
  assert.ok(chosen === 'linear' || chosen === 'holt', chosen);
  assert.ok(Math.abs(e.forecast[0]![0]! - want) < 0.01 * want);
});

test('seasonal series: seasonal naive and Holt-Winters follow the day, the choice is seasonal', () => {
  const e = engine();
  const f = (t: number): number => 100 + 40 * Math.sin((2 * Math.PI * t) / DAY);
  const t = feed(e, 0, 288 * 5, f);
  const want = f(t + H1);
  assert.ok(Math.abs(e.predict(0, SNAIVE, H1, H1) - want) < 3, `snaive ${e.predict(0, SNAIVE, H1, H1)} vs ${want}`);
  assert.ok(Math.abs(e.predict(0, HW, H1, H1) - want) < 3, `hw ${e.predict(0, HW, H1, H1)} vs ${want}`);
  const chosen = e.chosenModel(0, 0);
  assert.ok(chosen === 'seasonal_naive' || chosen === 'holt_winters', chosen);
});

test('6-hour season is detected and used by Holt-Winters', () => {
  const e = engine();
  const f = (t: number): number => 50 + 20 * Math.sin((2 * Math.PI * t) / (DAY / 4));
  const t = feed(e, 0, 288 * 4, f);
  assert.ok(Math.abs(e.predict(0, HW, H1, H1) - f(t + H1)) < 3);
  assert.ok(Math.abs(e.predict(0, HW, H1, 3 * H1) - f(t + 3 * H1)) < 4);
});

test('step: after a level shift the forecasts move to the new level', () => {
  const e = engine();
  const t = feed(e, 0, 400, (t) => (t < 300 * STEP ? 10 : 50));
  void t;
  assert.ok(Math.abs(e.forecast[0]![0]! - 50) < 5, String(e.forecast[0]![0]));
  assert.equal(e.predict(0, NAIVE, H1, H1), 50);
});

test('sparse series get a coarser step; missing buckets and long gaps are survived', () => {
  const e = engine();
  for (let i = 0; i < 200; i++) {
    if (i % 7 === 3) continue;
    e.observe(1, i * H1, 5 + (i % 24));
  }
  assert.equal(e.stepMs[1], H1);
  e.observe(1, 400 * H1, 7);
  e.observe(1, 401 * H1, 8);
  assert.ok(Number.isFinite(e.forecast[0]![1]!));
});

test('model choice follows the smallest rolling-origin error; usage counts add up', () => {
  const e = engine();
  feed(e, 0, 800, (t) => 3 * (t / STEP)); // ramp
  feed(e, 1, 800, (t) => 100 + 40 * Math.sin((2 * Math.PI * t) / DAY)); // season
  const usage = e.modelUsage();
  assert.equal(Object.values(usage).reduce((a, b) => a + b, 0), 2);
  assert.ok(['linear', 'holt'].includes(e.chosenModel(0, 0)));
  assert.ok(['seasonal_naive', 'holt_winters'].includes(e.chosenModel(1, 0)));
  e.reset(0);
  assert.equal(Object.values(e.modelUsage()).reduce((a, b) => a + b, 0), 1);
  assert.equal(e.chosenModel(0, 0), 'none');
  assert.ok(Number.isNaN(e.forecast[0]![0]!));
});

test('square wave: seasonal naive at bucket resolution is exact, and it is chosen', () => {
  const e = engine();
  const f = (t: number): number => ((t % DAY) < DAY / 2 - 2 * STEP ? 20 : 80);
  // Starts off the day grid; three days, including a day to refit the quantisation range.
  const t = feed(e, 0, 288 * 4, f, 7 * STEP);
  for (const tau of [STEP, H1, 4 * H1, 13 * STEP]) {
    assert.equal(e.predict(0, SNAIVE, tau, tau), f(t + tau), `tau ${tau}`);
  }
  assert.equal(e.chosenModel(0, 0), 'seasonal_naive');
  assert.equal(e.forecast[0]![0], f(t + H1));
});

test('day ring: 8-bit codes stay within range/508 of the bucket values after a spike', () => {
  const e = engine();
  const f = (t: number): number => 1000 + 10 * Math.sin((2 * Math.PI * t) / DAY) + (t === 100 * STEP ? 5000 : 0);
  const t = feed(e, 0, 288 * 3 + 17, f);
  for (let ago = 0; ago < 288; ago += 7) {
    assert.ok(Math.abs(e.recent(0, ago) - f(t - ago * STEP)) <= 20 / 508 + 1e-6, `ago ${ago}: ${e.recent(0, ago)} vs ${f(t - ago * STEP)}`);
  }
  assert.ok(Number.isNaN(e.recent(0, 288)));
});

test('steps divide the day; rolling origins have a stride co-prime with the day', () => {
  assert.equal(stepFor(60_000), STEP);
  assert.equal(stepFor(7 * 60_000), 10 * 60_000);
  assert.equal(stepFor(H1), H1);
  assert.equal(stepFor(7 * H1), 8 * H1);
  assert.equal(stepFor(Infinity), STEP);
  assert.equal(coprimeStride(1, 288), 1);
  assert.equal(coprimeStride(12, 288), 13);
  assert.equal(coprimeStride(48, 288), 49);
  assert.equal(coprimeStride(288, 288), 289);
});

test('state stays within 624 bytes per series at the default config', () => {
  // 600 before the Float64 anchor (8 B) and Float64 outputs (3 x 4 B more per horizon), 2 B for
  // the buckets since a level shift.
  const e = new ForecastEngine([defaultForecastConfig]);
  assert.ok(e.bytesPerSeries() <= 624, String(e.bytesPerSeries()));
  e.resize(10);
  assert.ok(e.bytesPerSeries() <= 624, String(e.bytesPerSeries()));
});

test('between bucket ends the outputs are the forecast made now for now + horizon', () => {
  const e = engine();
  const slope = 1 / 60_000; // 1 per minute
  let t = 0;
  for (let i = 0; i < 600; i++) {
    t = i * 60_000;
    e.observe(0, t, 5 + slope * t);
  }
  // t is 4 minutes into an open bucket (the first bucket ended on the 8th sample).
  // Bucket means of 1-minute samples sit 2 minutes before their bucket end, so the models lag
  // by about 2; a forecast left at the bucket end would lag by 6.
  const want = 5 + slope * (t + H1);
  assert.ok(Math.abs(e.forecast[0]![0]! - want) < 2.5, `${e.forecast[0]![0]} vs ${want}`);
  assert.ok(e.lower[0]![0]! <= e.forecast[0]![0]! && e.forecast[0]![0]! <= e.upper[0]![0]!);
});
