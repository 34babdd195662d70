import { AugurError } from '../errors.js';

/**
 * Snappy block-format decoder into a buffer reused across requests. snappyjs, which the tests and
 * the load generator use to compress, does not check that copies stay inside the declared output
 * length nor that the stream fills it, so the request path decodes with this stricter version.
 * The declared length is read and checked against the limit before any allocation.
 */
const SLACK = 8;

export class SnappyDecoder {
  private out: Uint8Array = new Uint8Array(64 * 1024);
  private outView = new DataView(this.out.buffer);

  /** Returns a view into the decoder's buffer, valid until the next call. */
  decode(src: Uint8Array, maxDecoded: number): Uint8Array {
    const n = src.length;
    let pos = 0;
    let length = 0;
    let shift = 0;
    for (;;) {
      if (pos >= n) throw corrupt('truncated length header');
      const c = src[pos++]!;
      if (shift === 28 && c > 0x0f) throw corrupt('length header overflows 32 bits');
      length += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) break;
      shift += 7;
      if (shift > 28) throw corrupt('length header overflows 32 bits');
    }
    if (length > maxDecoded) {
      throw new AugurError('DECODED_TOO_LARGE', `snappy: declared decoded length ${length} exceeds the limit of ${maxDecoded} bytes`);
    }
    // A snappy element expands at most 64 bytes per 3 bytes of input (a copy of 64 from 3 bytes).
    if (length > (n - pos) * 22 + 64) {
      throw corrupt(`declared length ${length} is impossible for ${n} compressed bytes`);
    }
    // Slack past the declared length lets copies move four bytes at a time and overshoot.
    if (this.out.length < length + SLACK) {
      this.out = new Uint8Array(Math.max(length + SLACK, this.out.length * 2));
      this.outView = new DataView(this.out.buffer);
    }
    const o = decodeElements(src, pos, this.out, this.outView, length);
    if (o !== length) throw corrupt(`stream decoded to ${o} bytes, header declared ${length}`);
    if (this.out.length > 8 * 1024 * 1024 && length < this.out.length / 4) {
      // Keep a one-off huge request from pinning its buffer forever.
      const view = this.out.slice(0, length);
      this.out = new Uint8Array(64 * 1024);
      this.outView = new DataView(this.out.buffer);
      return view;
    }
    return this.out.subarray(0, length);
  }
}

/**
 * The element loop, kept small for the optimizer: each element makes one bounds check that covers
 * both its input and its output, and the failure paths are out of line. Returns the output length.
 */
function decodeElements(src: Uint8Array, pos: number, out: Uint8Array, ov: DataView, length: number): number {
  const n = src.length;
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  let o = 0;
  while (pos < n) {
    const tag = src[pos++]!;
    const type = tag & 3;
    if (type === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const extra = len - 60;
        if (pos + extra > n) throw corrupt('truncated literal length');
        len = src[pos]!;
        if (extra > 1) len |= src[pos + 1]! << 8;
        if (extra > 2) len |= src[pos + 2]! << 16;
        if (extra > 3) len += src[pos + 3]! * 0x1000000;
        pos += extra;
        len += 1;
      }
      if (pos + len > n || o + len > length) throw literalError(pos + len > n);
      if (pos + len + 3 < n && len <= 64) {
        for (let i = 0; i < len; i += 4) ov.setUint32(o + i, sv.getUint32(pos + i, true), true);
      } else if (len < 64) {
        for (let i = 0; i < len; i++) out[o + i] = src[pos + i]!;
      } else {
        out.set(src.subarray(pos, pos + len), o);
      }
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (type === 1) {
      if (pos >= n) throw corrupt('truncated copy');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[pos++]!;
    } else if (type === 2) {
      if (pos + 2 > n) throw corrupt('truncated copy');
      len = (tag >>> 2) + 1;
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > n) throw corrupt('truncated copy');
      len = (tag >>> 2) + 1;
      offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16)) + src[pos + 3]! * 0x1000000;
      pos += 4;
    }
    let from = o - offset;
    const stop = o + len;
    if (offset === 0 || from < 0 || stop > length) throw copyError(offset === 0 || from < 0);
    // Copies are at most 64 bytes: a plain loop beats copyWithin's call overhead. With an
    // offset of four or more, every word read was written before it is read.
    if (offset >= 4) {
      while (o < stop) {
        ov.setUint32(o, ov.getUint32(from, true), true);
        o += 4;
        from += 4;
      }
      o = stop;
    } else {
      while (o < stop) out[o++] = out[from++]!;
    }
  }
  return o;
}

function corrupt(what: string): AugurError {
  return new AugurError('SNAPPY_CORRUPT', `snappy: ${what}`);
}

function literalError(pastInput: boolean): AugurError {
  return corrupt(pastInput ? 'literal runs past the end of input' : 'output exceeds the declared length');
}

function copyError(badOffset: boolean): AugurError {
  return corrupt(badOffset ? 'copy offset points before the start of output' : 'output exceeds the declared length');
}
