import { AugurError } from '../errors.js';
import type { Batch } from './batch.js';

export interface LabelLimits {
  maxLabels: number;
  maxNameLength: number;
  maxValueLength: number;
}

const NAME = [0x5f, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x5f, 0x5f]; // "__name__"

function compareSpans(b: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  const n = la < lb ? la : lb;
  for (let i = 0; i < n; i++) {
    const d = b[as + i]! - b[bs + i]!;
    if (d !== 0) return d;
  }
  return la - lb;
}

function isName(b: Uint8Array, s: number, e: number): boolean {
  if (e - s !== 8) return false;
  for (let i = 0; i < 8; i++) if (b[s + i] !== NAME[i]) return false;
  return true;
}

/**
 * Validates the label run of series `i` in place: sorts it by name when the sender did not,
 * rejects empty names, duplicates and a missing `__name__`, and computes the series identity, a
 * 64-bit hash of the canonical (sorted) label bytes, in two independent 32-bit lanes.
 */
export function finishLabelSet(batch: Batch, i: number, limits: LabelLimits): void {
  const b = batch.buf;
  const start = batch.seriesLabelStart[i]!;
  const count = batch.labelCount - start;
  if (count === 0) throw new AugurError('EMPTY_LABEL_SET', `series ${i} of the request has no labels`);
  if (limits.maxLabels > 0 && count > limits.maxLabels) {
    throw new AugurError('TOO_MANY_LABELS', `series ${i} has ${count} labels, the limit is ${limits.maxLabels}`);
  }
  const ns = batch.nameStart;
  const ne = batch.nameEnd;
  const vs = batch.valueStart;
  const ve = batch.valueEnd;
  let sorted = true;
  for (let k = start; k < start + count; k++) {
    const nl = ne[k]! - ns[k]!;
    if (nl === 0) throw new AugurError('EMPTY_LABEL_NAME', `series ${i} has a label with an empty name`);
    if (limits.maxNameLength > 0 && nl > limits.maxNameLength) {
      throw new AugurError('LABEL_TOO_LONG', `series ${i} has a label name of ${nl} bytes, the limit is ${limits.maxNameLength}`);
    }
    const vl = ve[k]! - vs[k]!;
    if (limits.maxValueLength > 0 && vl > limits.maxValueLength) {
      throw new AugurError('LABEL_TOO_LONG', `series ${i} has a label value of ${vl} bytes, the limit is ${limits.maxValueLength}`);
    }
    if (k > start) {
      const c = compareSpans(b, ns[k - 1]!, ne[k - 1]!, ns[k]!, ne[k]!);
      if (c === 0) throw duplicate(b, i, ns[k]!, ne[k]!);
      if (c > 0) sorted = false;
    }
  }
  if (!sorted) {
    // Insertion sort: label sets are small and usually almost sorted.
    for (let k = start + 1; k < start + count; k++) {
      const a = ns[k]!, bEnd = ne[k]!, c = vs[k]!, d = ve[k]!;
      let j = k - 1;
      while (j >= start && compareSpans(b, ns[j]!, ne[j]!, a, bEnd) > 0) {
        ns[j + 1] = ns[j]!; ne[j + 1] = ne[j]!; vs[j + 1] = vs[j]!; ve[j + 1] = ve[j]!;
        j--;
      }
      ns[j + 1] = a; ne[j + 1] = bEnd; vs[j + 1] = c; ve[j + 1] = d;
    }
    for (let k = start + 1; k < start + count; k++) {
      if (compareSpans(b, ns[k - 1]!, ne[k - 1]!, ns[k]!, ne[k]!) === 0) throw duplicate(b, i, ns[k]!, ne[k]!);
    }
  }
  let nameAt = -1;
  let h1 = 0x811c9dc5;
  let h2 = 0x6a09e667;
  let keyLen = 0;
  for (let k = start; k < start + count; k++) {
    const s = ns[k]!, e = ne[k]!;
    if (nameAt < 0 && isName(b, s, e)) nameAt = k - start;
    const v0 = vs[k]!, v1 = ve[k]!;
    h1 = mixSpan(b, s, e, h1, 0xff);
    h2 = mixSpan(b, s, e, h2 ^ 0x5bd1e995, 0xff);
    h1 = mixSpan(b, v0, v1, h1, 0xfe);
    h2 = mixSpan(b, v0, v1, h2 ^ 0x27d4eb2f, 0xfe);
    keyLen += e - s + v1 - v0 + 2;
  }
  if (nameAt < 0) throw new AugurError('MISSING_METRIC_NAME', `series ${i} of the request has no __name__ label`);
  batch.seriesHashLo[i] = fmix(h1 ^ Math.imul(h2, 0x27d4eb2f)) >>> 0;
  batch.seriesHashHi[i] = fmix(h2 ^ Math.imul(h1, 0x165667b1)) >>> 0;
  batch.seriesKeyLen[i] = keyLen;
  batch.seriesNameLabel[i] = nameAt;
}

/**
 * Murmur3-style mixing of a byte span four bytes at a time, ended by a separator byte so that
 * ("ab","c") and ("a","bc") differ. Two calls with different seeds give the two hash lanes.
 */
function mixSpan(b: Uint8Array, s: number, e: number, h: number, sep: number): number {
  let p = s;
  const e4 = e - 3;
  while (p < e4) {
    let k = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    p += 4;
  }
  let k = sep;
  let shift = 8;
  while (p < e) {
    k |= b[p++]! << shift;
    shift += 8;
    if (shift === 32) {
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      k = 0;
      shift = 0;
    }
  }
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  return (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function duplicate(b: Uint8Array, i: number, s: number, e: number): AugurError {
  const name = Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('utf8');
  return new AugurError('DUPLICATE_LABEL_NAME', `series ${i} has the label name ${JSON.stringify(name)} more than once`);
}
