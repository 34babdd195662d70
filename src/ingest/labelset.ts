import { AugurError } from '../errors.js';
import { Batch } from './batch.js';

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

/** Whether the eight-byte span at `s` is `__name__` (the caller checks the length). */
function isName(b: Uint8Array, s: number): boolean {
  for (let i = 0; i < 8; i++) if (b[s + i] !== NAME[i]) return false;
  return true;
}

/**
 * Validates the label run of series `i` in place: sorts it by name when the sender did not,
 * rejects empty names, duplicates and a missing `__name__`, and computes the series identity, a
 * 64-bit hash of the canonical (sorted) label bytes, in two independent 32-bit lanes.
 */
export function finishLabelSet(batch: Batch, i: number, limits: LabelLimits): void {
  const start = batch.seriesLabelStart[i]!;
  const count = batch.labelCount - start;
  if (count === 0) throw new AugurError('EMPTY_LABEL_SET', `series ${i} of the request has no labels`);
  if (limits.maxLabels > 0 && count > limits.maxLabels) {
    throw new AugurError('TOO_MANY_LABELS', `series ${i} has ${count} labels, the limit is ${limits.maxLabels}`);
  }
  // Senders sort (Prometheus always does), so validation and hashing share one pass; an
  // unsorted set is sorted and hashed again.
  if (!validateAndHash(batch, i, start, start + count, limits)) {
    sortLabels(batch, start, start + count);
    validateAndHash(batch, i, start, start + count, limits);
  }
}

/** Returns false, leaving the hash unset, when the labels are not sorted by name. */
function validateAndHash(batch: Batch, i: number, start: number, end: number, limits: LabelLimits): boolean {
  const b = batch.buf;
  if (viewOf !== b) {
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    viewOf = b;
  }
  const dv = view;
  const ns = batch.nameStart;
  const ne = batch.nameEnd;
  const vs = batch.valueStart;
  const ve = batch.valueEnd;
  const maxName = limits.maxNameLength;
  const maxValue = limits.maxValueLength;
  let nameAt = -1;
  let h1 = 0x811c9dc5;
  let h2 = 0x6a09e667;
  let keyLen = 0;
  for (let k = start; k < end; k++) {
    const s = ns[k]!, e = ne[k]!;
    const v0 = vs[k]!, v1 = ve[k]!;
    const nl = e - s;
    if (nl === 0) throw new AugurError('EMPTY_LABEL_NAME', `series ${i} has a label with an empty name`);
    if (maxName > 0 && nl > maxName) {
      throw new AugurError('LABEL_TOO_LONG', `series ${i} has a label name of ${nl} bytes, the limit is ${maxName}`);
    }
    if (maxValue > 0 && v1 - v0 > maxValue) {
      throw new AugurError('LABEL_TOO_LONG', `series ${i} has a label value of ${v1 - v0} bytes, the limit is ${maxValue}`);
    }
    if (k > start) {
      const c = compareSpans(b, ns[k - 1]!, ne[k - 1]!, s, e);
      if (c === 0) throw duplicate(b, i, s, e);
      if (c > 0) return false;
    }
    if (nameAt < 0 && nl === 8 && isName(b, s)) nameAt = k - start;
    h1 = mixSpans(dv, b, s, e, h1, h2 ^ 0x5bd1e995, 0xff);
    h2 = lane2;
    h1 = mixSpans(dv, b, v0, v1, h1, h2 ^ 0x27d4eb2f, 0xfe);
    h2 = lane2;
    keyLen += nl + v1 - v0 + 2;
  }
  if (nameAt < 0) throw new AugurError('MISSING_METRIC_NAME', `series ${i} of the request has no __name__ label`);
  batch.seriesHashLo[i] = fmix(h1 ^ Math.imul(h2, 0x27d4eb2f)) >>> 0;
  batch.seriesHashHi[i] = fmix(h2 ^ Math.imul(h1, 0x165667b1)) >>> 0;
  batch.seriesKeyLen[i] = keyLen;
  batch.seriesNameLabel[i] = nameAt;
  return true;
}

