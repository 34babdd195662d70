import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import snappyjs from 'snappyjs';
import { SnappyDecoder } from '../src/ingest/snappy.js';
import { AugurError } from '../src/errors.js';
import { prng } from './helpers/server.js';
import { snappyHeader as header } from './helpers/fuzz-corpus.js';

const LIMIT = 32 * 1024 * 1024;

function compress(data: Uint8Array): Uint8Array {
  return new Uint8Array(snappyjs.compress(data) as Uint8Array);
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (rand() * 256) | 0;
  return b;
}

/** Text-like data with long repeats, so the compressor emits every kind of copy. */
function repetitiveBytes(rand: () => number, n: number): Uint8Array {
  const words = ['http_requests_total', 'job', 'instance', 'node-exporter', '10.0.0.1:9100', '__name__', 'le', '+Inf', '0.005'];
  const b = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const r = rand();
    if (r < 0.1 && i > 0) {
      // Overlapping copy of a run, like `aaaa…`.
      const c = b[i - 1]!;
      const len = 1 + ((rand() * 300) | 0);
      for (let k = 0; k < len && i < n; k++) b[i++] = c;
    } else if (r < 0.2 && i > 70000) {
      // A copy from far back (4-byte offsets when the compressor uses them).
      const from = (rand() * (i - 66000)) | 0;
      const len = 4 + ((rand() * 60) | 0);
      for (let k = 0; k < len && i < n; k++) b[i++] = b[from + k]!;
    } else {
      const w = words[(rand() * words.length) | 0]!;
      for (let k = 0; k < w.length && i < n; k++) b[i++] = w.charCodeAt(k);
    }
  }
  return b;
}

function expectCorrupt(fn: () => unknown, code = 'SNAPPY_CORRUPT', message?: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof AugurError, `expected AugurError ${code}, got ${err === undefined ? 'success' : String(err)}`);
  assert.equal(err.code, `AUGUR_ERR_${code}`, err.message);
  assert.equal(err.statusCode, 400);
  if (message) assert.match(err.message, message);
}

