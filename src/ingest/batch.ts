import { growF64, growI32, growU32, growU8 } from '../series/component.js';

/**
 * A decoded write request in struct-of-arrays form, reused across requests. Label names and values
 * are byte spans into the decoded body (for v2, into its symbol table entries), so decoding builds
 * no strings and no objects per label or per sample.
 */
export class Batch {
  buf: Uint8Array = new Uint8Array(0);
  /** True when only identities and samples are present (see batch-transfer.ts). */
  lite = false;

  seriesCount = 0;
  seriesHashLo = new Uint32Array(16);
  seriesHashHi = new Uint32Array(16);
  seriesKeyLen = new Int32Array(16);
  seriesLabelStart = new Int32Array(16);
  seriesLabelCount = new Int32Array(16);
  seriesSampleStart = new Int32Array(16);
  seriesSampleCount = new Int32Array(16);
  /** Metric type carried on the series itself (v2 metadata), -1 when absent. */
  seriesType = new Int32Array(16);
  /** Index of the `__name__` label inside the series' label run. */
  seriesNameLabel = new Int32Array(16);
  /** A decode worker's guess of each series' id (-1 none); read only when `hinted`. */
  seriesHint = new Int32Array(16);
  hinted = false;

  labelCount = 0;
  nameStart = new Int32Array(16);
  nameEnd = new Int32Array(16);
  valueStart = new Int32Array(16);
  valueEnd = new Int32Array(16);

  sampleCount = 0;
  sampleValue = new Float64Array(16);
  sampleTime = new Float64Array(16);
  sampleStale = new Uint8Array(16);

  histogramCount = 0;
  exemplarCount = 0;

  metadataCount = 0;
  metaNameStart = new Int32Array(16);
  metaNameEnd = new Int32Array(16);
  metaType = new Int32Array(16);

  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.seriesCount = 0;
    this.labelCount = 0;
    this.sampleCount = 0;
    this.histogramCount = 0;
    this.exemplarCount = 0;
    this.metadataCount = 0;
  }

  addLabel(ns: number, ne: number, vs: number, ve: number): void {
    const i = this.labelCount;
    if (i === this.nameStart.length) {
      const cap = i * 2;
      this.nameStart = growI32(this.nameStart, cap);
      this.nameEnd = growI32(this.nameEnd, cap);
      this.valueStart = growI32(this.valueStart, cap);
      this.valueEnd = growI32(this.valueEnd, cap);
    }
    this.nameStart[i] = ns;
    this.nameEnd[i] = ne;
    this.valueStart[i] = vs;
    this.valueEnd[i] = ve;
    this.labelCount = i + 1;
  }

  addSample(value: number, timeMs: number, stale: number): void {
    const i = this.sampleCount;
    if (i === this.sampleValue.length) {
      const cap = i * 2;
      this.sampleValue = growF64(this.sampleValue, cap);
      this.sampleTime = growF64(this.sampleTime, cap);
      this.sampleStale = growU8(this.sampleStale, cap);
    }
    this.sampleValue[i] = value;
    this.sampleTime[i] = timeMs;
    this.sampleStale[i] = stale;
    this.sampleCount = i + 1;
  }

  /** Opens a series record; the decoder fills it in and calls `closeSeries`. */
  openSeries(): number {
    const i = this.seriesCount;
    if (i === this.seriesHashLo.length) {
      const cap = i * 2;
      this.seriesHashLo = growU32(this.seriesHashLo, cap);
      this.seriesHashHi = growU32(this.seriesHashHi, cap);
      this.seriesKeyLen = growI32(this.seriesKeyLen, cap);
      this.seriesLabelStart = growI32(this.seriesLabelStart, cap);
      this.seriesLabelCount = growI32(this.seriesLabelCount, cap);
      this.seriesSampleStart = growI32(this.seriesSampleStart, cap);
      this.seriesSampleCount = growI32(this.seriesSampleCount, cap);
      this.seriesType = growI32(this.seriesType, cap);
      this.seriesNameLabel = growI32(this.seriesNameLabel, cap);
      this.seriesHint = growI32(this.seriesHint, cap);
    }
    this.seriesLabelStart[i] = this.labelCount;
    this.seriesSampleStart[i] = this.sampleCount;
    this.seriesType[i] = -1;
    return i;
  }

  closeSeries(i: number): void {
    this.seriesLabelCount[i] = this.labelCount - this.seriesLabelStart[i]!;
    this.seriesSampleCount[i] = this.sampleCount - this.seriesSampleStart[i]!;
    this.seriesCount = i + 1;
  }

  addMetadata(ns: number, ne: number, type: number): void {
    const i = this.metadataCount;
    if (i === this.metaType.length) {
      const cap = i * 2;
      this.metaNameStart = growI32(this.metaNameStart, cap);
      this.metaNameEnd = growI32(this.metaNameEnd, cap);
      this.metaType = growI32(this.metaType, cap);
    }
    this.metaNameStart[i] = ns;
    this.metaNameEnd[i] = ne;
    this.metaType[i] = type;
    this.metadataCount = i + 1;
  }
}
