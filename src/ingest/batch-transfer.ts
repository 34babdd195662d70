import { Batch } from './batch.js';

/**
 * A decoded batch as it crosses from the decode worker: exact-length copies, transferred. A `lite`
 * batch carries identities and samples only, not the decoded body and label spans: those are
 * needed only for series the main thread has not seen, and for those it decodes the body again
 * itself, so the steady state moves a fifth of the bytes and allocates a fifth of the memory.
 */
export interface PackedBatch {
  lite: boolean;
  buf: Uint8Array;
  seriesCount: number;
  labelCount: number;
  sampleCount: number;
  histogramCount: number;
  exemplarCount: number;
  metadataCount: number;
  arrays: Record<string, Int32Array | Uint32Array | Float64Array | Uint8Array>;
}

/**
 * A request names its slot (see decode-pool.ts); the slot's shared body and result buffers are
 * sent only to a worker that has not seen them yet. A body too large for a slot travels as a
 * transferred copy in `copy` instead.
 */
export interface DecodeRequest {
  seq: number;
  slot: number;
  length: number;
  body?: SharedArrayBuffer;
  result?: SharedArrayBuffer;
  copy?: ArrayBuffer;
  /** The registry's identity slots (see hashtable.ts), when the worker has not seen them yet. */
  identity?: SharedArrayBuffer;
  contentType: string | undefined;
  contentEncoding: string | undefined;
}

/** `batch` is null when the result was written to the slot's shared batch; `counts` then holds its counts. */
export type DecodeReply =
  | { seq: number; ok: true; version: number; batch: PackedBatch | null; counts: [series: number, samples: number, histograms: number, exemplars: number] }
  | { seq: number; ok: false; code: string; message: string; samples: number };

const IDENTITY_FIELDS = ['seriesHashLo', 'seriesHashHi', 'seriesKeyLen', 'seriesSampleStart', 'seriesSampleCount', 'seriesType', 'seriesHint'] as const;
const SERIES_LABEL_FIELDS = ['seriesLabelStart', 'seriesLabelCount', 'seriesNameLabel'] as const;
const LABEL_FIELDS = ['nameStart', 'nameEnd', 'valueStart', 'valueEnd'] as const;
const SAMPLE_FIELDS = ['sampleValue', 'sampleTime', 'sampleStale'] as const;
const META_FIELDS = ['metaNameStart', 'metaNameEnd', 'metaType'] as const;

export function packBatch(b: Batch, transfer: ArrayBuffer[], lite: boolean): PackedBatch {
  const arrays: PackedBatch['arrays'] = {};
  const take = (fields: readonly string[], n: number): void => {
    for (const f of fields) {
      const a = (b as unknown as Record<string, Int32Array | Uint32Array | Float64Array | Uint8Array>)[f]!.slice(0, n);
      arrays[f] = a;
      transfer.push(a.buffer as ArrayBuffer);
    }
  };
  // Metadata names live in the body: metadata requests (rare, small) always travel whole.
  const full = !lite || b.metadataCount > 0;
  take(IDENTITY_FIELDS, b.seriesCount);
  take(SAMPLE_FIELDS, b.sampleCount);
  if (full) {
    take(SERIES_LABEL_FIELDS, b.seriesCount);
    take(LABEL_FIELDS, b.labelCount);
    take(META_FIELDS, b.metadataCount);
  }
  const buf = full ? b.buf.slice() : new Uint8Array(0);
  if (full) transfer.push(buf.buffer as ArrayBuffer);
  return {
    lite: !full,
    buf,
    seriesCount: b.seriesCount,
    labelCount: b.labelCount,
    sampleCount: b.sampleCount,
    histogramCount: b.histogramCount,
    exemplarCount: b.exemplarCount,
    metadataCount: b.metadataCount,
    arrays,
  };
}

export function unpackBatch(p: PackedBatch): Batch {
  const b = new Batch();
  b.lite = p.lite;
  b.hinted = true;
  Object.assign(b, p.arrays);
  b.buf = p.buf;
  b.seriesCount = p.seriesCount;
  b.labelCount = p.labelCount;
  b.sampleCount = p.sampleCount;
  b.histogramCount = p.histogramCount;
  b.exemplarCount = p.exemplarCount;
  b.metadataCount = p.metadataCount;
  return b;
}
