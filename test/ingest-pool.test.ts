import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Receiver, type ReceiverLimits } from '../src/ingest/receiver.js';
import { DecodePool } from '../src/ingest/decode-pool.js';
import type { Batch } from '../src/ingest/batch.js';
import { createSharedBatch, fitsShared, sharedBatchView, writeShared } from '../src/ingest/shared-batch.js';
import { V1_CONTENT_TYPE, compress, encodeV1, type V1Series } from './helpers/remote-write.js';
import { createPipeline } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';
import { mulberry32 } from '../src/util/prng.js';

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

describe('id hints', () => {
  const config = defaultConfig();
  config.forecast.enabled = false;

  it('a decode worker guesses the ids of known series, also after the identity table has grown', async () => {
    const pipeline = createPipeline(config, { peers: false });
    const reg = pipeline.registry;
    const pool = new DecodePool(LIMITS, 1, () => reg.identitySlots);
    try {
      const rx = new Receiver(LIMITS);
      const known = body(300, 1);
      rx.decode(known, V1_CONTENT_TYPE, 'snappy');
      pipeline.ingest(rx.batch, Date.now());
      const check = async (b: Buffer, expectKnown: boolean): Promise<void> => {
        const d = await pool.decode(b, V1_CONTENT_TYPE, 'snappy');
        try {
          assert.equal(d.batch.hinted, true);
          for (let s = 0; s < d.batch.seriesCount; s++) {
            const id = reg.find(d.batch.seriesHashLo[s]!, d.batch.seriesHashHi[s]!, d.batch.seriesKeyLen[s]!);
            assert.equal(d.batch.seriesHint[s], expectKnown ? id : -1);
          }
        } finally {
          pool.release(d);
        }
      };
      await check(known, true);
      await check(body(50, 100_000), false);
      const slotsBefore = reg.identitySlots;
      const more = body(20_000, 1000);
      rx.decode(more, V1_CONTENT_TYPE, 'snappy');
      pipeline.ingest(rx.batch, Date.now());
      assert.notEqual(reg.identitySlots, slotsBefore, 'the table grew into new slots');
      await check(more, true);
      await check(known, true);
    } finally {
      await pool.close();
    }
  });

  it('a wrong or stale hint never hands a sample to another series', () => {
    const run = (hints: ((s: number, ids: number[]) => number) | null): number[] => {
      const pipeline = createPipeline(config, { peers: false });
      const reg = pipeline.registry;
      const rx = new Receiver(LIMITS);
      rx.decode(body(200, 1), V1_CONTENT_TYPE, 'snappy');
      pipeline.ingest(rx.batch, 1_700_000_000_000);
      // Free some ids, so that hints can point at dead series too.
      for (let id = 0; id < 200; id += 9) reg.remove(id, 'evicted');
      rx.decode(body(200, 1, 3), V1_CONTENT_TYPE, 'snappy');
      const b = rx.batch;
      const ids: number[] = [];
      for (let s = 0; s < b.seriesCount; s++) ids.push(reg.find(b.seriesHashLo[s]!, b.seriesHashHi[s]!, b.seriesKeyLen[s]!));
      if (hints !== null) {
        b.hinted = true;
        for (let s = 0; s < b.seriesCount; s++) b.seriesHint[s] = hints(s, ids);
      }
      pipeline.ingest(b, 1_700_000_000_000);
      const out: number[] = [];
      for (let s = 0; s < b.seriesCount; s++) {
        const id = reg.find(b.seriesHashLo[s]!, b.seriesHashHi[s]!, b.seriesKeyLen[s]!);
        out.push(id, pipeline.lastValue[id]!);
      }
      return out;
    };
    const expected = run(null);
    const rand = mulberry32(5);
    assert.deepEqual(run((s, ids) => ids[s]!), expected);
    assert.deepEqual(run((s, ids) => ids[(s + 1) % ids.length]!), expected);
    assert.deepEqual(run(() => ((rand() * 400) | 0) - 100), expected);
    assert.deepEqual(run((s) => s % 9 === 0 ? s : -1), expected);
    assert.deepEqual(run(() => 2 ** 31 - 1), expected);
  });
});
