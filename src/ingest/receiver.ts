import { Batch } from './batch.js';
import { decodeV1 } from './decode-v1.js';
import { V2Decoder } from './decode-v2.js';
import type { LabelLimits } from './labelset.js';
import { PROTO_V1, checkEncoding, protocolOf } from './protocol.js';
import { SnappyDecoder } from './snappy.js';
import { WireReader } from './wire.js';

export interface ReceiverLimits extends LabelLimits {
  maxDecodedBytes: number;
  maxSeriesPerRequest: number;
}

/**
 * Turns a remote-write body into the reused `Batch`. Synchronous: the batch and the buffers it
 * points into are valid until the next call, which cannot interleave on one thread.
 */
export class Receiver {
  readonly batch = new Batch();
  private readonly snappy = new SnappyDecoder();
  private readonly reader = new WireReader();
  private readonly v2 = new V2Decoder();

  constructor(readonly limits: ReceiverLimits) {}

  /** Returns the protocol version (1 or 2); throws AugurError with the HTTP status to answer. */
  decode(body: Uint8Array, contentType: string | undefined, contentEncoding: string | undefined): number {
    this.batch.reset(new Uint8Array(0));
    const version = protocolOf(contentType);
    checkEncoding(contentEncoding);
    const raw = this.snappy.decode(body, this.limits.maxDecodedBytes);
    this.batch.reset(raw);
    this.reader.reset(raw);
    if (version === PROTO_V1) decodeV1(this.reader, this.batch, this.limits, this.limits.maxSeriesPerRequest);
    else this.v2.decode(this.reader, this.batch, this.limits, this.limits.maxSeriesPerRequest);
    return version;
  }
}
