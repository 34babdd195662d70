import { AugurError } from '../errors.js';
import type { Batch } from './batch.js';

/**
 * Minimal protobuf wire reader over one buffer, in the style of protobuf-es's BinaryReader: a
 * position, an end, and reads that bound-check against the end of the current message.
 */
export class WireReader {
  buf: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(new ArrayBuffer(8));
  pos = 0;

  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
  }

  /** A varint that must fit in 32 bits unsigned (tags, lengths, enums, uint32). */
  uint32(end: number): number {
    const b = this.buf;
    let p = this.pos;
    if (p < end) {
      const c0 = b[p]!;
      if (c0 < 0x80) {
        this.pos = p + 1;
        return c0;
      }
      if (p + 1 < end) {
        const c1 = b[p + 1]!;
        if (c1 < 0x80) {
          this.pos = p + 2;
          return (c0 & 0x7f) | (c1 << 7);
        }
      }
    }
    let x = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (p >= end) throw corrupt('truncated varint', p);
      const c = b[p++]!;
      x += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) {
        this.pos = p;
        return x > 0xffffffff ? x % 0x100000000 : x;
      }
    }
    // int32 negatives are sign-extended to ten bytes; accept and truncate like protobuf does.
    for (let i = 0; i < 5; i++) {
      if (p >= end) throw corrupt('truncated varint', p);
      if (b[p++]! < 0x80) {
        this.pos = p;
        return x % 0x100000000;
      }
    }
    throw corrupt('varint longer than 10 bytes', p);
  }

  /** An int64 varint as a double (exact up to 2^53, which covers millisecond timestamps). */
  int64(end: number): number {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let c = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= end) throw corrupt('truncated varint', p);
      c = b[p++]!;
      lo |= (c & 0x7f) << shift;
      if (c < 0x80) {
        this.pos = p;
        return lo >>> 0;
      }
    }
    if (p >= end) throw corrupt('truncated varint', p);
    c = b[p++]!;
    lo |= (c & 0x0f) << 28;
    hi = (c & 0x70) >> 4;
    if (c >= 0x80) {
      for (let shift = 3; shift < 32; shift += 7) {
        if (p >= end) throw corrupt('truncated varint', p);
        c = b[p++]!;
        hi |= (c & 0x7f) << shift;
        if (c < 0x80) break;
      }
      if (c >= 0x80) throw corrupt('varint longer than 10 bytes', p);
    }
    this.pos = p;
    return (hi | 0) * 0x100000000 + (lo >>> 0);
  }

  double(end: number): number {
    const p = this.pos;
    if (p + 8 > end) throw corrupt('truncated fixed64', p);
    this.pos = p + 8;
    return this.view.getFloat64(p, true);
  }

  /** Reads a length prefix and returns the end offset of the delimited field. */
  delimited(end: number): number {
    const len = this.uint32(end);
    const e = this.pos + len;
    if (e > end) throw corrupt(`field of ${len} bytes runs past the end of its message`, this.pos);
    return e;
  }

  skip(wireType: number, end: number): void {
    switch (wireType) {
      case 0:
        this.int64(end);
        return;
      case 1:
        if (this.pos + 8 > end) throw corrupt('truncated fixed64', this.pos);
        this.pos += 8;
        return;
      case 2:
        this.pos = this.delimited(end);
        return;
      case 5:
        if (this.pos + 4 > end) throw corrupt('truncated fixed32', this.pos);
        this.pos += 4;
        return;
      default:
        throw corrupt(`unsupported wire type ${wireType}`, this.pos);
    }
  }
}

export function corrupt(what: string, at: number): AugurError {
  return new AugurError('PROTOBUF_CORRUPT', `protobuf: ${what} at byte ${at}`);
}

/** Float64 bits of Prometheus's stale marker, a NaN told apart from ordinary NaN by its payload. */
export const STALE_HI = 0x7ff00000;
export const STALE_LO = 0x00000002;

/**
 * One `Sample` message (v1 and v2 share field numbers: value 1, timestamp 2; v2's start_timestamp
 * 3 is read and ignored). The stale marker is told apart from other NaNs by its raw bits.
 */
export function readSample(r: WireReader, batch: Batch, end: number): void {
  const p = r.pos;
  // The usual layout, value then timestamp, without the field loop.
  if (p + 11 <= end && r.buf[p] === 0x09 && r.buf[p + 9] === 0x10) {
    r.pos = p + 10;
    const time = r.int64(end);
    if (r.pos === end) {
      const v = r.view;
      const stale = v.getUint32(p + 5, true) === STALE_HI && v.getUint32(p + 1, true) === STALE_LO ? 1 : 0;
      batch.addSample(v.getFloat64(p + 1, true), time, stale);
      return;
    }
    r.pos = p;
  }
  let value = 0;
  let time = 0;
  let stale = 0;
  while (r.pos < end) {
    const tag = r.uint32(end);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === 1) {
      const p = r.pos;
      value = r.double(end);
      stale = r.view.getUint32(p + 4, true) === STALE_HI && r.view.getUint32(p, true) === STALE_LO ? 1 : 0;
    } else if ((field === 2 || field === 3) && wt === 0) {
      const t = r.int64(end);
      if (field === 2) time = t;
    } else {
      if (field === 0) throw corrupt('field number 0', r.pos);
      r.skip(wt, end);
    }
  }
  batch.addSample(value, time, stale);
}
