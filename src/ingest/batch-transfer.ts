import { Batch } from './batch.js';

/** A decoded batch as it crosses from the decode worker: exact-length copies, transferred. */
export interface PackedBatch {
  buf: Uint8Array;
  seriesCount: number;
  labelCount: number;
  sampleCount: number;
  histogramCount: number;
  exemplarCount: number;
  metadataCount: number;
  arrays: Record<string, Int32Array | Uint32Array | Float64Array | Uint8Array>;
}

export interface DecodeRequest {
  seq: number;
  body: ArrayBuffer;
  contentType: string | undefined;
  contentEncoding: string | undefined;
}

export type DecodeReply =
  | { seq: number; ok: true; version: number; batch: PackedBatch }
  | { seq: number; ok: false; code: string; message: string; samples: number };

const SERIES_FIELDS = ['seriesHashLo', 'seriesHashHi', 'seriesKeyLen', 'seriesLabelStart', 'seriesLabelCount', 'seriesSampleStart', 'seriesSampleCount', 'seriesType', 'seriesNameLabel'] as const;
const LABEL_FIELDS = ['nameStart', 'nameEnd', 'valueStart', 'valueEnd'] as const;
const SAMPLE_FIELDS = ['sampleValue', 'sampleTime', 'sampleStale'] as const;
const META_FIELDS = ['metaNameStart', 'metaNameEnd', 'metaType'] as const;

export function packBatch(b: Batch, transfer: ArrayBuffer[]): PackedBatch {
  const arrays: PackedBatch['arrays'] = {};
  const take = (fields: readonly string[], n: number): void => {
    for (const f of fields) {
      const a = (b as unknown as Record<string, Int32Array | Uint32Array | Float64Array | Uint8Array>)[f]!.slice(0, n);
      arrays[f] = a;
      transfer.push(a.buffer as ArrayBuffer);
    }
  };
  take(SERIES_FIELDS, b.seriesCount);
  take(LABEL_FIELDS, b.labelCount);
  take(SAMPLE_FIELDS, b.sampleCount);
  take(META_FIELDS, b.metadataCount);
  const buf = b.buf.slice();
  transfer.push(buf.buffer as ArrayBuffer);
  return {
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
