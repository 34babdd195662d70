import assert from 'node:assert/strict';
import { test } from 'node:test';
import { autoEps, densityOutliers } from '../src/cluster/dbscan.js';
import { PeerEngine } from '../src/cluster/engine.js';
import { kmeans, rng } from '../src/cluster/kmeans.js';
import { gauss } from '../src/cluster/synthetic.js';

test('DBSCAN flags points far from every dense region, and only those', () => {
  const next = rng(9);
  const d = 3;
  const n = 203;
  const x = new Float64Array(n * d);
  for (let i = 0; i < 200; i++) for (let j = 0; j < d; j++) x[i * d + j] = (j === 0 ? (i % 2) * 8 : 0) + gauss(next) * 0.5;
  const planted = [200, 201, 202];
  for (const [k, i] of planted.entries()) for (let j = 0; j < d; j++) x[i * d + j] = j === 1 ? 10 + 10 * k : 4;
  const km = kmeans(x, n, d, 2, rng(1));
  const eps = autoEps(x, n, d, 4, rng(2));
  const score = new Float64Array(n);
  const noise = densityOutliers(x, n, d, eps, 4, km.assign, km.k, score);
  assert.equal(noise, 3);
  for (let i = 0; i < n; i++) {
    if (planted.includes(i)) assert.ok(score[i]! >= 0.9, `planted ${i}: ${score[i]}`);
    else assert.equal(score[i], 0, `member ${i}`);
  }
});

test('a flat-lined replica among oscillating siblings is a density outlier', async () => {
  const e = new PeerEngine();
  const n = 30;
  e.resize(n);
  for (let i = 0; i < n; i++) e.addSeries(i, 'queue_depth', [['job', 'worker']]);
  const next = rng(4);
  const t0 = Date.UTC(2025, 0, 1);
  for (let s = 0; s < 240; s++) {
    for (let i = 0; i < n; i++) {
      const x = i === 0 ? 50 : 50 * (1 + 0.4 * Math.sin((2 * Math.PI * s) / 80)) + gauss(next);
      e.observe(i, t0 + s * 15_000, x, 0);
    }
  }
  await e.recluster();
  const [group] = e.describe().groups;
  const flat = group!.outliers.find((o) => o.series === 0);
  assert.ok(flat && flat.densityScore >= 0.9, JSON.stringify(flat));
  assert.ok(e.peerOutlierScore[0]! >= 0.9);
  for (let i = 1; i < n; i++) assert.ok(e.peerOutlierScore[i]! < 0.5, `sibling ${i}`);
});
