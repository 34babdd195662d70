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
