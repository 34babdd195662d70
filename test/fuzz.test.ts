import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compress, encodeV1 } from './helpers/remote-write.js';
import { corpus, gc, snappyHeader as header } from './helpers/fuzz-corpus.js';
import { V1_CONTENT_TYPE, V2_CONTENT_TYPE, getMetrics, parseExposition, find, postRaw, prng, startAugur, type Server } from './helpers/server.js';

/**
 * Random and mutated remote-write bodies against a running server. Seeded: set AUGUR_FUZZ_SEED to
 * replay a failure (the seed and the failing case index are in the assertion message).
 */
const SEED = Number(process.env['AUGUR_FUZZ_SEED'] ?? 20240601);
const CASES = Number(process.env['AUGUR_FUZZ_CASES'] ?? 20_000);
const IN_FLIGHT = 16;

type Rand = () => number;

function int(rand: Rand, n: number): number {
  return (rand() * n) | 0;
}

function randomBytes(rand: Rand, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = int(rand, 256);
  return b;
}

function hugeVarint(rand: Rand): number[] {
  const n = 5 + int(rand, 8);
  const out: number[] = [];
  for (let i = 0; i < n - 1; i++) out.push(0x80 | int(rand, 128));
  out.push(rand() < 0.3 ? 0x80 : int(rand, 128));
  return out;
}

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Mutations of a protobuf or snappy byte string. */
function mutate(rand: Rand, src: Uint8Array): Uint8Array {
  let b: Uint8Array = Uint8Array.from(src);
  const rounds = 1 + int(rand, 3);
  for (let r = 0; r < rounds; r++) {
    const kind = int(rand, 8);
    const at = b.length === 0 ? 0 : int(rand, b.length);
    switch (kind) {
      case 0: // truncate
        b = b.subarray(0, at);
        break;
      case 1: // flip a bit
        if (b.length > 0) b[at] = b[at]! ^ (1 << int(rand, 8));
        break;
      case 2: // random byte
        if (b.length > 0) b[at] = int(rand, 256);
        break;
      case 3: // insert a huge varint
        b = concat(b.subarray(0, at), hugeVarint(rand), b.subarray(at));
        break;
      case 4: // delete a run
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(rand, 8))));
        break;
      case 5: // duplicate a run
        b = concat(b.subarray(0, at), b.subarray(at, at + 1 + int(rand, 32)), b.subarray(at));
        break;
      case 6: // insert random bytes
        b = concat(b.subarray(0, at), randomBytes(rand, 1 + int(rand, 16)), b.subarray(at));
        break;
      default: // overwrite with 0xff (max varint bytes, wire type 7)
        for (let i = at; i < Math.min(b.length, at + 1 + int(rand, 6)); i++) b[i] = 0xff;
    }
  }
  return b;
}

interface Case {
  body: Uint8Array;
  v2: boolean;
  kind: string;
}

function makeCase(rand: Rand, c: { v1: Uint8Array[]; v2: Uint8Array[] }): Case {
  const v2 = rand() < 0.4;
  const base = v2 ? c.v2[int(rand, c.v2.length)]! : c.v1[int(rand, c.v1.length)]!;
  const k = int(rand, 10);
  switch (k) {
    case 0:
      return { kind: 'random bytes', v2, body: randomBytes(rand, int(rand, 600)) };
    case 1:
      return { kind: 'snappy around random bytes', v2, body: compress(randomBytes(rand, int(rand, 600))) };
    case 2:
    case 3:
    case 4:
      return { kind: 'mutated protobuf', v2, body: compress(mutate(rand, base)) };
    case 5:
    case 6:
      return { kind: 'mutated snappy', v2, body: mutate(rand, compress(base)) };
    case 7: {
      // Bad snappy headers: a wrong, huge or malformed declared length in front of a valid stream.
      const stream = compress(base);
      let h = 0;
      while (stream[h]! >= 0x80) h++;
      const rest = stream.subarray(h + 1);
      const choice = int(rand, 5);
      const head =
        choice === 0 ? header(base.length + 1 + int(rand, 100))
        : choice === 1 ? header(Math.max(0, base.length - 1 - int(rand, 100)))
        : choice === 2 ? header(2 ** 31 + int(rand, 2 ** 30))
        : choice === 3 ? hugeVarint(rand)
        : [0xff, 0xff, 0xff, 0xff, 0x0f];
      return { kind: 'bad snappy header', v2, body: concat(head, rest) };
    }
    case 8: {
      // Garbage protobuf made of plausible tags and huge lengths.
      const parts: number[] = [];
      const n = 1 + int(rand, 20);
      for (let i = 0; i < n; i++) {
        parts.push(((1 + int(rand, 6)) << 3) | int(rand, 8));
        if (rand() < 0.5) parts.push(...hugeVarint(rand));
        else parts.push(int(rand, 128));
        for (let j = int(rand, 6); j > 0; j--) parts.push(int(rand, 256));
      }
      return { kind: 'garbage fields', v2, body: compress(Uint8Array.from(parts)) };
    }
    default:
      return { kind: 'valid', v2, body: compress(base) };
  }
}

