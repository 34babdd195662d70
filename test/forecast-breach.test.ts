import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPipeline } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';
import { SelfMetrics } from '../src/expose/self-metrics.js';
import { forecastSchema, type ForecastConfigInput } from '../src/forecast/config.js';
import { ForecastEngine } from '../src/forecast/engine.js';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

/** One series fed 1-minute samples of f(hours since start) for `hours`; returns the engine. */
function run(cfg: ForecastConfigInput, hours: number, f: (h: number) => number): ForecastEngine {
  const e = new ForecastEngine([forecastSchema.parse({ models: { lstm: false }, ...cfg })]);
  e.resize(1);
  e.reset(0);
  for (let i = 0; i <= hours * 60; i++) e.observe(0, T0 + i * MIN, f(i / 60));
  return e;
}

/** disk_used_ratio rising 0.5 -> 0.86 over 5 hours: 0.072 an hour, 0.9 reached 2000 s later. */
const disk = (h: number): number => 0.5 + 0.072 * h;

test('breach: a trained short horizon counts while a longer one is still training', () => {
  const both = run({ horizons: ['1h', '24h'], breach_thresholds: [0.9] }, 5, disk);
  const short = run({ horizons: ['1h'], breach_thresholds: [0.9] }, 5, disk);
  // The 24h choice takes 3 days to train; meanwhile it serves the 1h choice, which sees the trend
  // (the flat default would hide it).
  assert.equal(both.chosenModel(0, 0), 'linear');
  assert.equal(both.chosenModel(0, 1), 'linear');
  assert.ok(both.forecast[1]![0]! > 2, `24h forecast ${both.forecast[1]![0]}`);
  assert.ok(both.forecast[0]![0]! > 0.9, `1h forecast ${both.forecast[0]![0]}`);
  const got = both.breachSeconds[0]![0]!;
  assert.ok(Number.isFinite(got) && got > 1000 && got < 3000, `breach ${got} (true 2000 s)`);
  assert.ok(Math.abs(got - short.breachSeconds[0]![0]!) < 1, `${got} vs 1h only ${short.breachSeconds[0]![0]}`);
});

test('breach: a series at or past the threshold is breached now, rising or not', () => {
  // Rising past 0.9 (at 0.95 now) and still rising: breached, the alert must not clear.
  const past = run({ horizons: ['1h'], breach_thresholds: [0.9, 1, 1.2] }, 6.25, disk);
  assert.deepEqual(past.thresholds, [0.9, 1, 1.2]);
  assert.equal(past.breachSeconds[0]![0], 0);
  // Higher limits are still ahead: 1.0 within the hour, 1.2 beyond it.
  const to1 = past.breachSeconds[1]![0]!;
  assert.ok(to1 > 2500 * 0.7 && to1 < 2500 * 1.3, `1.0 in ${to1} s (true 2500 s)`);
  assert.equal(past.breachSeconds[2]![0], Infinity);
});

test('breach: a series coming down is never forecast to breach the limit it goes under', () => {
  // 1.25 -> 0.95 over 5 h, falling 0.06 an hour: it would cross 0.9 downwards in about 50 minutes.
  // Past 0.9 it is breached now (0), not "forecast to reach 0.9" in 3500 s; under 1.0 it moves away.
  const fall = (h: number): number => 1.25 - 0.06 * h;
  const over = run({ horizons: ['1h'], breach_thresholds: [0.9, 1, 0.5] }, 5, fall);
  const at = (th: number): number => over.breachSeconds[over.thresholds.indexOf(th)]![0]!;
  assert.equal(at(0.9), 0);
  assert.equal(at(1), Infinity);
  // A limit further below is breached too (the series is past it), never a forecast crossing.
  assert.equal(at(0.5), 0);
  // Once under 0.9 and still falling: moving away, nothing to breach.
  const under = run({ horizons: ['1h'], breach_thresholds: [0.9] }, 7, fall);
  assert.equal(under.breachSeconds[0]![0], Infinity);
});

test('breach floors: a falling series is forecast to reach its floor, and past it is breached now', () => {
  // Free bytes falling 500 -> 140 over 5 hours (72 an hour): 0 reached about 7000 s later, 100 in 2000 s.
  const free = (h: number): number => 500 - 72 * h;
  const e = run({ horizons: ['1h', '24h'], breach_floors: [0, 100, 200] }, 5, free);
  assert.deepEqual(e.floors, [0, 100, 200]);
  assert.deepEqual(e.thresholds, []);
  const at = (floor: number): number => e.breachSeconds[e.thresholds.length + e.floors.indexOf(floor)]![0]!;
  // Below 200 already: breached now.
  assert.equal(at(200), 0);
  const to100 = at(100);
  assert.ok(to100 > 2000 * 0.7 && to100 < 2000 * 1.3, `100 in ${to100} s (true 2000 s)`);
  // 0 lies past the 1h path while the 24h choice trains on the 1h's (linear): about 7000 s.
  const to0 = at(0);
  assert.ok(to0 > 7000 * 0.7 && to0 < 7000 * 1.3, `0 in ${to0} s (true 7000 s)`);
  // A threshold and a floor at the same value are different limits: rising to 300 never happens.
  const both = run({ horizons: ['1h'], breach_thresholds: [300], breach_floors: [300] }, 5, free);
  assert.equal(both.breachSeconds[0]![0], Infinity);
  assert.equal(both.breachSeconds[1]![0], 0);
  // Rising away from a floor: never breached.
  const up = run({ horizons: ['1h'], breach_floors: [100] }, 5, (h) => 140 + 72 * h);
  assert.equal(up.breachSeconds[0]![0], Infinity);
});

