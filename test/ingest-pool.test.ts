import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver, type ReceiverLimits } from '../src/ingest/receiver.js';
import { DecodePool } from '../src/ingest/decode-pool.js';
import type { Batch } from '../src/ingest/batch.js';
import { createSharedBatch, fitsShared, sharedBatchView, writeShared } from '../src/ingest/shared-batch.js';
import { V1_CONTENT_TYPE, compress, encodeV1, type V1Series } from './helpers/remote-write.js';

const LIMITS: ReceiverLimits = { maxDecodedBytes: 32 << 20, maxSeriesPerRequest: 0, maxLabels: 256, maxNameLength: 1024, maxValueLength: 65536 };

function body(series: number, seed: number, samplesPerSeries = 1): Buffer {
  const ts: V1Series[] = [];
  for (let i = 0; i < series; i++) {
    const samples = [];
    for (let k = 0; k < samplesPerSeries; k++) samples.push({ value: seed + i + k / 10, timestamp: 1_700_000_000_000 + k * 1000 });
    ts.push({ labels: [['__name__', `m_${i % 7}`], ['i', String(i + seed)]], samples });
  }
  return compress(encodeV1(ts));
}

function lite(b: Batch): unknown {
  const n = b.seriesCount;
  const m = b.sampleCount;
  return {
    n, m,
    lo: [...b.seriesHashLo.subarray(0, n)], hi: [...b.seriesHashHi.subarray(0, n)], len: [...b.seriesKeyLen.subarray(0, n)],
    start: [...b.seriesSampleStart.subarray(0, n)], count: [...b.seriesSampleCount.subarray(0, n)], type: [...b.seriesType.subarray(0, n)],
    value: [...b.sampleValue.subarray(0, m)], time: [...b.sampleTime.subarray(0, m)], stale: [...b.sampleStale.subarray(0, m)],
  };
}

describe('shared batch', () => {
  it('carries identities and samples unchanged, and refuses what does not fit', () => {
    const rx = new Receiver(LIMITS);
    rx.decode(body(50, 3, 2), V1_CONTENT_TYPE, 'snappy');
    const small = sharedBatchView(createSharedBatch(10, 10));
    assert.equal(fitsShared(rx.batch, small), false);
    const view = sharedBatchView(createSharedBatch(64, 128));
    assert.equal(fitsShared(rx.batch, view), true);
    writeShared(rx.batch, view);
    view.seriesCount = rx.batch.seriesCount;
    view.sampleCount = rx.batch.sampleCount;
    assert.deepEqual(lite(view), lite(rx.batch));
  });
});

describe('decode pool', () => {
  const pool = new DecodePool(LIMITS, 2);
  after(() => pool.close());

  it('returns the same batches as decoding in place, through slots that grow and are reused', async () => {
    const rx = new Receiver(LIMITS);
    const bodies = [body(3, 1), body(3000, 2), body(5, 3), body(2000, 4, 3), body(1, 5)];
    for (let round = 0; round < 3; round++) {
      // Concurrent requests hold distinct slots until released.
      const decoded = await Promise.all(bodies.map((b) => pool.decode(b, V1_CONTENT_TYPE, 'snappy')));
      assert.equal(new Set(decoded.map((d) => d.slot)).size, bodies.length);
      for (let i = 0; i < bodies.length; i++) {
        rx.decode(bodies[i]!, V1_CONTENT_TYPE, 'snappy');
        assert.deepEqual(lite(decoded[i]!.batch), lite(rx.batch));
        pool.release(decoded[i]!);
      }
    }
  });

  it('frees the slot of a request that fails', async () => {
    await assert.rejects(pool.decode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]), V1_CONTENT_TYPE, 'snappy'), /snappy/);
    const d = await pool.decode(body(2, 9), V1_CONTENT_TYPE, 'snappy');
    assert.equal(d.batch.seriesCount, 2);
    pool.release(d);
    assert.equal(pool.inFlight, 0);
  });
});
