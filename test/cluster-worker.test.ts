import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterSchema } from '../src/cluster/config.js';
import { PeerEngine } from '../src/cluster/engine.js';
import { addGroup, adjustedRandIndex, feed } from './cluster-helpers.js';

test('the worker thread reclusters and publishes results back', async () => {
  const e = new PeerEngine({ recluster_interval: '1h' });
  const g = addGroup(e, 0, 'api', 40, 3, 21);
  feed(e, [{ firstId: 0, g }], 0, 240);
  e.start();
  try {
    await e.recluster();
    assert.equal(e.reclusterRuns, 1);
    assert.equal(e.lastError, null);
    assert.ok(e.lastReclusterSeconds > 0);
    assert.ok(adjustedRandIndex(g.truth, e.clusterId.subarray(0, 40)) >= 0.9);
    // a series removed while a round is in flight does not get that round's result
    const round = e.recluster();
    e.removeSeries(3);
    await round;
    assert.equal(e.clusterId[3], -1);
    assert.equal(e.reclusterRuns, 2);
  } finally {
    await e.stop();
  }
});

test('config: defaults, durations, errors', () => {
  const c = clusterSchema.parse({});
  assert.deepEqual(c.group_by, ['job']);
  assert.equal(c.recluster_interval, '1m');
  assert.equal(c.dbscan.eps, 'auto');
  assert.equal(new PeerEngine({ window: '32m' }).config.window, '32m');
  const bad = clusterSchema.safeParse({ window: '10x', tolerance: -1, dbscan: { min_pts: 1 } });
  assert.equal(bad.success, false);
  const paths = bad.error!.issues.map((i) => i.path.join('.')).sort();
  assert.deepEqual(paths, ['dbscan.min_pts', 'tolerance', 'window']);
});
