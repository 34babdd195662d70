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
      if (pos >= n) throw new AugurError('SNAPPY_CORRUPT', 'snappy: truncated length header');
      const c = src[pos++]!;
      if (shift === 28 && c > 0x0f) throw new AugurError('SNAPPY_CORRUPT', 'snappy: length header overflows 32 bits');
      length += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) break;
      shift += 7;
      if (shift > 28) throw new AugurError('SNAPPY_CORRUPT', 'snappy: length header overflows 32 bits');
    }
    if (length > maxDecoded) {
      throw new AugurError('DECODED_TOO_LARGE', `snappy: declared decoded length ${length} exceeds the limit of ${maxDecoded} bytes`);
    }
    // A snappy element expands at most 64 bytes per 3 bytes of input (a copy of 64 from 3 bytes).
    if (length > (n - pos) * 22 + 64) {
      throw new AugurError('SNAPPY_CORRUPT', `snappy: declared length ${length} is impossible for ${n} compressed bytes`);
    }
    // Slack past the declared length lets copies move four bytes at a time and overshoot.
    if (this.out.length < length + SLACK) {
      this.out = new Uint8Array(Math.max(length + SLACK, this.out.length * 2));
      this.outView = new DataView(this.out.buffer);
    }
    const out = this.out;
    const ov = this.outView;
    const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    let o = 0;
    while (pos < n) {
      const tag = src[pos++]!;
      const type = tag & 3;
      if (type === 0) {
        let len = tag >>> 2;
        if (len >= 60) {
          const extra = len - 59;
          if (pos + extra > n) throw new AugurError('SNAPPY_CORRUPT', 'snappy: truncated literal length');
          len = 0;
          for (let i = 0; i < extra; i++) len += src[pos + i]! * 2 ** (8 * i);
          pos += extra;
        }
        len += 1;
        if (pos + len > n) throw new AugurError('SNAPPY_CORRUPT', 'snappy: literal runs past the end of input');
        if (o + len > length) throw new AugurError('SNAPPY_CORRUPT', 'snappy: output exceeds the declared length');
        if (len <= 64 && pos + len + 4 <= n) {
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
        if (pos >= n) throw new AugurError('SNAPPY_CORRUPT', 'snappy: truncated copy');
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | src[pos++]!;
      } else if (type === 2) {
        if (pos + 2 > n) throw new AugurError('SNAPPY_CORRUPT', 'snappy: truncated copy');
        len = (tag >>> 2) + 1;
        offset = src[pos]! | (src[pos + 1]! << 8);
        pos += 2;
      } else {
        if (pos + 4 > n) throw new AugurError('SNAPPY_CORRUPT', 'snappy: truncated copy');
        len = (tag >>> 2) + 1;
        offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16)) + src[pos + 3]! * 0x1000000;
        pos += 4;
      }
      if (offset === 0 || offset > o) throw new AugurError('SNAPPY_CORRUPT', 'snappy: copy offset points before the start of output');
      if (o + len > length) throw new AugurError('SNAPPY_CORRUPT', 'snappy: output exceeds the declared length');
      // Copies are at most 64 bytes: a plain loop beats copyWithin's call overhead. With an
      // offset of four or more, every word read was written before it is read.
      let from = o - offset;
      const stop = o + len;
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
    if (o !== length) throw new AugurError('SNAPPY_CORRUPT', `snappy: stream decoded to ${o} bytes, header declared ${length}`);
    if (this.out.length > 8 * 1024 * 1024 && length < this.out.length / 4) {
      // Keep a one-off huge request from pinning its buffer forever.
      const view = out.slice(0, length);
      this.out = new Uint8Array(64 * 1024);
      this.outView = new DataView(this.out.buffer);
      return view;
    }
    return out.subarray(0, length);
  }
}
