import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forecastSchema } from '../src/forecast/config.js';
import { ForecastEngine } from '../src/forecast/engine.js';
import { mulberry32 as rng } from '../src/util/prng.js';

const STEP = 300_000;

test('80% intervals cover about 80% of outcomes on noise', () => {
  const e = new ForecastEngine([forecastSchema.parse({ models: { lstm: false } })]);
  const S = 40;
  const N = 1500;
  e.resize(S);
  const r = rng(7);
  const g = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const xs = Array.from({ length: S }, () => new Float64Array(N));
  const lo = Array.from({ length: S }, () => new Float64Array(N));
  const hi = Array.from({ length: S }, () => new Float64Array(N));
  for (let id = 0; id < S; id++) e.reset(id);
  for (let i = 0; i < N; i++) {
    for (let id = 0; id < S; id++) {
      const x = 100 + id + (1 + id / 10) * g();
      xs[id]![i] = x;
      e.observe(id, i * STEP, x);
      lo[id]![i] = e.lower[0]![id]!;
      hi[id]![i] = e.upper[0]![id]!;
    }
  }
  let n = 0;
  let c = 0;
  for (let id = 0; id < S; id++) {
    for (let i = 300; i + 12 < N; i++) {
      const y = xs[id]![i + 12]!;
      n++;
      if (y >= lo[id]![i]! && y <= hi[id]![i]!) c++;
    }
  }
  const cov = c / n;
  assert.ok(cov > 0.74 && cov < 0.86, `coverage ${cov}`);
});

test('breach seconds on a linear ramp', () => {
  const cfg = forecastSchema.parse({ horizons: ['1h', '4h'], breach_thresholds: [0.9, 10], models: { lstm: false } });
  const e = new ForecastEngine([cfg]);
  e.resize(1);
  e.reset(0);
  const perSec = 0.15 / 3600;
  let t = 0;
  for (let i = 0; i < 600; i++) {
    t = i * STEP;
    e.observe(0, t, -7 + perSec * (t / 1000));
  }
  const x = -7 + perSec * (t / 1000);
  const want = (0.9 - x) / perSec;
  assert.deepEqual(e.thresholds, [0.9, 10]);
  assert.ok(want > 0 && want < 4 * 3600, String(want));
  const got = e.breachSeconds[0]![0]!;
  assert.ok(Math.abs(got - want) < 0.05 * want + 60, `breach ${got} vs ${want}`);
  assert.equal(e.breachSeconds[1]![0], Infinity);
});

test('NaN never leaks into state: outputs stay NaN until known, then finite', () => {
  const e = new ForecastEngine([forecastSchema.parse({ breach_thresholds: [5], models: { lstm: false } })]);
  e.resize(2);
  e.reset(0);
  e.reset(1);
  assert.ok(Number.isNaN(e.forecast[0]![0]!));
  assert.ok(Number.isNaN(e.lower[0]![0]!));
  assert.deepEqual(e.path(0, 0, 4), []);
  for (let i = 0; i < 400; i++) e.observe(0, i * STEP, i % 2 === 0 ? 1 : 2);
  assert.ok(Number.isFinite(e.forecast[0]![0]!));
  assert.ok(Number.isFinite(e.lower[0]![0]!) && Number.isFinite(e.upper[0]![0]!));
  assert.ok(e.lower[0]![0]! <= e.forecast[0]![0]! && e.forecast[0]![0]! <= e.upper[0]![0]!);
  assert.ok(Number.isNaN(e.forecast[0]![1]!));
  const p = e.path(0, 0, 4);
  assert.equal(p.length, 4);
  assert.equal(p[0]!.intervals.length, 2);
  for (const pt of p) assert.ok(Number.isFinite(pt.value) && pt.lower <= pt.upper && pt.intervals[1]!.lower <= pt.lower);
  // Reuse of an id starts clean.
  e.reset(0);
  assert.ok(Number.isNaN(e.forecast[0]![0]!));
  e.resize(100);
  assert.ok(Number.isFinite(e.breachSeconds[0]![0]!) || Number.isNaN(e.breachSeconds[0]![0]!));
  assert.ok(Number.isNaN(e.forecast[0]![50]!));
});

test('profiles: horizons per profile, disabled profile, horizon labels', () => {
  const a = forecastSchema.parse({ horizons: ['1h'], models: { lstm: false } });
  const b = forecastSchema.parse({ horizons: ['5m', '1d'], models: { lstm: false } });
  const c = forecastSchema.parse({ enabled: false });
  const e = new ForecastEngine([a, b, c]);
  assert.deepEqual(e.horizonLabels, ['5m', '1h', '1d']);
  e.resize(3);
  for (let id = 0; id < 3; id++) {
    e.reset(id);
    e.setProfile(id, id);
    for (let i = 0; i < 100; i++) e.observe(id, i * STEP, id + i);
  }
  assert.ok(Number.isNaN(e.forecast[0]![0]!) && Number.isFinite(e.forecast[1]![0]!));
  assert.ok(Number.isFinite(e.forecast[0]![1]!) && Number.isNaN(e.forecast[1]![1]!) && Number.isFinite(e.forecast[2]![1]!));
  assert.ok(Number.isNaN(e.forecast[1]![2]!));
  assert.ok(e.bytesPerSeries() > 0);
});
