import { Batch } from './batch.js';

/**
 * A lite batch (identities and samples) laid out in one SharedArrayBuffer, so that the decode
 * worker hands its result to the main thread without allocating or transferring per request:
 * buffers that come and go at every request count as external memory and make V8 run full
 * collections of the main thread's large heap several times a second.
 *
 * Layout: a header of two int32 capacities (series, samples), the float64 sample values and times,
 * seven int32-sized series arrays, then the sample stale flags.
 */
const HEADER = 8;

export function sharedBatchBytes(series: number, samples: number): number {
  return HEADER + samples * 16 + series * 28 + samples;
}

export function createSharedBatch(series: number, samples: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(sharedBatchBytes(series, samples));
  const h = new Int32Array(sab, 0, 2);
  h[0] = series;
  h[1] = samples;
  return sab;
}

/**
 * A Batch whose identity and sample arrays are views of `sab`; counts are set per request. The
 * views are typed as the Batch's own arrays: a shared view is only read and copied into, never
 * grown (see `fitsShared`).
 */
export function sharedBatchView(sab: SharedArrayBuffer): Batch {
  const h = new Int32Array(sab, 0, 2);
  const c = h[0]!;
  const s = h[1]!;
  const buf = sab as unknown as ArrayBuffer;
  const b = new Batch();
  b.lite = true;
  b.hinted = true;
  b.sampleValue = new Float64Array(buf, HEADER, s);
  b.sampleTime = new Float64Array(buf, HEADER + 8 * s, s);
  let at = HEADER + 16 * s;
  b.seriesHashLo = new Uint32Array(buf, at, c);
  b.seriesHashHi = new Uint32Array(buf, (at += 4 * c), c);
  b.seriesKeyLen = new Int32Array(buf, (at += 4 * c), c);
  b.seriesSampleStart = new Int32Array(buf, (at += 4 * c), c);
  b.seriesSampleCount = new Int32Array(buf, (at += 4 * c), c);
  b.seriesType = new Int32Array(buf, (at += 4 * c), c);
  b.seriesHint = new Int32Array(buf, (at += 4 * c), c);
  b.sampleStale = new Uint8Array(buf, at + 4 * c, s);
  return b;
}

/** True when `src` fits in `dst` (a shared view) as a lite batch. */
export function fitsShared(src: Batch, dst: Batch): boolean {
  return src.metadataCount === 0 && src.seriesCount <= dst.seriesHashLo.length && src.sampleCount <= dst.sampleValue.length;
}

/** Copies the lite part of `src` into the shared view `dst` (see `fitsShared`). */
export function writeShared(src: Batch, dst: Batch): void {
  const n = src.seriesCount;
  const m = src.sampleCount;
  dst.seriesHashLo.set(src.seriesHashLo.subarray(0, n));
  dst.seriesHashHi.set(src.seriesHashHi.subarray(0, n));
  dst.seriesKeyLen.set(src.seriesKeyLen.subarray(0, n));
  dst.seriesSampleStart.set(src.seriesSampleStart.subarray(0, n));
  dst.seriesSampleCount.set(src.seriesSampleCount.subarray(0, n));
  dst.seriesType.set(src.seriesType.subarray(0, n));
  dst.seriesHint.set(src.seriesHint.subarray(0, n));
  dst.sampleValue.set(src.sampleValue.subarray(0, m));
  dst.sampleTime.set(src.sampleTime.subarray(0, m));
  dst.sampleStale.set(src.sampleStale.subarray(0, m));
}
