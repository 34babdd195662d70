import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DetectorOutput } from '../src/detect/detector.js';
import { DriftDetector } from '../src/detect/drift.js';
import { FEATURES, trainForest } from '../src/detect/forest.js';
import { HoltWinters } from '../src/detect/holt-winters.js';
import { Likelihood } from '../src/detect/likelihood.js';
import { logUpperTail, upperTailInverse } from '../src/detect/normal.js';
import { Recurrence } from '../src/detect/recurrence.js';
import { RobustLevel } from '../src/detect/robust.js';
import { DAY_MS, Seasonal, SeasonMode } from '../src/detect/seasonal.js';
import { resizeNow } from '../src/series/component.js';
import { gaussian, STEP_MS, T0 } from './detect-helpers.js';

test('normal tail helpers are accurate and finite far out', () => {
  assert.ok(Math.abs(Math.exp(logUpperTail(0)) - 0.5) < 1e-6);
  assert.ok(Math.abs(Math.exp(logUpperTail(1.959964)) - 0.025) < 1e-6);
  assert.ok(Math.abs(Math.exp(logUpperTail(-1.959964)) - 0.975) < 1e-6);
  assert.ok(Number.isFinite(logUpperTail(60)) && logUpperTail(60) < -1700);
  assert.ok(Math.abs(upperTailInverse(0.025) - 1.959964) < 1e-5);
});

test('robust level: a spike scores high and barely moves the level', () => {
  const d = new RobustLevel();
  resizeNow(d, 0, 2);
  d.reset(1);
  const g = gaussian(1);
  const out = new DetectorOutput();
  for (let i = 0; i < 300; i++) d.update(1, T0 + i * STEP_MS, 100 + g(), out);
  assert.ok(out.raw < 4);
  const before = d.level[1]!;
  d.update(1, T0 + 300 * STEP_MS, 150, out);
  assert.ok(out.raw > 20, `spike raw ${out.raw}`);
  assert.ok(Math.abs(d.level[1]! - before) < 0.2, 'level clipped');
  assert.ok(Math.abs(d.sigma(1) - 1) < 0.3, `sigma ${d.sigma(1)}`);
});

test('seasonal: finds a daily pattern, not one in noise, and scores a seasonal break', () => {
  const d = new Seasonal();
  resizeNow(d, 0, 2);
  d.reset(0);
  d.reset(1);
  const g = gaussian(2);
  const out = new DetectorOutput();
  const perDay = DAY_MS / STEP_MS;
  const daily = (t: number) => 50 + 30 * Math.sin((2 * Math.PI * (t % DAY_MS)) / DAY_MS);
  let t = T0;
  for (let i = 0; i < 4 * perDay; i++, t += STEP_MS) {
    d.update(0, t, daily(t) + g(), out);
    d.update(1, t, 50 + g(), new DetectorOutput());
  }
  assert.equal(d.mode[0], SeasonMode.Profile);
  assert.equal(d.mode[1], SeasonMode.None);
  d.update(0, t, daily(t) + g(), out);
  assert.ok(out.raw < 5, `normal raw ${out.raw}`);
  assert.ok(Math.abs(out.expected - daily(t)) < 5);
  // The peak does not come: value stays at the mean where the profile expects +30.
  const peak = T0 + 4 * DAY_MS + DAY_MS / 4;
  d.update(0, peak, 50, out);
  assert.ok(out.raw > 8, `break raw ${out.raw}`);
});

test('seasonal: growing the detector keeps every series profile (bins and weekdays are rows per phase)', () => {
  const run = (initial: number): number[] => {
    const d = new Seasonal();
    resizeNow(d, 0, initial);
    for (let id = 0; id < initial; id++) d.reset(id);
    const g = gaussian(3);
    const out = new DetectorOutput();
    const got: number[] = [];
    let t = T0;
    let n = 2;
    for (let i = 0; i < 10 * DAY_MS / (4 * STEP_MS); i++, t += 4 * STEP_MS) {
      // New series join over time, growing a detector started small.
      if (i % 400 === 0 && n < 40) {
        if (n + 8 > initial) resizeNow(d, d.capacity, n + 8);
        for (let id = n; id < n + 8; id++) d.reset(id);
        n += 8;
      }
      for (let id = 0; id < n; id++) {
        const weekday = Math.floor(t / DAY_MS) % 7 === 3 ? 20 : 0;
        d.update(id, t, 100 + id + (10 + id) * Math.sin((2 * Math.PI * (t % DAY_MS)) / DAY_MS) + weekday + g(), out);
        if (id % 5 === 0) got.push(out.expected, out.raw);
      }
    }
    for (let id = 0; id < n; id++) got.push(d.mode[id]!);
    return got;
  };
  const grown = run(2);
  assert.deepEqual(grown, run(64));
  assert.ok(grown.slice(-40).some((m) => m !== SeasonMode.None));
});

