import { AugurError } from '../errors.js';
import type { Batch } from './batch.js';
import { finishLabelSet, type LabelLimits } from './labelset.js';
import { WireReader, corrupt, readSample } from './wire.js';

/**
 * Decodes a remote-write 1.0 `prometheus.WriteRequest` into `batch` without building a string or
 * an object per label or per sample. Throws an AugurError (400) on malformed input.
 */
export function decodeV1(r: WireReader, batch: Batch, limits: LabelLimits, maxSeries: number): void {
  const end = r.buf.length;
  while (r.pos < end) {
    const tag = r.uint32(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === 2) {
      const e = r.delimited(end);
      if (maxSeries > 0 && batch.seriesCount >= maxSeries) {
        throw new AugurError('TOO_MANY_SERIES', `request has more than ${maxSeries} series`);
      }
      timeSeries(r, batch, e, limits);
      r.pos = e;
    } else if (field === 3 && wt === 2) {
      const e = r.delimited(end);
      metadata(r, batch, e);
      r.pos = e;
    } else {
      if (field === 0) throw corrupt('field number 0', r.pos);
      r.skip(wt, end);
    }
  }
}

function timeSeries(r: WireReader, batch: Batch, end: number, limits: LabelLimits): void {
  const i = batch.openSeries();
  let histograms = 0;
  while (r.pos < end) {
    const tag = r.uint32(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (wt === 2 && field >= 1 && field <= 4) {
      const e = r.delimited(end);
      if (field === 1) {
        if (!plainLabel(r.buf, r.pos, e, batch)) label(r, batch, e);
      } else if (field === 2) readSample(r, batch, e);
      else if (field === 3) batch.exemplarCount++;
      else histograms++;
      r.pos = e;
    } else {
      if (field === 0) throw corrupt('field number 0', r.pos);
      r.skip(wt, end);
    }
  }
  if (histograms > 0 && batch.sampleCount > batch.seriesSampleStart[i]!) {
    throw new AugurError('SAMPLES_AND_HISTOGRAMS', `series ${i} carries both samples and histograms`);
  }
  batch.histogramCount += histograms;
  finishLabelSet(batch, i, limits);
  batch.closeSeries(i);
}

/**
 * The layout every sender writes, name then non-empty value with one-byte lengths, taken without
 * the general field loop. Returns false for anything else, which `label` then decodes.
 */
function plainLabel(b: Uint8Array, p: number, end: number, batch: Batch): boolean {
  if (p + 4 > end || b[p] !== 0x0a) return false;
  const nl = b[p + 1]!;
  const ns = p + 2;
  const ne = ns + nl;
  if (nl === 0 || nl >= 0x80 || ne + 2 > end || b[ne] !== 0x12) return false;
  const vl = b[ne + 1]!;
  if (vl === 0 || vl >= 0x80 || ne + 2 + vl !== end) return false;
  batch.addLabel(ns, ne, ne + 2, end);
  return true;
}

function label(r: WireReader, batch: Batch, end: number): void {
  let ns = r.pos, ne = r.pos, vs = r.pos, ve = r.pos;
  while (r.pos < end) {
    const tag = r.uint32(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (wt === 2 && (field === 1 || field === 2)) {
      const e = r.delimited(end);
      if (field === 1) { ns = r.pos; ne = e; } else { vs = r.pos; ve = e; }
      r.pos = e;
    } else {
      if (field === 0) throw corrupt('field number 0', r.pos);
      r.skip(wt, end);
    }
  }
  // An empty value means the label is absent.
  if (ve > vs) batch.addLabel(ns, ne, vs, ve);
  else if (ne === ns) throw new AugurError('EMPTY_LABEL_NAME', 'a label has an empty name and an empty value');
}

function metadata(r: WireReader, batch: Batch, end: number): void {
  let type = 0;
  let ns = 0, ne = 0;
  while (r.pos < end) {
    const tag = r.uint32(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === 0) type = r.uint32(end) | 0;
    else if (field === 2 && wt === 2) {
      const e = r.delimited(end);
      ns = r.pos;
      ne = e;
      r.pos = e;
    } else {
      if (field === 0) throw corrupt('field number 0', r.pos);
      r.skip(wt, end);
    }
  }
  if (ne > ns) batch.addMetadata(ns, ne, type);
}
