import type { Worker } from 'node:worker_threads';
import { AugurError, ErrorCodes, type ErrorCode } from '../errors.js';
import { startWorker } from '../workers.js';
import type { Batch } from './batch.js';
import { unpackBatch, type DecodeReply } from './batch-transfer.js';
import type { ReceiverLimits } from './receiver.js';

export interface Decoded {
  version: number;
  batch: Batch;
}

/**
 * Snappy and protobuf decoding in worker threads, so that on a multi-core machine the main thread
 * spends its time scoring. Requests are spread round-robin; a request's batch comes back as
 * transferred typed arrays. A worker that dies fails its requests with 500 and is replaced.
 */
export class DecodePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (d: Decoded) => void; reject: (e: Error) => void; worker: number }>();
  private seq = 0;
  private next = 0;
  private closed = false;

  constructor(private readonly limits: ReceiverLimits, size: number) {
    for (let i = 0; i < size; i++) {
      this.workers.push(undefined as unknown as Worker);
      this.workers[i] = this.spawn(i);
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }

  decode(body: Buffer, contentType: string | undefined, contentEncoding: string | undefined): Promise<Decoded> {
    const seq = ++this.seq;
    const w = this.next++ % this.workers.length;
    // A copy the worker can own: fastify's body may share its memory with other buffers.
    const own = new Uint8Array(body.length);
    own.set(body);
    return new Promise<Decoded>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, worker: w });
      this.workers[w]!.postMessage({ seq, body: own.buffer, contentType, contentEncoding }, [own.buffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private spawn(index: number): Worker {
    const w = startWorker(import.meta.url, 'decode-worker', { workerData: this.limits });
    w.unref();
    w.on('message', (m: DecodeReply) => {
      const p = this.pending.get(m.seq);
      if (!p) return;
      this.pending.delete(m.seq);
      if (m.ok) p.resolve({ version: m.version, batch: unpackBatch(m.batch) });
      else if (m.code in ErrorCodes) {
        const e = new AugurError(m.code as ErrorCode, m.message);
        (e as AugurError & { samples: number }).samples = m.samples;
        p.reject(e);
      } else p.reject(new Error(`decode worker: ${m.message}`));
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
      p.reject(err);
    }
    if (!this.closed) {
      const old = this.workers[index]!;
      this.workers[index] = this.spawn(index);
      void old.terminate();
    }
  }
}