test('holt-winters: one-step error flags a level shift at once and then follows it', () => {
  const d = new HoltWinters();
  resizeNow(d, 0, 1);
  d.reset(0);
  const g = gaussian(3);
  const out = new DetectorOutput();
  for (let i = 0; i < 200; i++) d.update(0, i, 10 + g(), out);
  d.update(0, 200, 30 + g(), out);
  assert.ok(out.raw > 8, `shift raw ${out.raw}`);
  for (let i = 201; i < 260; i++) d.update(0, i, 30 + g(), out);
  assert.ok(out.raw < 4, `after shift raw ${out.raw}`);
  assert.ok(Math.abs(out.expected - 30) < 2);
});

test('drift: page-hinkley confirms a lasting shift with its size, ignores a single spike', () => {
  const d = new DriftDetector();
  resizeNow(d, 0, 1);
  d.reset(0);
  const g = gaussian(4);
  for (let i = 0; i < 300; i++) assert.equal(d.update(0, g(), 1), 0);
  assert.equal(d.update(0, 100, 1), 0, 'one spike alone is not a drift');
  for (let i = 0; i < 50; i++) assert.equal(d.update(0, g(), 1), 0);
  let shift = 0;
  let k = 0;
  for (; k < 100 && shift === 0; k++) shift = d.update(0, 6 + g(), 1);
  assert.ok(shift > 4 && shift < 8, `shift ${shift}`);
  assert.ok(k < 20, `confirmed after ${k} samples`);
});

test('drift: residuals that overflow float32 sums give no shift, never an infinite one', () => {
  const d = new DriftDetector();
  resizeNow(d, 0, 1);
  d.reset(0);
  let shift = 0;
  for (let k = 0; k < 100 && shift === 0; k++) shift = d.update(0, 3e38, 1);
  assert.equal(d.update(0, 3e38, 1), 0);
  assert.ok(Number.isFinite(shift), `shift ${shift}`);
});

test('variance change raises the calibrated likelihood', () => {
  const lik = new Likelihood();
  resizeNow(lik, 0, 1);
  lik.reset(0);
  const g = gaussian(5);
  for (let i = 0; i < 500; i++) lik.update(0, Math.abs(g()));
  let maxZ = 0;
  for (let i = 0; i < 20; i++) { lik.update(0, Math.abs(5 * g())); maxZ = Math.max(maxZ, lik.z); }
  assert.ok(maxZ > 4, `z ${maxZ}`);
});

test('isolation forest: an outlying row scores far above ordinary rows', () => {
  const g = gaussian(6);
  const rows = 256;
  const data = new Float32Array(rows * FEATURES);
  for (let i = 0; i < data.length; i++) data[i] = g();
  const f = trainForest(data, rows, 42);
  const row = new Float64Array(FEATURES);
  for (let k = 0; k < FEATURES; k++) row[k] = 0.1;
  const normal = f.score(row);
  // A real anomaly moves several features together (level z, one-step z, first difference).
  row[0] = 8;
  row[1] = 8;
  row[3] = 8;
  const outlier = f.score(row);
  assert.ok(outlier > normal + 0.1, `outlier ${outlier} normal ${normal}`);
  assert.ok((outlier - f.mean) / f.spread > 2);
  // A row in the dense core scores at most about the training mean.
  for (let k = 0; k < FEATURES; k++) row[k] = 0;
  assert.ok((f.score(row) - f.mean) / f.spread < 0.5);
  // Deterministic for a seed.
  const f2 = trainForest(data, rows, 42);
  assert.deepEqual(f2.split, f.split);
});

test('recurrence: an event one interval after a same-interval pair is recurring', () => {
  const r = new Recurrence();
  resizeNow(r, 0, 1);
  r.reset(0);
  const every = 8 * 3_600_000;
  let recurring = 0;
  for (let k = 0; k < 3; k++) {
    recurring = r.update(0, T0 + k * every, 6, STEP_MS);
    r.update(0, T0 + k * every + STEP_MS, 0, STEP_MS);
  }
  assert.equal(recurring, 1);
  r.reset(0);
  assert.equal(r.update(0, T0, 6, STEP_MS), 0);
  // A nightly job: one event a day at the same time is recurring from the second day on.
  r.reset(0);
  const day = 86_400_000;
  assert.equal(r.update(0, T0 + 3 * 3_600_000, 6, STEP_MS), 0);
  r.update(0, T0 + 3 * 3_600_000 + STEP_MS, 0, STEP_MS);
  assert.equal(r.update(0, T0 + day + 3 * 3_600_000 + STEP_MS, 6, STEP_MS), 1);
  r.update(0, T0 + day + 3 * 3_600_000 + 2 * STEP_MS, 0, STEP_MS);
  // ...but not at another time of day.
  assert.equal(r.update(0, T0 + day + 9 * 3_600_000, 6, STEP_MS), 0);
});
