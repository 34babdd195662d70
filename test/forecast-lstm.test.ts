import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forecastSchema } from '../src/forecast/config.js';
import { ForecastEngine } from '../src/forecast/engine.js';
import { LstmRunner } from '../src/forecast/lstm-runner.js';

/** An engine of `n` series at `horizons`, series id in group `groupOf(id)`. */
function engine(horizons: string[], n: number, groupOf: (id: number) => number = () => 0): ForecastEngine {
  const e = new ForecastEngine([forecastSchema.parse({ horizons })]);
  e.resize(n);
  for (let id = 0; id < n; id++) {
    e.reset(id);
    e.setGroup(id, groupOf(id));
  }
  return e;
}

/** `buckets` 5-minute buckets of a sine per series, background rounds every `every` buckets. */
async function feed(e: ForecastEngine, n: number, buckets: number, every: number): Promise<void> {
  for (let i = 0; i < buckets; i++) {
    for (let id = 0; id < n; id++) e.observe(id, i * 300_000, 10 + id + 5 * Math.sin((i + id) / 6));
    if (i % every === every - 1) await e.flushBackground();
  }
}

test('LSTM trains in a worker per group and publishes forecasts', { timeout: 120_000 }, async () => {
  const S = 64;
  const e = engine(['5m', '1h'], S);
  await e.start();
  try {
    await feed(e, S, 16 * 24, 12);
    assert.equal(e.trainingErrors, 0);
    assert.ok(e.trainingRuns >= 1, `runs ${e.trainingRuns}`);
    assert.ok(e.lastTrainingSeconds > 0);
    assert.ok(Number.isFinite(e.lstmChange[1]![0]!));
    assert.ok(e.lstm!.predictedWindows >= S && e.lstm!.predictSeconds > 0);
  } finally {
    await e.stop();
  }
});

test('LSTM duty-cycle cap: a round stops at its worker-time budget and an overrun is paid back', { timeout: 120_000 }, async () => {
  const S = 64;
  const e = engine(['5m'], S);
  // A budget far below one training run: the first round trains, then it and the rounds after
  // it do no more work until the overrun is paid back.
  const runner = new LstmRunner(e, 1e-6);
  e.lstm = runner;
  await runner.start();
  try {
    await feed(e, S, 16 * 12, 4);
    assert.equal(e.trainingErrors, 0);
    assert.equal(e.trainingRuns, 1);
    assert.equal(runner.predictedWindows, 0);
    assert.ok(Number.isNaN(e.lstmChange[0]![0]!));
    await e.flushBackground();
    assert.equal(runner.lastRoundSeconds, 0);
    assert.equal(runner.lastRoundWindows, 0);
  } finally {
    await e.stop();
  }
});

test('LSTM training pairs take memory as they arrive, within a budget past what a group needs to train', { timeout: 120_000 }, async () => {
  // 64 series in one group, and 100 more each alone in its group.
  const S = 164;
  const e = engine(['5m'], S, (id) => (id < 64 ? 0 : id));
  const runner = new LstmRunner(e, undefined, 300);
  e.lstm = runner;
  await runner.start();
  try {
    await feed(e, S, 16 * 12, 4);
    assert.equal(e.trainingErrors, 0);
    assert.ok(e.trainingRuns >= 1, 'the big group still trains');
    // The big group grew to the first size that can train (256 pairs) but no further (300 allowed
    // in all); each single-series group, with one pair a round (some 40 by now), holds 64 slots,
    // not the 1,000 every group took before.
    assert.equal(runner.pairsAllocated, 256 + 100 * 64);
  } finally {
    await e.stop();
  }
});

test('LSTM takes a window once per bucket, and predicts a series again only when its window changed or the model retrained', { timeout: 120_000 }, async () => {
  const S = 4;
  const e = engine(['5m'], S);
  // Sample time: no timer and no time budget, as in a backtest.
  await e.start(true);
  const runner = e.lstm!;
  const group = () => (runner as unknown as { groups: Map<number, { count: number; pending: { count: number } }> }).groups.get(0)!;
  try {
    await feed(e, S, 120, 1);
    assert.equal(e.trainingErrors, 0);
    assert.ok(e.trainingRuns >= 1, `runs ${e.trainingRuns}`);
    const held = group().count + group().pending.count;
    const trainings = e.trainingRuns;
    // Rounds with no new bucket (serve's timer runs every minute; buckets close less often).
    for (let k = 0; k < 5; k++) {
      await e.flushBackground();
      assert.equal(runner.lastRoundWindows, 0, 'nothing predicted again');
    }
    assert.equal(group().count + group().pending.count, held, 'no window taken twice');
    assert.equal(e.trainingRuns, trainings);
    // A new bucket for every series: each is predicted once, and one window each is taken.
    for (let id = 0; id < S; id++) e.observe(id, 120 * 300_000, 10 + id);
    for (let id = 0; id < S; id++) e.observe(id, 121 * 300_000, 10 + id);
    await e.flushBackground();
    assert.equal(runner.lastRoundWindows, S);
  } finally {
    await e.stop();
  }
});

test('LSTM training is reproducible: the same data gives the same predictions (seeded weights and shuffle)', { timeout: 120_000 }, async () => {
  const S = 4;
  const runs: Float32Array[] = [];
  for (let run = 0; run < 2; run++) {
    const e = engine(['5m', '1h'], S);
    await e.start(true);
    try {
      await feed(e, S, 160, 1);
      assert.ok(e.trainingRuns >= 1, `runs ${e.trainingRuns}`);
      runs.push(Float32Array.from([...e.lstmChange[0]!.subarray(0, S), ...e.lstmChange[1]!.subarray(0, S)]));
    } finally {
      await e.stop();
    }
  }
  assert.ok(runs[0]!.every((v) => Number.isFinite(v)), `predictions ${runs[0]!.join(' ')}`);
  assert.deepEqual(runs[1], runs[0]);
});
