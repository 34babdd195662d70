import { AugurError } from '../errors.js';
import type { Batch } from './batch.js';
import { finishLabelSet, type LabelLimits } from './labelset.js';
import { WireReader, corrupt, readSample } from './wire.js';
import { growI32 } from '../series/component.js';

/**
 * Decodes a remote-write 2.0 `io.prometheus.write.v2.Request`. Symbols may follow the series in
 * the byte stream, so the top level is scanned once for symbol spans and series offsets, then the
 * series are decoded against the complete table.
 */
export class V2Decoder {
  private symStart = new Int32Array(1024);
  private symEnd = new Int32Array(1024);
  private symCount = 0;
  private tsStart = new Int32Array(1024);
  private tsEnd = new Int32Array(1024);

  decode(r: WireReader, batch: Batch, limits: LabelLimits, maxSeries: number): void {
    const end = r.buf.length;
    let nts = 0;
    this.symCount = 0;
    while (r.pos < end) {
      const tag = r.uint32(end);
      const field = tag >>> 3;
      const wt = tag & 7;
      if ((field === 4 || field === 5) && wt === 2) {
        const e = r.delimited(end);
        if (field === 4) {
          const k = this.symCount;
          if (k === this.symStart.length) {
            this.symStart = growI32(this.symStart, k * 2);
            this.symEnd = growI32(this.symEnd, k * 2);
          }
          this.symStart[k] = r.pos;
          this.symEnd[k] = e;
          this.symCount = k + 1;
        } else {
          if (maxSeries > 0 && nts >= maxSeries) {
            throw new AugurError('TOO_MANY_SERIES', `request has more than ${maxSeries} series`);
          }
          if (nts === this.tsStart.length) {
            this.tsStart = growI32(this.tsStart, nts * 2);
            this.tsEnd = growI32(this.tsEnd, nts * 2);
          }
          this.tsStart[nts] = r.pos;
          this.tsEnd[nts] = e;
          nts++;
        }
        r.pos = e;
      } else {
        if (field === 0) throw corrupt('field number 0', r.pos);
        r.skip(wt, end);
      }
    }
    if (this.symCount > 0 && this.symEnd[0] !== this.symStart[0]) {
      throw new AugurError('FIRST_SYMBOL_NOT_EMPTY', 'symbols[0] must be the empty string');
    }
    for (let k = 0; k < nts; k++) {
      r.pos = this.tsStart[k]!;
      this.timeSeries(r, batch, this.tsEnd[k]!, limits);
    }
  }

  private ref(x: number, what: string, series: number): number {
    if (x >= this.symCount) {
      throw new AugurError('BAD_SYMBOL_REFERENCE', `series ${series}: ${what} refers to symbol ${x}, the table has ${this.symCount}`);
    }
    return x;
  }

  private timeSeries(r: WireReader, batch: Batch, end: number, limits: LabelLimits): void {
    const i = batch.openSeries();
    let refs = 0;
    let histograms = 0;
    let pendingName = -1;
    while (r.pos < end) {
      const tag = r.uint32(end);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === 2) {
        const e = r.delimited(end);
        while (r.pos < e) {
          pendingName = this.labelRef(r.uint32(e), pendingName, batch, i);
          refs++;
        }
        r.pos = e;
      } else if (field === 1 && wt === 0) {
        pendingName = this.labelRef(r.uint32(end), pendingName, batch, i);
        refs++;
      } else if (field === 2 && wt === 2) {
        const e = r.delimited(end);
        readSample(r, batch, e);
        r.pos = e;
      } else if (field === 3 && wt === 2) {
        r.pos = r.delimited(end);
        histograms++;
      } else if (field === 4 && wt === 2) {
        const e = r.delimited(end);
        this.exemplar(r, e, i);
        batch.exemplarCount++;
        r.pos = e;
      } else if (field === 5 && wt === 2) {
        const e = r.delimited(end);
        batch.seriesType[i] = this.metadata(r, e, i, batch.seriesType[i]!);
        r.pos = e;
      } else {
        if (field === 0) throw corrupt('field number 0', r.pos);
        r.skip(wt, end);
      }
    }
    if ((refs & 1) !== 0) throw new AugurError('ODD_LABEL_REFS', `series ${i}: labels_refs has an odd length (${refs})`);
    if (histograms > 0 && batch.sampleCount > batch.seriesSampleStart[i]!) {
      throw new AugurError('SAMPLES_AND_HISTOGRAMS', `series ${i} carries both samples and histograms`);
    }
    batch.histogramCount += histograms;
    finishLabelSet(batch, i, limits);
    batch.closeSeries(i);
  }

  /** Label refs come in name/value pairs; returns the pending name ref, or -1 after a value. */
  private labelRef(x: number, pendingName: number, batch: Batch, series: number): number {
    this.ref(x, 'a label', series);
    if (pendingName < 0) return x;
    if (this.symEnd[x]! > this.symStart[x]!) {
      batch.addLabel(this.symStart[pendingName]!, this.symEnd[pendingName]!, this.symStart[x]!, this.symEnd[x]!);
    } else if (this.symEnd[pendingName] === this.symStart[pendingName]) {
      throw new AugurError('EMPTY_LABEL_NAME', `series ${series} has a label with an empty name`);
    }
    return -1;
  }

  private exemplar(r: WireReader, end: number, series: number): void {
    // Packed and unpacked refs may mix; the pairs are counted over the whole exemplar.
    let n = 0;
    while (r.pos < end) {
      const tag = r.uint32(end);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === 2) {
        const e = r.delimited(end);
        while (r.pos < e) { this.ref(r.uint32(e), 'an exemplar label', series); n++; }
        r.pos = e;
      } else if (field === 1 && wt === 0) {
        this.ref(r.uint32(end), 'an exemplar label', series);
        n++;
      } else {
        if (field === 0) throw corrupt('field number 0', r.pos);
        r.skip(wt, end);
      }
    }
    if ((n & 1) !== 0) throw new AugurError('ODD_LABEL_REFS', `series ${series}: an exemplar's labels_refs has an odd length`);
  }

  /** A second `metadata` field merges into the first (protobuf semantics): an absent type keeps the earlier one. */
  private metadata(r: WireReader, end: number, series: number, type: number): number {
    while (r.pos < end) {
      const tag = r.uint32(end);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === 1 && wt === 0) type = r.uint32(end) | 0;
      else if ((field === 3 || field === 4) && wt === 0) this.ref(r.uint32(end), field === 3 ? 'help_ref' : 'unit_ref', series);
      else {
        if (field === 0) throw corrupt('field number 0', r.pos);
        r.skip(wt, end);
      }
    }
    return type;
  }
}