test('model usage counts every series with a forecast, on the default model too', () => {
  const a = forecastSchema.parse({ horizons: ['1h', '24h'], models: { lstm: false } });
  const b = forecastSchema.parse({ horizons: ['1h'], models: { lstm: false } });
  const off = forecastSchema.parse({ enabled: false });
  const e = new ForecastEngine([a, b, off]);
  e.resize(8);
  const profiles = [0, 0, 1, 2];
  for (let id = 0; id < profiles.length; id++) {
    e.reset(id);
    e.setProfile(id, profiles[id]!);
  }
  const sum = (h: string): number => Object.values(e.modelUsageByHorizon()[h]!).reduce((x, y) => x + y, 0);
  assert.equal(sum('1h'), 0);
  // Half an hour: forecasts are published, no horizon evaluated yet (every choice is the default).
  for (let i = 0; i <= 30; i++) for (let id = 0; id < profiles.length; id++) e.observe(id, T0 + i * MIN, 10 + id + (i % 3));
  assert.ok(Number.isFinite(e.forecast[0]![0]!) && Number.isFinite(e.forecast[1]![0]!) && Number.isFinite(e.forecast[0]![2]!));
  assert.equal(e.chosenModel(0, 0), 'ses');
  assert.deepEqual(e.modelUsageByHorizon()['1h'], { naive: 0, ses: 3, seasonal_naive: 0, linear: 0, holt: 0, holt_winters: 0, lstm: 0 });
  assert.equal(sum('1d'), 2);
  assert.equal(e.modelUsage().ses, 5);
  // Later, after choices left the default, the counts still add up to the series forecast.
  for (let i = 31; i <= 5 * 60; i++) for (let id = 0; id < profiles.length; id++) e.observe(id, T0 + i * MIN, 10 + id + (i % 3));
  assert.equal(sum('1h'), 3);
  assert.equal(sum('1d'), 2);
  // A removed series leaves the counts at once; its id reused starts again on the default.
  e.remove(1);
  assert.ok(Number.isNaN(e.forecast[0]![1]!));
  assert.equal(sum('1h'), 2);
  assert.equal(sum('1d'), 1);
  e.reset(1);
  assert.equal(sum('1h'), 2);
  for (let i = 0; i <= 10; i++) e.observe(1, T0 + (400 + i) * MIN, 3);
  assert.equal(sum('1h'), 3);
});

test('augur_forecast_model_series sums to the series forecast: removed series leave it', async () => {
  const pipeline = createPipeline(defaultConfig());
  const metrics = new SelfMetrics(pipeline, 1000);
  try {
    const perHorizon = async (): Promise<Map<string, number>> => {
      const m = await metrics.register.getSingleMetric('augur_forecast_model_series')!.get();
      const out = new Map<string, number>();
      for (const v of m.values) out.set(String(v.labels.horizon), (out.get(String(v.labels.horizon)) ?? 0) + v.value);
      return out;
    };
    const reg = pipeline.registry;
    const ids = [1, 2, 3].map((k) => reg.create(Math.imul(k, 2654435761) >>> 0, k, 20, [['__name__', 'disk_used_ratio'], ['job', 'j'], ['i', String(k)]], 'disk_used_ratio', -1, 0));
    // Three hours of 1-minute samples: the 1h choices have been evaluated (and some left the default).
    for (let i = 0; i <= 180; i++) for (const id of ids) pipeline.observe(id, T0 + i * MIN, 0.5 + 0.001 * i + 0.01 * id * (i % 2), 0);
    assert.deepEqual([...(await perHorizon())], [['1h', 3]]);
    reg.remove(ids[0]!, 'stale');
    reg.remove(ids[1]!, 'evicted');
    assert.equal(reg.active, 1);
    assert.deepEqual([...(await perHorizon())], [['1h', 1]]);
    reg.remove(ids[2]!, 'stale');
    assert.deepEqual([...(await perHorizon())], [['1h', 0]]);
  } finally {
    metrics.stop();
  }
});

test('breach: follows each sample, not the 5-minute bucket grid', () => {
  // 5-second samples of a ramp reaching 0.9 at 2 h, with a ripple that takes it across 0.9 and
  // back several times before it stays above.
  const e = new ForecastEngine([forecastSchema.parse({ models: { lstm: false }, horizons: ['5m', '1h'], breach_thresholds: [0.9] })]);
  e.resize(1);
  e.reset(0);
  const f = (s: number): number => 0.5 + (0.4 * s) / 7200 + 0.01 * Math.sin(s / 40);
  let crossings = 0;
  let above = false;
  let prev = NaN;
  let prevS = 0;
  let worst = 0;
  for (let s = 0; s <= 2.2 * 3600; s += 5) {
    const x = f(s);
    e.observe(0, T0 + s * 1000, x);
    if (s < 60) continue;
    const b = e.breachSeconds[0]![0]!;
    // Breached exactly while the latest sample is at or above the limit, from the first sample on.
    assert.equal(b === 0, x >= 0.9, `at ${s} s: ${x} read ${b}`);
    if (x >= 0.9 !== above) crossings++;
    above = x >= 0.9;
    // While a finite time to breach is forecast, it counts down with the clock between bucket ends
    // (refreshed every quarter bucket, 75 s here).
    if (Number.isFinite(b) && b > 0 && Number.isFinite(prev) && prev > 0 && s - prevS >= 60) {
      worst = Math.max(worst, Math.abs(b + (s - prevS) - prev));
      prev = b;
      prevS = s;
    } else if (!(Number.isFinite(prev) && prev > 0) || !(Number.isFinite(b) && b > 0)) {
      prev = b;
      prevS = s;
    }
  }
  assert.ok(crossings >= 3, `${crossings} crossings`);
  assert.ok(worst < 120, `time to breach off the clock by ${worst} s`);
});
