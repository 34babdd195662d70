import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerEngine } from '../src/cluster/engine.js';
import { gauss } from '../src/cluster/synthetic.js';
import { rng } from '../src/cluster/kmeans.js';

const STEP = 15_000;
const T0 = Date.UTC(2025, 0, 1);

test('one of 20 siblings doubling its latency is a peer outlier within 10 samples, siblings stay under 0.5', async () => {
  const e = new PeerEngine();
  const n = 20;
  e.resize(n);
  for (let i = 0; i < n; i++) e.addSeries(i, 'http_request_duration_seconds', new Map([['job', 'api'], ['instance', `pod-${i}`]]));
  const next = rng(42);
  const bad = 7;
  const changeAt = 240; // one hour of normal behaviour first
  let reached = -1;
  let siblingMax = 0;
  for (let s = 0; s < changeAt + 40; s++) {
    const t = T0 + s * STEP;
    const load = 1 + 0.3 * Math.sin((2 * Math.PI * s) / 120); // shared by all siblings
    for (let i = 0; i < n; i++) {
      let x = 0.1 * load * (1 + 0.05 * gauss(next));
      if (i === bad && s >= changeAt) x *= 2;
      e.observe(i, t, x, 0);
    }
    if (s % 4 === 3) await e.recluster(); // every minute, as in production
    for (let i = 0; i < n; i++) if (i !== bad) siblingMax = Math.max(siblingMax, e.peerOutlierScore[i]!);
    if (s < changeAt) assert.ok(e.peerOutlierScore[bad]! < 0.5, `before the change at ${s}`);
    if (s >= changeAt && reached < 0 && e.peerOutlierScore[bad]! >= 0.9) reached = s - changeAt + 1;
  }
  assert.ok(reached > 0 && reached <= 10, `reached 0.9 after ${reached} samples`);
  assert.ok(e.peerOutlierScore[bad]! >= 0.9);
  assert.ok(siblingMax < 0.5, `sibling max ${siblingMax}`);
  const report = e.describe();
  assert.deepEqual(
    report.groups[0]!.outliers.map((o) => o.series),
    [bad],
  );
});

test('group anomaly ratio follows the anomalous flags; groups come and go with their series', () => {
  const e = new PeerEngine({ group_by: ['job'] });
  e.resize(16);
  for (let i = 0; i < 10; i++) e.addSeries(i, 'up', [['job', 'a'], ['instance', String(i)]]);
  for (let i = 10; i < 12; i++) e.addSeries(i, 'up', [['job', 'b']]);
  e.addSeries(12, 'other', [['instance', 'x']]);
  for (let i = 0; i < 13; i++) e.observe(i, T0, 1, i < 3 ? 1 : 0);
  const ratio = (metric: string, job?: string) =>
    [...e.groups()].find((g) => g.metric === metric && (g.labels.find(([k]) => k === 'job')?.[1] === job))!.anomalyRatio;
  assert.equal(ratio('up', 'a'), 0.3);
  assert.equal(ratio('up', 'b'), 0);
  assert.equal(ratio('other', undefined), 0);
  assert.deepEqual([...e.groups()].find((g) => g.metric === 'other')!.labels, []);
  e.observe(0, T0 + STEP, 1, 0);
  assert.equal(ratio('up', 'a'), 0.2);
  e.removeSeries(1); // anomalous
  assert.equal(ratio('up', 'a'), 1 / 9);
  e.removeSeries(10);
  e.removeSeries(11);
  assert.equal([...e.groups()].filter((g) => g.metric === 'up').length, 1);
  // a reused id starts clean in its new group
  e.reset(11);
  e.addSeries(11, 'up', [['job', 'a']]);
  assert.equal(e.clusterId[11], -1);
  assert.equal(e.peerOutlierScore[11], 0);
  assert.equal(ratio('up', 'a'), 1 / 10);
});

test('describe filters groups by a predicate and maps members', async () => {
  const e = new PeerEngine();
  e.resize(8);
  for (let i = 0; i < 8; i++) e.addSeries(i, i < 4 ? 'a' : 'b', [['job', 'j']]);
  for (let s = 0; s < 150; s++) for (let i = 0; i < 8; i++) e.observe(i, T0 + s * STEP, 1 + (i % 2) * 0.01, 0);
  await e.recluster();
  const report = e.describe((metric) => metric === 'b', (id) => `series-${id}`);
  assert.equal(report.groups.length, 1);
  const g = report.groups[0]!;
  assert.equal(g.metric, 'b');
  assert.deepEqual(g.labels, { job: 'j' });
  assert.equal(g.clusters.reduce((s, c) => s + c.size, 0), 4);
  assert.deepEqual(g.clusters.flatMap((c) => c.members).sort(), ['series-4', 'series-5', 'series-6', 'series-7']);
  assert.equal(g.clusters[0]!.centroid.shape.length, 32);
  JSON.stringify(report);
});

test('growing the engine keeps every series window: the same clusters as an engine sized for them from the start', async () => {
  const run = async (initial: number): Promise<unknown> => {
    const e = new PeerEngine();
    e.resize(initial);
    const next = rng(7);
    const n = 24;
    for (let s = 0; s < 200; s++) {
      if (s === 0) for (let i = 0; i < n / 2; i++) e.addSeries(i, 'm', [['job', 'j'], ['i', String(i)]]);
      // The second half arrives later, growing an engine started small.
      if (s === 60) for (let i = n / 2; i < n; i++) e.addSeries(i, 'm', [['job', 'j'], ['i', String(i)]]);
      const members = s < 60 ? n / 2 : n;
      for (let i = 0; i < members; i++) {
        const shape = i % 3 === 0 ? Math.sin((2 * Math.PI * s) / 40) : i % 3 === 1 ? s / 200 : 0;
        e.observe(i, T0 + s * STEP, 10 + 3 * shape + 0.05 * gauss(next), 0);
      }
    }
    await e.recluster();
    const g = e.describe().groups[0]!;
    return { clusters: g.clusters, outliers: g.outliers, scores: Array.from(e.peerOutlierScore.subarray(0, n)) };
  };
  const grown = await run(4);
  assert.deepEqual(grown, await run(4096));
  assert.ok(((grown as { clusters: unknown[] }).clusters.length) >= 2);
});

test('a group left with fewer than three members stops scoring its members', () => {
  const e = new PeerEngine();
  e.resize(4);
  for (let i = 0; i < 3; i++) e.addSeries(i, 'm', [['job', 'j'], ['i', String(i)]]);
  let t = T0;
  for (let s = 0; s < 20; s++, t += STEP) for (let i = 0; i < 3; i++) e.observe(i, t, i === 2 ? 10 + s * 0.01 : 1 + i * 0.01, 0);
  const before = e.peerOutlierScore[2]!;
  assert.ok(before > 0.5, `outlier among three: ${before}`);
  e.removeSeries(0);
  // Two members left: no median to judge them by, their scores stay where they were.
  for (let s = 0; s < 20; s++, t += STEP) for (let i = 1; i < 3; i++) e.observe(i, t, i === 2 ? 1.01 : 1, 0);
  assert.equal(e.peerOutlierScore[2], before);
});
