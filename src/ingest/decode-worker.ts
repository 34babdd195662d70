import { parentPort, workerData } from 'node:worker_threads';
import { isAugurError } from '../errors.js';
import type { Batch } from './batch.js';
import { Receiver, type ReceiverLimits } from './receiver.js';
import { packBatch, type DecodeRequest, type DecodeReply } from './batch-transfer.js';
import { fitsShared, sharedBatchView, writeShared } from './shared-batch.js';
import { fillHints } from './id-hints.js';

// Decodes remote-write bodies off the main thread; see decode-pool.ts.
const receiver = new Receiver(workerData as ReceiverLimits);
const port = parentPort!;
const bodies: Uint8Array[] = [];
const results: (Batch | undefined)[] = [];
/** The registry's identity slots, read here to guess each series' id for the main thread. */
let identity: Int32Array | null = null;

port.on('message', (m: DecodeRequest) => {
  let reply: DecodeReply;
  const transfer: ArrayBuffer[] = [];
  if (m.body !== undefined) bodies[m.slot] = new Uint8Array(m.body);
  if (m.result !== undefined) results[m.slot] = sharedBatchView(m.result);
  if (m.identity !== undefined) identity = new Int32Array(m.identity);
  try {
    const body = m.copy !== undefined ? new Uint8Array(m.copy) : bodies[m.slot]!.subarray(0, m.length);
    const version = receiver.decode(body, m.contentType, m.contentEncoding);
    const b = receiver.batch;
    fillHints(b, identity);
    const counts: [number, number, number, number] = [b.seriesCount, b.sampleCount, b.histogramCount, b.exemplarCount];
    const shared = results[m.slot];
    if (shared !== undefined && fitsShared(b, shared)) {
      writeShared(b, shared);
      reply = { seq: m.seq, ok: true, version, batch: null, counts };
    } else {
      reply = { seq: m.seq, ok: true, version, batch: packBatch(b, transfer, true), counts };
    }
  } catch (e) {
    if (isAugurError(e)) {
      const code = e.code.slice('AUGUR_ERR_'.length);
      reply = { seq: m.seq, ok: false, code, message: e.message, samples: receiver.batch.sampleCount };
    } else {
      reply = { seq: m.seq, ok: false, code: '', message: e instanceof Error ? e.stack ?? e.message : String(e), samples: 0 };
    }
  }
  port.postMessage(reply, transfer);
});
