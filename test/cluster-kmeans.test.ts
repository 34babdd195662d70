import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerEngine } from '../src/cluster/engine.js';
import { chooseK, rng } from '../src/cluster/kmeans.js';
import { gauss } from '../src/cluster/synthetic.js';
import { addGroup, adjustedRandIndex, feed } from './cluster-helpers.js';

test('adjusted Rand index >= 0.9 on generated peer groups with known structure', async () => {
  const e = new PeerEngine();
  const specs = [
    { n: 20, k: 3 },
    { n: 60, k: 2 },
    { n: 120, k: 4 },
    { n: 200, k: 6 },
    { n: 50, k: 5 },
  ];
  const groups = [];
  let firstId = 0;
  for (const [j, s] of specs.entries()) {
    groups.push({ firstId, g: addGroup(e, firstId, `job-${j}`, s.n, s.k, 100 + j) });
    firstId += s.n;
  }
  feed(e, groups, 0, 240);
  await e.recluster();
  for (const [j, { firstId, g }] of groups.entries()) {
    const found = e.clusterId.subarray(firstId, firstId + g.truth.length);
    const ari = adjustedRandIndex(g.truth, found);
    assert.ok(ari >= 0.9, `group ${j} (k=${specs[j]!.k}): ARI ${ari}`);
  }
});

test('k is chosen automatically: one cluster without structure, the true k with it', async () => {
  for (const k of [1, 2, 3, 4, 5]) {
    const e = new PeerEngine();
    const g = addGroup(e, 0, 'api', 80, k, 7 * k);
    feed(e, [{ firstId: 0, g }], 0, 240);
    await e.recluster();
    const [group] = e.groups();
    assert.equal(group!.clusters.length, k, `k=${k}`);
    assert.equal(group!.clusters.reduce((s, c) => s + c.size, 0), 80);
  }
});

test('chooseK on plain Gaussian blobs', () => {
  const next = rng(3);
  const d = 4;
  for (const k of [1, 3, 6]) {
    const n = 300;
    const x = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (j === 0 ? (i % k) * 10 : 0) + gauss(next);
    const chosen = chooseK(x, n, d, 8, 0.6, rng(1));
    assert.equal(chosen.result.k, k, `k=${k}, silhouette ${chosen.silhouette}`);
  }
});
