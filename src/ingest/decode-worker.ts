import { parentPort, workerData } from 'node:worker_threads';
import { isAugurError } from '../errors.js';
import { Receiver, type ReceiverLimits } from './receiver.js';
import { packBatch, type DecodeRequest, type DecodeReply } from './batch-transfer.js';

// Decodes remote-write bodies off the main thread; see decode-pool.ts.
const receiver = new Receiver(workerData as ReceiverLimits);
const port = parentPort!;

port.on('message', (m: DecodeRequest) => {
  let reply: DecodeReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const version = receiver.decode(new Uint8Array(m.body), m.contentType, m.contentEncoding);
    reply = { seq: m.seq, ok: true, version, batch: packBatch(receiver.batch, transfer, true) };
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
