import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerEngine } from '../src/cluster/engine.js';
import { matchIds } from '../src/cluster/match.js';
import { addGroup, feed } from './cluster-helpers.js';

test('cluster ids are stable from round to round, full or incremental', async () => {
  const e = new PeerEngine();
  const n = 90;
  const g = addGroup(e, 0, 'api', n, 4, 11);
  feed(e, [{ firstId: 0, g }], 0, 240);
  await e.recluster({ forceFull: true });
  const first = e.clusterId.slice(0, n);
  assert.ok(first.every((c) => c >= 0));
  let step = 240;
  for (const forceFull of [false, true, false, true]) {
    feed(e, [{ firstId: 0, g }], step, 20); // five more minutes
    step += 20;
    await e.recluster({ forceFull });
    assert.deepEqual(e.clusterId.slice(0, n), first, `forceFull=${forceFull}`);
  }
  assert.equal(e.reclusterRuns, 5);
  assert.equal(e.clusterChanges, 0);
  const ids = [...e.groups()][0]!.clusters.map((c) => c.id).sort();
  assert.deepEqual(ids, [0, 1, 2, 3]);
});

test('a series that changes behaviour changes cluster and is counted', async () => {
  const e = new PeerEngine();
  const n = 40;
  const g = addGroup(e, 0, 'api', n, 2, 5);
  feed(e, [{ firstId: 0, g }], 0, 240);
  await e.recluster({ forceFull: true });
  const mover = g.truth.findIndex((t) => t === 1);
  const target = e.clusterId[g.truth.findIndex((t) => t === 0)]!;
  assert.notEqual(e.clusterId[mover], target);
  g.truth[mover] = 0;
  feed(e, [{ firstId: 0, g }], 240, 240);
  await e.recluster();
  assert.equal(e.clusterId[mover], target);
  assert.equal(e.clusterChanges, 1);
});

test('matchIds keeps old ids by member overlap and gives new clusters fresh ids', () => {
  const prev = Int32Array.from([5, 5, 5, 2, 2, 2, 9, 9]);
  // same partition under permuted indices, plus a split of the old 9s into a new cluster
  const assign = Int32Array.from([1, 1, 1, 0, 0, 0, 2, 3]);
  const { ids, nextId } = matchIds(prev, assign, 8, 4, 10);
  assert.deepEqual([...ids], [2, 5, 9, 10]);
  assert.equal(nextId, 11);
});
