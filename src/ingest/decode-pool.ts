import type { Worker } from 'node:worker_threads';
import { AugurError, ErrorCodes, type ErrorCode } from '../errors.js';
import { startWorker } from '../workers.js';
import type { Batch } from './batch.js';
import { unpackBatch, type DecodeReply, type DecodeRequest } from './batch-transfer.js';
import { createSharedBatch, sharedBatchBytes, sharedBatchView } from './shared-batch.js';
import type { ReceiverLimits } from './receiver.js';

export interface Decoded {
  version: number;
  batch: Batch;
  /** The slot holding the body and the batch until `DecodePool.release`. */
  slot: number;
}

/** Larger bodies and results are not kept in a slot: they travel as transferred copies. */
const SLOT_MAX_BYTES = 4 * 1024 * 1024;

/**
 * One in-flight request's shared memory: the body the main thread copies in, and the lite batch
 * the worker writes out. A slot is owned by one request from `decode` until `release`.
 */
interface Slot {
  body: Uint8Array<SharedArrayBuffer>;
  result: SharedArrayBuffer | null;
  batch: Batch | null;
  /** Workers that hold this slot's current body and result buffers. */
  bodySentTo: Set<Worker>;
  resultSentTo: Set<Worker>;
}

interface Pending {
  resolve: (d: Decoded) => void;
  reject: (e: Error) => void;
  worker: number;
  slot: number;
}

/**
 * Snappy and protobuf decoding in worker threads, so that on a multi-core machine the main thread
 * spends its time scoring. Requests are spread round-robin. Bodies and lite batches cross through
 * shared-memory slots, reused from request to request, so the steady state allocates no buffer
 * per request; a batch that does not fit comes back as transferred typed arrays, and its slot
 * grows for the next request. A worker that dies fails its requests with 500 and is replaced.
 */
export class DecodePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly slots: Slot[] = [];
  private readonly freeSlots: number[] = [];
  private seq = 0;
  private next = 0;
  private closed = false;
  /** Per worker: the identity slots it was last sent. */
  private readonly identitySent: (Int32Array | null)[] = [];

  /** `identity` gives the registry's current identity slots, which workers read for id hints. */
  constructor(private readonly limits: ReceiverLimits, size: number, private readonly identity: (() => Int32Array) | null = null) {
    for (let i = 0; i < size; i++) {
      this.workers.push(undefined as unknown as Worker);
      this.workers[i] = this.spawn(i);
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** The returned batch stays valid until `release(decoded)`, which must follow. */
  decode(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined): Promise<Decoded> {
    const seq = ++this.seq;
    const w = this.next++ % this.workers.length;
    const worker = this.workers[w]!;
    const index = this.freeSlots.pop() ?? this.newSlot();
    const slot = this.slots[index]!;
    const m: DecodeRequest = { seq, slot: index, length: body.length, contentType, contentEncoding };
    const transfer: ArrayBuffer[] = [];
    if (body.length > SLOT_MAX_BYTES) {
      // A copy the worker can own: fastify's body may share its memory with other buffers.
      const own = new Uint8Array(body.length);
      own.set(body);
      m.copy = own.buffer;
      transfer.push(own.buffer);
    } else {
      if (slot.body.length < body.length) {
        slot.body = new Uint8Array(new SharedArrayBuffer(Math.min(SLOT_MAX_BYTES, 2 ** Math.ceil(Math.log2(body.length)))));
        slot.bodySentTo.clear();
      }
      slot.body.set(body);
      if (!slot.bodySentTo.has(worker)) {
        m.body = slot.body.buffer;
        slot.bodySentTo.add(worker);
      }
    }
    const slots = this.identity?.();
    if (slots !== undefined && this.identitySent[w] !== slots) {
      m.identity = slots.buffer as SharedArrayBuffer;
      this.identitySent[w] = slots;
    }
    if (slot.result !== null && !slot.resultSentTo.has(worker)) {
      m.result = slot.result;
      slot.resultSentTo.add(worker);
    }
    return new Promise<Decoded>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, worker: w, slot: index });
      worker.postMessage(m, transfer);
    });
  }

  /** Hands a decoded request's slot back for reuse; its batch must not be read afterwards. */
  release(d: Decoded): void {
    this.freeSlots.push(d.slot);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private newSlot(): number {
    this.slots.push({ body: new Uint8Array(new SharedArrayBuffer(64 * 1024)), result: null, batch: null, bodySentTo: new Set(), resultSentTo: new Set() });
    return this.slots.length - 1;
  }

  private settle(p: Pending, m: DecodeReply): void {
    const slot = this.slots[p.slot]!;
    if (!m.ok) {
      this.freeSlots.push(p.slot);
      if (m.code in ErrorCodes) {
        const e = new AugurError(m.code as ErrorCode, m.message);
        (e as AugurError & { samples: number }).samples = m.samples;
        p.reject(e);
      } else p.reject(new Error(`decode worker: ${m.message}`));
      return;
    }
    const [series, samples, histograms, exemplars] = m.counts;
    let batch: Batch;
    if (m.batch === null) {
      batch = slot.batch!;
      batch.seriesCount = series;
      batch.sampleCount = samples;
      batch.histogramCount = histograms;
      batch.exemplarCount = exemplars;
      batch.labelCount = 0;
      batch.metadataCount = 0;
    } else {
      batch = unpackBatch(m.batch);
      this.growResult(slot, series, samples);
    }
    p.resolve({ version: m.version, batch, slot: p.slot });
  }

  /** Sizes the slot's shared batch for a request that did not fit, with room to spare. */
  private growResult(slot: Slot, series: number, samples: number): void {
    const c = Math.max(1024, 2 ** Math.ceil(Math.log2(series + 1)));
    const s = Math.max(1024, 2 ** Math.ceil(Math.log2(samples + 1)));
    if (sharedBatchBytes(c, s) > SLOT_MAX_BYTES) return;
    if (slot.batch !== null && slot.batch.seriesHashLo.length >= c && slot.batch.sampleValue.length >= s) return;
    slot.result = createSharedBatch(c, s);
    slot.batch = sharedBatchView(slot.result);
    slot.resultSentTo.clear();
  }

  private spawn(index: number): Worker {
    this.identitySent[index] = null;
    const w = startWorker(import.meta.url, 'decode-worker', { workerData: this.limits });
    w.unref();
    w.on('message', (m: DecodeReply) => {
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      this.settle(p, m);
    });
    w.on('error', (err) => {
      if (this.workers[index] === w) this.fail(index, err);
    });
    w.on('exit', (code) => {
      if (!this.closed && this.workers[index] === w) this.fail(index, new Error(`decode worker exited with code ${code}`));
    });
    return w;
  }

  private fail(index: number, err: Error): void {
    for (const [seq, p] of this.pending) {
      if (p.worker !== index) continue;
      this.pending.delete(seq);
      this.freeSlots.push(p.slot);
      p.reject(err);
    }
    if (!this.closed) {
      const old = this.workers[index]!;
      this.workers[index] = this.spawn(index);
      void old.terminate();
    }
  }
}
