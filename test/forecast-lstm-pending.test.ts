import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingWindows } from '../src/forecast/lstm-pending.js';

test('pending windows grow, stop at their cap and compact in order', () => {
  const p = new PendingWindows(3, 2, 5, 2);
  for (let i = 0; i < 5; i++) {
    const k = p.push(100 + i, 10 * i);
    assert.equal(k, i);
    p.x.fill(i, k * 3, k * 3 + 3);
    p.y.fill(-i, k * 2, k * 2 + 2);
    p.got[k * 2] = 1;
  }
  assert.ok(p.full);
  assert.equal(p.push(200, 0), -1);
  // Keep rows 1 and 3, as collection does after dropping completed rows.
  p.move(1, 0);
  p.move(3, 1);
  p.count = 2;
  assert.deepEqual([...p.id.subarray(0, 2)], [101, 103]);
  assert.deepEqual([...p.n.subarray(0, 2)], [10, 30]);
  assert.deepEqual([...p.x.subarray(0, 6)], [1, 1, 1, 3, 3, 3]);
  assert.deepEqual([...p.y.subarray(0, 4)], [-1, -1, -3, -3]);
  // A reused row starts with no targets arrived.
  const k = p.push(300, 7);
  assert.equal(k, 2);
  assert.deepEqual([...p.got.subarray(4, 6)], [0, 0]);
});