/** Most cases go through the decode worker (the default on 2+ cores), some through the main thread. */
for (const [mode, threads, cases, seed] of [['decoding in a worker thread', 1, CASES, SEED], ['decoding on the main thread', 0, Math.ceil(CASES / 4), SEED + 1]] as const) describe(`fuzzing POST /api/v1/write, ${mode}`, () => {
  let server: Server;
  before(async () => {
    server = await startAugur((c) => {
      c.web.decode_threads = threads;
    });
  });
  after(async () => {
    await server.close();
  });

  it(`survives ${cases} random and mutated bodies (seed ${seed})`, { timeout: 150_000 }, async (t) => {
    const CASES = cases;
    const SEED = seed;
    const c = corpus();
    const rand = prng(SEED);
    gc();
    const mem0 = process.memoryUsage();
    const statuses = new Map<number, number>();
    const kinds = new Map<string, Map<number, number>>();
    const failures: string[] = [];
    let next = 0;
    const started = Date.now();
    async function worker(): Promise<void> {
      while (next < CASES && failures.length < 5) {
        const index = next++;
        const cs = makeCase(rand, c);
        const res = await postRaw(server, cs.body, { contentType: cs.v2 ? V2_CONTENT_TYPE : V1_CONTENT_TYPE });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const byKind = kinds.get(cs.kind) ?? new Map<number, number>();
        byKind.set(res.status, (byKind.get(res.status) ?? 0) + 1);
        kinds.set(cs.kind, byKind);
        const expected = res.status === 204 || res.status === 400;
        if (!expected) failures.push(`case ${index} (${cs.kind}, ${cs.v2 ? 'v2' : 'v1'}): ${res.status} ${res.text.trim()} body=${Buffer.from(cs.body).toString('hex').slice(0, 400)}`);
        if (cs.v2 && res.headers['x-prometheus-remote-write-samples-written'] === undefined) failures.push(`case ${index}: a v2 answer without the written headers`);
        if (!cs.v2 && res.headers['x-prometheus-remote-write-samples-written'] !== undefined) failures.push(`case ${index}: a v1 answer with the written headers`);
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => worker()));
    const elapsed = Date.now() - started;
    const summary = `seed ${SEED}: ${[...statuses].map(([s, n]) => `${s}x${n}`).join(' ')} in ${elapsed} ms; ` + [...kinds].map(([k, m]) => `${k}: ${[...m].map(([s, n]) => `${s}x${n}`).join(' ')}`).join('; ');
    t.diagnostic(summary);
    assert.deepEqual(failures, [], summary);
    let total = 0;
    for (const n of statuses.values()) total += n;
    assert.equal(total, CASES);
    // The mix exercises both outcomes.
    assert.ok((statuses.get(400) ?? 0) > CASES / 3, summary);
    assert.ok((statuses.get(204) ?? 0) > CASES / 20, summary);

    // Memory stays bounded once the garbage is collected.
    gc();
    const mem1 = process.memoryUsage();
    const mib = (x: number): string => (x / 1048576).toFixed(1) + ' MiB';
    const report = `heapUsed ${mib(mem0.heapUsed)} -> ${mib(mem1.heapUsed)}, rss ${mib(mem0.rss)} -> ${mib(mem1.rss)}`;
    t.diagnostic(report);
    assert.ok(mem1.heapUsed - mem0.heapUsed < 96 * 1048576, report);
    assert.ok(mem1.rss - mem0.rss < 384 * 1048576, report);
    assert.ok(mem1.rss < 1024 * 1048576, report);

    // Still answering properly.
    const ok = await postRaw(server, compress(encodeV1([{ labels: { __name__: 'fuzz_survivor', job: 'f' }, samples: [{ value: 42, timestamp: Date.now() }] }])));
    assert.equal(ok.status, 204, ok.text);
    const m = parseExposition(await getMetrics(server));
    assert.equal(find(m, 'augur_anomaly_score', { metric: 'fuzz_survivor' }).length, 1);
    const ready = await (await import('./helpers/server.js')).request(server.url + '/-/ready');
    assert.equal(ready.status, 200);
  });
});
