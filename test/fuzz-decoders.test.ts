import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAugurError } from '../src/errors.js';
import { Batch } from '../src/ingest/batch.js';
import { decodeV1 } from '../src/ingest/decode-v1.js';
import { V2Decoder } from '../src/ingest/decode-v2.js';
import { Receiver } from '../src/ingest/receiver.js';
import { SnappyDecoder } from '../src/ingest/snappy.js';
import { WireReader } from '../src/ingest/wire.js';
import { V1_CONTENT_TYPE, V2_CONTENT_TYPE, compress } from './helpers/remote-write.js';
import { corpus, gc } from './helpers/fuzz-corpus.js';
import { prng } from './helpers/server.js';

/**
 * In-process fuzzing of the snappy decoder and the v1 and v2 protobuf decoders: generated and
 * mutated inputs, directly against the decoders (no HTTP), so that 100,000+ cases fit in seconds.
 * Every input must decode or fail with an AugurError (never another exception, never a hang), and
 * memory must stay bounded. Seeded: AUGUR_FUZZ_SEED replays, AUGUR_FUZZ_CASES scales.
 */
const SEED = Number(process.env['AUGUR_FUZZ_SEED'] ?? 7);
const CASES = Number(process.env['AUGUR_FUZZ_CASES'] ?? 120_000);
const LIMITS = { maxLabels: 32, maxNameLength: 256, maxValueLength: 1024 };
const MAX_DECODED = 4 * 1024 * 1024;

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x1a, 0x22, 0x08, 0x10, 0x09, 0xfe];

function mutate(rand: () => number, input: Uint8Array, other: Uint8Array): Uint8Array {
  const pick = (n: number) => Math.floor(rand() * n);
  let b = Buffer.from(input);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length === 0 ? 0 : pick(b.length);
    switch (pick(9)) {
      case 0:
        if (b.length > 0) b[at] = b[at]! ^ (1 << pick(8));
        break;
      case 1:
        if (b.length > 0) b[at] = INTERESTING[pick(INTERESTING.length)]!;
        break;
      case 2:
        b = b.subarray(0, at);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), Buffer.from([pick(256)]), b.subarray(at)]);
        break;
      case 4:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pick(8)))]);
        break;
      case 5: {
        const n = 1 + pick(16);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + n), b.subarray(at)]);
        break;
      }
      case 6: {
        // A huge varint (length or count) in place.
        const v = [0xff, 0xff, 0xff, 0xff, 0x0f];
        b = Buffer.concat([b.subarray(0, at), Buffer.from(v.slice(0, 1 + pick(5))), b.subarray(at + 1)]);
        break;
      }
      case 7:
        b = Buffer.concat([b.subarray(0, at), other.subarray(pick(other.length)), b.subarray(at)]);
        break;
      default:
        for (let i = 0; i < 1 + pick(8) && b.length > 0; i++) b[pick(b.length)] = pick(256);
    }
  }
  return new Uint8Array(b);
}

function random(rand: () => number): Uint8Array {
  const n = Math.floor(rand() * 300);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rand() < 0.3 ? INTERESTING[Math.floor(rand() * INTERESTING.length)]! : Math.floor(rand() * 256);
  return b;
}

test(`${CASES} generated and mutated inputs against snappy, v1 and v2 decoders: AugurError or success only`, () => {
  const rand = prng(SEED);
  const { v1, v2 } = corpus();
  const all = [...v1, ...v2];
  const batch = new Batch();
  const reader = new WireReader();
  const v2dec = new V2Decoder();
  const snappy = new SnappyDecoder();
  const receiver = new Receiver({ ...LIMITS, maxDecodedBytes: MAX_DECODED, maxSeriesPerRequest: 1000 });
  const compressed = all.map((m) => compress(m));
  gc();
  const rssBefore = process.memoryUsage().rss;
  const counts = { ok: 0, rejected: 0 };
  const started = performance.now();
  let slowest = 0;
  for (let i = 0; i < CASES; i++) {
    const kind = i % 6;
    let input: Uint8Array;
    const t = performance.now();
    try {
      switch (kind) {
        case 0:
        case 1: {
          // v1 decoder, raw protobuf.
          input = rand() < 0.1 ? random(rand) : mutate(rand, v1[i % v1.length]!, all[(i >> 3) % all.length]!);
          batch.reset(input);
          reader.reset(input);
          decodeV1(reader, batch, LIMITS, 1000);
          break;
        }
        case 2:
        case 3: {
          input = rand() < 0.1 ? random(rand) : mutate(rand, v2[i % v2.length]!, all[(i >> 3) % all.length]!);
          batch.reset(input);
          reader.reset(input);
          v2dec.decode(reader, batch, LIMITS, 1000);
          break;
        }
        case 4: {
          // Snappy alone: mutated compressed bodies, and random bytes.
          input = rand() < 0.2 ? random(rand) : mutate(rand, compressed[i % compressed.length]!, compressed[(i >> 3) % compressed.length]!);
          snappy.decode(input, MAX_DECODED);
          break;
        }
        default: {
          // The whole path: snappy of a mutated message (valid compression of invalid protobuf)
          // or a mutated compressed body, through the Receiver, as either version.
          const m = i % 2 === 0 ? compress(mutate(rand, all[i % all.length]!, all[(i >> 5) % all.length]!)) : mutate(rand, compressed[i % compressed.length]!, compressed[0]!);
          input = m;
          receiver.decode(m, rand() < 0.5 ? V1_CONTENT_TYPE : V2_CONTENT_TYPE, 'snappy');
        }
      }
      counts.ok++;
    } catch (e) {
      if (!isAugurError(e)) {
        assert.fail(`case ${i} (kind ${kind}, seed ${SEED}) threw a non-AugurError: ${(e as Error).stack}\ninput: ${Buffer.from(input!).toString('hex')}`);
      }
      counts.rejected++;
    }
    const dt = performance.now() - t;
    if (dt > slowest) slowest = dt;
    assert.ok(dt < 1000, `case ${i} (seed ${SEED}) took ${dt.toFixed(0)} ms`);
  }
  gc();
  const grown = process.memoryUsage().rss - rssBefore;
  const seconds = (performance.now() - started) / 1000;
  console.log(`fuzz: ${CASES} cases in ${seconds.toFixed(1)} s: ${counts.ok} decoded, ${counts.rejected} rejected with AugurError; slowest case ${slowest.toFixed(1)} ms; rss grew ${(grown / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(counts.ok > CASES / 50, 'some mutated inputs still decode (the mutations are not all fatal)');
  assert.ok(counts.rejected > CASES / 10);
  assert.ok(grown < 256 * 2 ** 20, `memory bounded: rss grew ${grown} bytes`);
});