describe('snappy decoder', () => {
  it('round-trips random data compressed by snappyjs', () => {
    const rand = prng(1);
    const dec = new SnappyDecoder();
    for (const n of [0, 1, 2, 3, 15, 16, 17, 59, 60, 61, 255, 256, 257, 65535, 65536, 65537, 200_000]) {
      const data = randomBytes(rand, n);
      const out = dec.decode(compress(data), LIMIT);
      assert.equal(out.length, n);
      assert.ok(Buffer.from(out).equals(Buffer.from(data)), `random data of ${n} bytes`);
    }
  });

  it('round-trips repetitive data and agrees with snappyjs', () => {
    const rand = prng(2);
    const dec = new SnappyDecoder();
    for (const n of [10, 100, 1000, 10_000, 100_000, 1_000_000]) {
      const data = repetitiveBytes(rand, n);
      const c = compress(data);
      assert.ok(c.length < n || n < 100, 'the data compresses');
      const out = dec.decode(c, LIMIT);
      assert.ok(Buffer.from(out).equals(Buffer.from(data)), `repetitive data of ${n} bytes`);
      assert.ok(Buffer.from(out).equals(Buffer.from(snappyjs.uncompress(c) as Uint8Array)));
    }
    const zeros = new Uint8Array(3_000_000);
    assert.ok(Buffer.from(dec.decode(compress(zeros), LIMIT)).equals(Buffer.from(zeros)));
  });

  it('decodes every kind of element written by hand', () => {
    const dec = new SnappyDecoder();
    // Literal of 3 ("abc"), copy-1 (len 4, offset 3), copy-2 (len 6, offset 2), copy-4 (len 2, offset 1).
    const src = Uint8Array.from([...header(15), 0x08, 0x61, 0x62, 0x63, (0 << 2) | 1 | (0 << 5), 3, ((6 - 1) << 2) | 2, 2, 0, ((2 - 1) << 2) | 3, 1, 0, 0, 0]);
    assert.equal(Buffer.from(dec.decode(src, LIMIT)).toString('latin1'), 'abcabcacacacaaa');
    // Literal with a one-byte extra length (tag 60): 61 bytes.
    const lit = new Uint8Array(61).fill(0x41);
    const src2 = Uint8Array.from([...header(61), 60 << 2, 60, ...lit]);
    assert.equal(Buffer.from(dec.decode(src2, LIMIT)).toString('latin1'), 'A'.repeat(61));
    // Literal with a two-byte extra length (tag 61).
    const src3 = Uint8Array.from([...header(300), 61 << 2, 43, 1, ...new Uint8Array(300).fill(0x42)]);
    assert.equal(dec.decode(src3, LIMIT).length, 300);
    // The empty stream.
    assert.equal(dec.decode(Uint8Array.from([0]), LIMIT).length, 0);
  });

  it('rejects a declared length over the limit before allocating', () => {
    const dec = new SnappyDecoder();
    const declared = 100 * 1024 * 1024;
    // Enough input that the length is not impossible, so only the limit can stop it.
    const src = new Uint8Array(header(declared).length + 5 * 1024 * 1024);
    src.set(header(declared));
    const before = process.memoryUsage().arrayBuffers;
    expectCorrupt(() => dec.decode(src, LIMIT), 'DECODED_TOO_LARGE', /exceeds the limit/);
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 16 * 1024 * 1024, `decoder allocated ${grown} bytes for a rejected header`);
    // Exactly at the limit is fine, one over is not.
    const data = new Uint8Array(2048).fill(7);
    assert.equal(dec.decode(compress(data), 2048).length, 2048);
    expectCorrupt(() => dec.decode(compress(data), 2047), 'DECODED_TOO_LARGE');
  });

  it('rejects a declared length that the input cannot produce', () => {
    const dec = new SnappyDecoder();
    const before = process.memoryUsage().arrayBuffers;
    // 2 GiB declared, a handful of bytes of input, and a limit that would allow it.
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(2 ** 31), 0, 0x61]), 2 ** 32), 'SNAPPY_CORRUPT', /impossible/);
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(1_000_000), 0xfe, 0xff, 0xff]), 2 ** 32));
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
  });

  it('rejects huge and malformed length headers', () => {
    const dec = new SnappyDecoder();
    expectCorrupt(() => dec.decode(new Uint8Array(0), LIMIT), 'SNAPPY_CORRUPT', /truncated length header/);
    expectCorrupt(() => dec.decode(Uint8Array.from([0x80]), LIMIT), 'SNAPPY_CORRUPT', /truncated length header/);
    expectCorrupt(() => dec.decode(Uint8Array.from([0xff, 0xff, 0xff]), LIMIT), 'SNAPPY_CORRUPT');
    // Five bytes, top byte over 0x0f: more than 32 bits.
    expectCorrupt(() => dec.decode(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x1f, 0]), 2 ** 40), 'SNAPPY_CORRUPT', /32 bits/);
    // Six or more bytes of varint.
    expectCorrupt(() => dec.decode(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 2 ** 40), 'SNAPPY_CORRUPT', /32 bits/);
    expectCorrupt(() => dec.decode(Uint8Array.from(new Array(20).fill(0xff)), 2 ** 40), 'SNAPPY_CORRUPT');
    // The largest 32-bit length, default limit: too large.
    expectCorrupt(() => dec.decode(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0]), LIMIT), 'DECODED_TOO_LARGE');
  });

  it('rejects every truncation of a valid stream', () => {
    const rand = prng(3);
    const dec = new SnappyDecoder();
    for (const data of [randomBytes(rand, 300), repetitiveBytes(rand, 2000)]) {
      const c = compress(data);
      for (let n = 0; n < c.length; n++) {
        expectCorrupt(() => dec.decode(c.subarray(0, n), LIMIT));
      }
    }
    // Literal length bytes cut off, literal bytes cut off, copy operands cut off.
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(100), 61 << 2, 99]), LIMIT), 'SNAPPY_CORRUPT', /literal length/);
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(10), 9 << 2, 1, 2, 3]), LIMIT), 'SNAPPY_CORRUPT', /past the end of input/);
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(8), 0, 0x61, 1]), LIMIT), 'SNAPPY_CORRUPT', /truncated copy/);
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(8), 0, 0x61, 2, 1]), LIMIT), 'SNAPPY_CORRUPT', /truncated copy/);
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(8), 0, 0x61, 3, 1, 0, 0]), LIMIT), 'SNAPPY_CORRUPT', /truncated copy/);
  });

  it('rejects copy offsets out of range', () => {
    const dec = new SnappyDecoder();
    // Copy before any output.
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(4), 1, 1]), LIMIT), 'SNAPPY_CORRUPT', /offset/);
    // Offset zero.
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(5), 0, 0x61, 1, 0]), LIMIT), 'SNAPPY_CORRUPT', /offset/);
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(5), 0, 0x61, 2, 0, 0]), LIMIT), 'SNAPPY_CORRUPT', /offset/);
    // Offset one past the output so far (1 byte written, offset 2), for every copy width.
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(5), 0, 0x61, 1, 2]), LIMIT), 'SNAPPY_CORRUPT', /offset/);
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(5), 0, 0x61, (3 << 2) | 2, 2, 0]), LIMIT), 'SNAPPY_CORRUPT', /offset/);
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(5), 0, 0x61, (3 << 2) | 3, 0xff, 0xff, 0xff, 0xff]), LIMIT), 'SNAPPY_CORRUPT', /offset/);
    // Copy-1 with the high offset bits from the tag: 0x700 + 0xff.
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(5), 0, 0x61, 0xe1, 0xff]), LIMIT), 'SNAPPY_CORRUPT', /offset/);
  });

  it('rejects output that overruns or underfills the declared length', () => {
    const dec = new SnappyDecoder();
    // Literal of 4 into a declared 3.
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(3), 3 << 2, 1, 2, 3, 4]), LIMIT), 'SNAPPY_CORRUPT', /exceeds the declared length/);
    // Copy of 8 after one byte into a declared 5.
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(5), 0, 0x61, (4 << 2) | 1, 1]), LIMIT), 'SNAPPY_CORRUPT', /exceeds the declared length/);
    // Long copy (64) overrunning.
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(40), 0, 0x61, (63 << 2) | 2, 1, 0]), LIMIT), 'SNAPPY_CORRUPT', /exceeds the declared length/);
    // Stream ends short of the declared length.
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(10), 1 << 2, 0x61, 0x62]), LIMIT), 'SNAPPY_CORRUPT', /declared 10/);
    // A valid stream with a header one larger or smaller than its content.
    const data = new TextEncoder().encode('hello hello hello hello world');
    const c = compress(data);
    const h = header(data.length);
    const body = c.subarray(h.length);
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(data.length + 1), ...body]), LIMIT));
    expectCorrupt(() => dec.decode(Uint8Array.from([...header(data.length - 1), ...body]), LIMIT));
  });

  it('never throws anything but an AugurError on mutated streams', () => {
    const rand = prng(4);
    const dec = new SnappyDecoder();
    const base = compress(repetitiveBytes(rand, 5000));
    let ok = 0;
    for (let iter = 0; iter < 3000; iter++) {
      const m = Uint8Array.from(base);
      const flips = 1 + ((rand() * 4) | 0);
      for (let f = 0; f < flips; f++) m[(rand() * m.length) | 0] = (rand() * 256) | 0;
      try {
        const out = dec.decode(m, LIMIT);
        ok++;
        assert.ok(out.length <= LIMIT);
      } catch (e) {
        assert.ok(e instanceof AugurError, String(e));
      }
    }
    assert.ok(ok < 3000);
  });

  it('keeps earlier results correct across buffer growth and release', () => {
    const rand = prng(5);
    const dec = new SnappyDecoder();
    const big = repetitiveBytes(rand, 9 * 1024 * 1024);
    const small = randomBytes(rand, 1000);
    assert.ok(Buffer.from(dec.decode(compress(small), LIMIT)).equals(Buffer.from(small)));
    assert.ok(Buffer.from(dec.decode(compress(big), LIMIT)).equals(Buffer.from(big)));
    // After a huge request, a small one gets a copy and the big buffer is let go.
    const out = dec.decode(compress(small), LIMIT);
    assert.ok(Buffer.from(out).equals(Buffer.from(small)));
    assert.ok(Buffer.from(dec.decode(compress(big), LIMIT)).equals(Buffer.from(big)));
  });
});