/** Insertion sort by name: label sets are small and usually almost sorted. Duplicates end up adjacent. */
function sortLabels(batch: Batch, start: number, end: number): void {
  const b = batch.buf;
  const ns = batch.nameStart;
  const ne = batch.nameEnd;
  const vs = batch.valueStart;
  const ve = batch.valueEnd;
  for (let k = start + 1; k < end; k++) {
    const a = ns[k]!, bEnd = ne[k]!, c = vs[k]!, d = ve[k]!;
    let j = k - 1;
    while (j >= start && compareSpans(b, ns[j]!, ne[j]!, a, bEnd) > 0) {
      ns[j + 1] = ns[j]!; ne[j + 1] = ne[j]!; vs[j + 1] = vs[j]!; ve[j + 1] = ve[j]!;
      j--;
    }
    ns[j + 1] = a; ne[j + 1] = bEnd; vs[j + 1] = c; ve[j + 1] = d;
  }
}

/** A view of the body being hashed, made once per body rather than per series. */
let view: DataView = new DataView(new ArrayBuffer(0));
let viewOf: Uint8Array | null = null;

/** The second lane's result of the last `mixSpans` call (a second return value, without allocating). */
let lane2 = 0;

/**
 * Murmur3-style mixing of a byte span four bytes at a time into two lanes at once, ended by a
 * word holding a separator byte and the zero to three bytes left over (and a zero word after three),
 * so that ("ab","c") and ("a","bc") differ. Both lanes mix the same scrambled words, so each word
 * is read and scrambled once. Returns lane one; lane two is left in `lane2`.
 */
function mixSpans(dv: DataView, b: Uint8Array, s: number, e: number, h: number, g: number, sep: number): number {
  let p = s;
  for (;;) {
    let k: number;
    if (p + 4 <= e) {
      k = dv.getInt32(p, true);
      p += 4;
    } else if (p <= e) {
      const rest = e - p;
      k = sep;
      if (rest > 0) k |= b[p]! << 8;
      if (rest > 1) k |= b[p + 1]! << 16;
      if (rest > 2) k |= b[p + 2]! << 24;
      p = rest > 2 ? e + 1 : e + 2;
    } else if (p === e + 1) {
      k = 0;
      p = e + 2;
    } else break;
    k = Math.imul(k, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
    g ^= k;
    g = (Math.imul((g << 13) | (g >>> 19), 5) + 0xe6546b64) | 0;
  }
  lane2 = g;
  return h;
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

const scratch = new Batch();
const NO_LIMITS: LabelLimits = { maxLabels: 0, maxNameLength: 0, maxValueLength: 0 };
const utf8 = new TextEncoder();

/**
 * The identity of a label set given as strings (`__name__` included), as the decoders compute it
 * from the same labels on the wire; null for a set they would reject. Off the request path.
 */
export function identityOf(labels: ReadonlyArray<readonly [string, string]>): { lo: number; hi: number; keyLen: number } | null {
  const bytes = labels.map(([n, v]) => [utf8.encode(n), utf8.encode(v)] as const);
  const buf = new Uint8Array(bytes.reduce((a, [n, v]) => a + n.length + v.length, 0));
  scratch.reset(buf);
  const i = scratch.openSeries();
  let p = 0;
  for (const [n, v] of bytes) {
    buf.set(n, p);
    buf.set(v, p + n.length);
    scratch.addLabel(p, p + n.length, p + n.length, p + n.length + v.length);
    p += n.length + v.length;
  }
  try {
    finishLabelSet(scratch, i, NO_LIMITS);
  } catch {
    return null;
  }
  return { lo: scratch.seriesHashLo[i]!, hi: scratch.seriesHashHi[i]!, keyLen: scratch.seriesKeyLen[i]! };
}
