import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeriesRegistry, type RemoveReason, type SeriesInfo } from '../src/series/registry.js';
import { IdentityTable, hintId } from '../src/series/hashtable.js';
import { KIND_COUNTER, KIND_GAUGE, MetricType, kindFromMetadata, kindFromSuffix, kindOfType } from '../src/series/kind.js';
import { escapeLabelNameValues, escapeLabelValue, exposedLabelText, groupLabelText, keepsNames, labelsFromExposedText, renamingLabelText, sanitizeLabelName } from '../src/series/labels.js';
import { identityOf } from '../src/ingest/labelset.js';
import { copyRows, EVERY_ID, grown, prepared, type GrowSteps, type SeriesComponent } from '../src/series/component.js';
import { createPipeline } from '../src/augur.js';
import { defaultConfig, parseConfig } from '../src/config/load.js';
import { Batch } from '../src/ingest/batch.js';
import { decodeV1 } from '../src/ingest/decode-v1.js';
import { WireReader } from '../src/ingest/wire.js';
import { encodeV1, type V1Series } from './helpers/remote-write.js';
import { prng } from './helpers/server.js';

type Labels = [string, string][];

function labels(name: string, extra: Record<string, string> = {}): Labels {
  return ([['__name__', name], ...Object.entries(extra)] as Labels).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** A component that records its resets, to check that a reused id starts clean. */
class Probe implements SeriesComponent {
  value = new Float64Array(0);
  resets: number[] = [];
  *grow(capacity: number, used: () => number): GrowSteps {
    this.value = yield* grown(this.value, capacity, used);
  }
  reset(id: number): void {
    this.value[id] = 0;
    this.resets.push(id);
  }
}

/** A component with a non-zero initial value, recording how the registry grows and initialises it. */
class LazyProbe implements SeriesComponent {
  initial = new Float64Array(0);
  grows: number[] = [];
  inits: [number, number][] = [];
  *grow(capacity: number, used: () => number): GrowSteps {
    this.grows.push(capacity);
    this.initial = yield* grown(this.initial, capacity, used);
  }
  initIds(from: number, to: number): void {
    this.initial.fill(1, from, to);
    this.inits.push([from, to]);
  }
  reset(): void {}
}

/** A component whose growth takes a step longer than the registry's slice per array, recording its growths. */
class SlowProbe implements SeriesComponent {
  arrays = [0, 1, 2, 3].map(() => new Float64Array(0));
  grows = 0;
  *grow(capacity: number, used: () => number): GrowSteps {
    this.grows++;
    for (let k = 0; k < this.arrays.length; k++) {
      const t = performance.now();
      while (performance.now() - t < 6);
      yield;
      this.arrays[k] = yield* grown(this.arrays[k]!, capacity, used);
    }
  }
  reset(id: number): void {
    for (const a of this.arrays) a[id] = 0;
  }
}

let nextHash = 1;
function create(reg: SeriesRegistry, name: string, extra: Record<string, string> = {}, now = 0, type = -1): { id: number; lo: number; hi: number; len: number } {
  const lo = nextHash++ * 2654435761 >>> 0;
  const hi = nextHash++ * 40503 >>> 0;
  const len = name.length + 10;
  const id = reg.create(lo, hi, len, labels(name, extra), name, type, now);
  return { id, lo, hi, len };
}

describe('series registry', () => {
  it('creates, finds and removes series', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 60_000 });
    const created: SeriesInfo[] = [];
    const removed: [number, RemoveReason][] = [];
    reg.onCreate((info) => created.push(info));
    reg.onRemove((id, reason) => removed.push([id, reason]));
    const a = create(reg, 'up', { job: 'a' });
    const b = create(reg, 'up', { job: 'b' });
    assert.notEqual(a.id, b.id);
    assert.equal(reg.active, 2);
    assert.equal(reg.created, 2);
    assert.equal(reg.find(a.lo, a.hi, a.len), a.id);
    assert.equal(reg.find(b.lo, b.hi, b.len), b.id);
    // All three parts of the identity must match.
    assert.equal(reg.find(a.lo, a.hi ^ 1, a.len), -1);
    assert.equal(reg.find(a.lo, a.hi, a.len + 1), -1);
    assert.equal(reg.names[a.id], 'up');
    assert.equal(reg.labelText[a.id], 'metric="up",job="a"');
    assert.deepEqual(created.map((c) => [c.id, c.name]), [[a.id, 'up'], [b.id, 'up']]);
    assert.deepEqual(created[0]!.labels, [['__name__', 'up'], ['job', 'a']]);
    assert.equal(reg.alive[a.id], 1);
    assert.equal(reg.exposed[a.id], 0, 'a series is exposed only once scored');
    reg.remove(a.id, 'stale');
    assert.equal(reg.find(a.lo, a.hi, a.len), -1);
    assert.equal(reg.find(b.lo, b.hi, b.len), b.id);
    assert.equal(reg.alive[a.id], 0);
    assert.equal(reg.active, 1);
    assert.equal(reg.staleRemoved, 1);
    assert.deepEqual(removed, [[a.id, 'stale']]);
    // Removing twice is harmless.
    reg.remove(a.id, 'stale');
    assert.equal(reg.active, 1);
    assert.equal(removed.length, 1);
  });

  it('gives back the original labels, renamed, sanitised and escaped ones included', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 60_000 });
    const cases: Record<string, string>[] = [
      { job: 'a', instance: 'h:9100' },
      { job: 'q"uote\\back\nslash\\n', zone: '' },
      { metric: 'inner', exported_metric: 'x' },
      { 'dotted.name': 'v', 'with space': 'w', '0digit': 'd' },
      { Upper: 'U', _under: 'u', émoji: '🙂' },
    ];
    for (const extra of cases) {
      const { id } = create(reg, 'http.requests total', extra);
      assert.deepEqual(reg.labels(id), labels('http.requests total', extra), JSON.stringify(extra));
      const plain = create(reg, 'up', extra);
      assert.deepEqual(reg.labels(plain.id), labels('up', extra), JSON.stringify(extra));
    }
    assert.deepEqual(reg.labels(9999), []);
  });

  it('groups series by metric name and job', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 60_000 });
    const a = create(reg, 'cpu', { job: 'x', instance: '1' });
    const b = create(reg, 'cpu', { job: 'x', instance: '2' });
    const c = create(reg, 'cpu', { job: 'y', instance: '1' });
    const d = create(reg, 'mem', { job: 'x', instance: '1' });
    assert.equal(reg.group[a.id], reg.group[b.id]);
    assert.notEqual(reg.group[a.id], reg.group[c.id]);
    assert.notEqual(reg.group[a.id], reg.group[d.id]);
  });

  it('resets every component when an id is reused', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 60_000 });
    const probe = new Probe();
    reg.addComponent(probe);
    const a = create(reg, 'first_total', { job: 'a' });
    probe.value[a.id] = 42;
    reg.lastTimeMs[a.id] = 12345;
    reg.exposed[a.id] = 1;
    reg.remove(a.id, 'stale');
    const b = create(reg, 'second', { job: 'b' });
    assert.equal(b.id, a.id, 'the freed id is reused');
    assert.equal(probe.value[b.id], 0);
    assert.deepEqual(probe.resets, [a.id, a.id]);
    assert.equal(reg.lastTimeMs[b.id], -Infinity);
    assert.equal(reg.exposed[b.id], 0);
    assert.equal(reg.names[b.id], 'second');
    assert.equal(reg.labelText[b.id], 'metric="second",job="b"');
    assert.equal(reg.kind[b.id], KIND_GAUGE, 'the kind of the previous holder does not carry over');
    assert.equal(reg.find(a.lo, a.hi, a.len), -1);
    assert.equal(reg.find(b.lo, b.hi, b.len), b.id);
  });

  it('grows components past the initial capacity', () => {
    const reg = new SeriesRegistry({ maxActive: 10_000, stalenessMs: 60_000 });
    const probe = new Probe();
    reg.addComponent(probe);
    const ids: number[] = [];
    for (let i = 0; i < 5000; i++) ids.push(create(reg, 'm', { i: String(i) }).id);
    assert.equal(new Set(ids).size, 5000);
    assert.ok(reg.capacity >= 5000);
    assert.ok(probe.value.length >= reg.capacity);
    assert.equal(reg.active, 5000);
  });

  it('initialises ids lazily, in chunks, before they are first handed out', () => {
    const reg = new SeriesRegistry({ maxActive: 10_000, stalenessMs: 60_000 });
    const probe = new LazyProbe();
    reg.addComponent(probe);
    assert.deepEqual(probe.grows, [1024], 'a component added to the registry is grown to its capacity');
    for (let i = 0; i < 3000; i++) {
      const { id } = create(reg, 'm', { i: String(i) });
      assert.equal(probe.initial[id], 1, `id ${id} was initialised before it was handed out`);
    }
    // Without a turn of the event loop, a growth advances as ids are created, and completes when they run out.
    assert.deepEqual(probe.grows.slice(1, 3), [2048, 4096]);
    assert.ok(reg.capacity >= 4096);
    // Ranges from the registry: contiguous from 0, never past the capacity.
    let next = 0;
    for (const [from, to] of probe.inits.filter(([f, t]) => t > f)) {
      assert.equal(from, next);
      assert.ok(to > from && to <= reg.capacity);
      next = to;
    }
    assert.ok(next >= 3000 && next < 3000 + 1024, `initialised up to ${next}`);
    for (let id = next; id < reg.capacity; id++) assert.equal(probe.initial[id], 0, `id ${id} past the initialised chunk is untouched`);
  });

  it('keeps per-series state whole when components are initialised lazily (a pipeline past two growths)', () => {
    const pipeline = createPipeline(defaultConfig());
    const reg = pipeline.registry;
    const created: number[] = [];
    for (let i = 0; i < 3000; i++) created.push(create(reg, i % 2 === 0 ? 'lazy_a' : 'lazy_b', { job: 'j', i: String(i) }).id);
    assert.ok(reg.capacity >= 4096);
    // Resets read sentinels (no model chosen, no peer group, no forest slot) of the id they reset:
    // a fresh id read as zeros would take a model use or a group member away from another series.
    const usage = pipeline.forecast!.modelUsage();
    for (const [model, n] of Object.entries(usage)) assert.equal(n, 0, `forecast model ${model} in use ${n} times`);
    const peers = pipeline.peers! as unknown as { gSize: Int32Array; groupOf: Int32Array };
    let members = 0;
    for (const n of peers.gSize) members += n;
    assert.equal(members, 3000);
    for (const id of created) assert.ok(peers.groupOf[id]! >= 0);
    const scorer = pipeline.scorer;
    for (const id of created) {
      assert.ok(Number.isNaN(scorer.expected[id]!));
      assert.equal(scorer.seasonal.period[id], -1);
    }
    // Memory for ids not handed out yet is left unwritten (zero), not filled with initial values.
    assert.equal(scorer.expected[reg.capacity - 1], 0);
    assert.equal(scorer.seasonal.period[reg.capacity - 1], 0);
  });

  it('grows in the background, over several event-loop turns, once half the capacity is handed out', async () => {
    const reg = new SeriesRegistry({ maxActive: 100_000, stalenessMs: 60_000 });
    const probe = new SlowProbe();
    reg.addComponent(probe);
    const marked: number[] = [];
    const mark = (id: number): void => {
      for (const a of probe.arrays) a[id] = id + 1;
      marked.push(id);
    };
    for (let i = 0; i < 512; i++) mark(create(reg, 'm', { i: String(i) }).id);
    await new Promise((r) => setImmediate(r));
    assert.equal(probe.grows, 1, 'no growth below half the capacity');
    mark(create(reg, 'm', { i: '512' }).id);
    // Requests go on between the steps: they create series and write state, into old arrays or new.
    let turns = 0;
    while (reg.capacity === 1024) {
      assert.ok(turns < 100, 'the growth ends');
      await new Promise((r) => setImmediate(r));
      turns++;
      mark(create(reg, 'm', { i: `t${turns}` }).id);
    }
    assert.ok(turns >= probe.arrays.length, `spread over ${turns} turns`);
    assert.equal(reg.capacity, 2048);
    for (const a of probe.arrays) {
      assert.equal(a.length, 2048);
      for (const id of marked) assert.equal(a[id], id + 1, `state of id ${id} written during the growth is kept`);
    }
    for (let i = 0; i < 600; i++) create(reg, 'more', { i: String(i) });
    assert.equal(reg.active, 512 + 1 + turns + 600);
  });

  it('advances a growth as series are created, when no turn of the event loop comes', () => {
    const reg = new SeriesRegistry({ maxActive: 100_000, stalenessMs: 60_000 });
    const probe = new SlowProbe();
    reg.addComponent(probe);
    for (let i = 0; i < 513; i++) create(reg, 'm', { i: String(i) });
    assert.equal(reg.alive.length, 1024);
    // Each new id owes a share of the growth: a slice every few hundred ids.
    for (let i = 0; i < 500; i++) create(reg, 'n', { i: String(i) });
    assert.equal(reg.alive.length, 2048, 'the registry\'s own arrays grown while ids were handed out');
    assert.equal(reg.capacity, 1024, 'not done yet: the probe takes longer');
  });

  it('drops a background growth whose step throws, and grows when ids run out', async () => {
    const reg = new SeriesRegistry({ maxActive: 100_000, stalenessMs: 60_000 });
    const probe = new Probe();
    let failures = 1;
    const flaky: SeriesComponent = {
      *grow(capacity: number, used: () => number): GrowSteps {
        yield;
        if (capacity > 1024 && failures-- > 0) throw new RangeError('Array buffer allocation failed');
        yield* probe.grow(capacity, used);
      },
      reset: (id) => probe.reset(id),
    };
    reg.addComponent(flaky);
    for (let i = 0; i < 600; i++) create(reg, 'm', { i: String(i) });
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    assert.equal(reg.capacity, 1024, 'the failed growth was dropped, not thrown from the timer');
    for (let i = 0; i < 600; i++) create(reg, 'n', { i: String(i) });
    assert.equal(reg.active, 1200);
    assert.ok(reg.capacity >= 2048);
    assert.ok(probe.value.length >= reg.capacity);
  });

  it('completes a growth in progress at once when asked (before a snapshot records the arrays)', () => {
    const reg = new SeriesRegistry({ maxActive: 100_000, stalenessMs: 60_000 });
    const probe = new SlowProbe();
    reg.addComponent(probe);
    for (let i = 0; i < 600; i++) create(reg, 'm', { i: String(i) });
    assert.equal(reg.capacity, 1024);
    reg.completeGrowth();
    assert.equal(reg.capacity, 2048);
    for (const a of probe.arrays) assert.equal(a.length, 2048);
    reg.completeGrowth();
    assert.equal(reg.capacity, 2048, 'nothing to complete');
  });

  it('grows no further than max_active', () => {
    const reg = new SeriesRegistry({ maxActive: 1500, stalenessMs: 60_000 });
    const probe = new Probe();
    reg.addComponent(probe);
    for (let i = 0; i < 1600; i++) create(reg, 'm', { i: String(i) }, i * 1000);
    reg.completeGrowth();
    assert.equal(reg.capacity, 1500);
    assert.equal(reg.highWater, 1500);
    assert.equal(probe.value.length, 1500);
    assert.equal(reg.evicted, 100);
  });

  it('gives a pipeline grown in the background the same state as one grown at once', async () => {
    const run = async (background: boolean): Promise<Map<string, Uint8Array>> => {
      const pipeline = createPipeline(defaultConfig());
      const reg = pipeline.registry;
      reg.options.growSliceMs = 0; // one step per turn
      const ids: number[] = [];
      let turns = 0;
      let t = Date.UTC(2024, 0, 1);
      const round = (): void => {
        t += 15_000;
        for (const id of ids) pipeline.observe(id, t, 100 + ((id * 7 + t / 15_000) % 13), 0);
      };
      for (let i = 0; i < 900; i++) {
        const name = i % 3 === 0 ? 'bg_a' : 'bg_b';
        ids.push(reg.create(Math.imul(i + 1, 2654435761) >>> 0, i, 20, labels(name, { job: 'j', i: String(i) }), name, -1, 0));
        if (!background) reg.completeGrowth();
        if (i >= 500 && i % 4 === 0) {
          round();
          if (background && reg.capacity === 1024) {
            await new Promise((r) => setImmediate(r));
            turns++;
          }
        }
      }
      // Part of the growth ran between rounds, the rest completes at once.
      if (background) assert.ok(reg.capacity === 1024 && turns > 50, `${turns} turns`);
      reg.completeGrowth();
      assert.equal(reg.capacity, 2048);
      const arrays = new Map<string, Uint8Array>();
      const walk = (o: unknown, path: string, seen: Set<unknown>): void => {
        if (o === null || typeof o !== 'object' || seen.has(o)) return;
        seen.add(o);
        if (ArrayBuffer.isView(o)) {
          if (o.byteLength >= 2048) arrays.set(path, new Uint8Array(o.buffer, o.byteOffset, o.byteLength).slice());
          return;
        }
        if (Array.isArray(o)) o.forEach((v, i) => walk(v, `${path}[${i}]`, seen));
        else for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`, seen);
      };
      walk(pipeline, 'pipeline', new Set());
      return arrays;
    };
    const background = await run(true);
    const atOnce = await run(false);
    assert.deepEqual([...background.keys()].sort(), [...atOnce.keys()].sort());
    assert.ok(background.size > 80, `${background.size} per-series arrays`);
    for (const [path, a] of atOnce) assert.ok(Buffer.from(a).equals(Buffer.from(background.get(path)!)), `${path} differs`);
  });

  it('evicts the least recently used series at max_active and counts evictions', () => {
    const reg = new SeriesRegistry({ maxActive: 3, stalenessMs: 60_000 });
    const removed: [number, RemoveReason][] = [];
    reg.onRemove((id, reason) => removed.push([id, reason]));
    const a = create(reg, 'a');
    const b = create(reg, 'b');
    const c = create(reg, 'c');
    reg.touch(a.id, 20_000);
    reg.touch(c.id, 30_000);
    // b is the least recently used.
    const d = create(reg, 'd');
    assert.equal(reg.active, 3);
    assert.equal(reg.evicted, 1);
    assert.deepEqual(removed, [[b.id, 'evicted']]);
    assert.equal(reg.find(b.lo, b.hi, b.len), -1);
    for (const s of [a, c, d]) assert.notEqual(reg.find(s.lo, s.hi, s.len), -1);
    // Recency is kept to a granularity of a fifth of the staleness period (12 s here): a touch
    // 5 s after a's last move leaves it where it is, so the next eviction still takes a, not c.
    reg.touch(a.id, 25_000);
    create(reg, 'e');
    assert.equal(reg.find(a.lo, a.hi, a.len), -1);
    assert.equal(reg.evicted, 2);
    assert.equal(reg.active, 3);
    // Many more: the count stays at the limit and every eviction is counted.
    for (let i = 0; i < 50; i++) create(reg, `x${i}`);
    assert.equal(reg.active, 3);
    assert.equal(reg.evicted, 52);
    assert.equal(reg.created, 55);
  });

  it('sweeps series not seen for the staleness period', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 1000 });
    const removed: [number, RemoveReason][] = [];
    reg.onRemove((id, reason) => removed.push([id, reason]));
    const a = create(reg, 'a', {}, 0);
    const b = create(reg, 'b', {}, 0);
    const c = create(reg, 'c', {}, 500);
    reg.touch(b.id, 1500);
    assert.equal(reg.sweep(1000), 0, 'nothing is older than the period yet');
    assert.equal(reg.sweep(1400), 1);
    assert.deepEqual(removed, [[a.id, 'stale']]);
    assert.equal(reg.find(a.lo, a.hi, a.len), -1);
    assert.notEqual(reg.find(b.lo, b.hi, b.len), -1);
    assert.notEqual(reg.find(c.lo, c.hi, c.len), -1);
    assert.equal(reg.sweep(2600), 2);
    assert.equal(reg.active, 0);
    assert.equal(reg.staleRemoved, 3);
    assert.equal(reg.evicted, 0);
    // Swept ids are reused.
    const d = create(reg, 'd', {}, 3000);
    assert.ok([a.id, b.id, c.id].includes(d.id));
  });

  it('sweeps in slices that resume where the last one stopped', () => {
    const reg = new SeriesRegistry({ maxActive: 100_000, stalenessMs: 1000 });
    const n = 50_000;
    for (let i = 0; i < n; i++) create(reg, 'm', { i: String(i) }, i % 2 === 0 ? 0 : 5000);
    // A zero budget stops at the first time check: every slice does part of the pass.
    let slices = 0;
    while (!reg.sweepSlice(5500, 0)) slices++;
    assert.ok(slices > 1, `one pass took ${slices + 1} slices`);
    assert.equal(reg.staleRemoved, n / 2);
    assert.equal(reg.active, n / 2);
    // The next pass starts again from the first id.
    assert.equal(reg.sweepSlice(7000, Infinity), true);
    assert.equal(reg.active, 0);
  });
});

describe('growth helpers', () => {
  it('copies only the ids in use, per id or per row, and leaves the rest zero', () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const steps = grown(a, 8, () => 2, 2);
    let b: Float32Array | undefined;
    for (let r = steps.next(); ; r = steps.next()) if (r.done) { b = r.value; break; }
    assert.deepEqual([...b], [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Three rows of four ids grow to three rows of six ids; ids 0..1 are in use.
    const rows = Int16Array.from([1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24]);
    const gen = prepared(rows, 18, 3, 6, () => 2);
    let c: Int16Array | undefined;
    for (let r = gen.next(); ; r = gen.next()) if (r.done) { c = r.value.array; break; }
    assert.equal(c.length, 18);
    copyRows(rows, c, 4, 6, 3, 2);
    assert.deepEqual([...c], [1, 2, 0, 0, 0, 0, 11, 12, 0, 0, 0, 0, 21, 22, 0, 0, 0, 0]);
    // Outside a registry every id is copied.
    let d: Float32Array | undefined;
    const all = grown(Float32Array.of(1, 2, 3), 5, EVERY_ID);
    for (let r = all.next(); ; r = all.next()) if (r.done) { d = r.value; break; }
    assert.deepEqual([...d], [1, 2, 3, 0, 0]);
  });

  it('touches fresh memory ahead in bounded steps', () => {
    const big = new Float64Array(1 << 20);
    big[5] = 9;
    let steps = 0;
    const g = grown(big, 1 << 21, EVERY_ID);
    let r = g.next();
    for (; !r.done; r = g.next()) steps++;
    assert.equal(steps, 9, 'one step for the allocation, then 8 MiB touched a MiB per step (the 8 MiB past it left alone)');
    assert.equal(r.value[5], 9);
    assert.equal(r.value.length, 1 << 21);
  });

  it('counts the pages touched across rows, so that many short rows still take bounded steps', () => {
    // 64 rows of 128 KiB in use each: 8 MiB in all, no row near a step's MiB on its own.
    let steps = 0;
    const g = prepared(new Int16Array(0), 64 << 20, 64, 1 << 20, () => 1 << 16);
    for (let r = g.next(); !r.done; r = g.next()) steps++;
    assert.equal(steps, 9);
  });

  it('catches up with ids handed out while it was touching ahead', () => {
    let used = 1 << 19; // 4 MiB of Float64
    let steps = 0;
    const g = prepared(new Float64Array(0), 1 << 21, 1, 0, () => used);
    for (let r = g.next(); !r.done; r = g.next()) {
      steps++;
      if (steps === 3) used = 1 << 20; // more ids arrive during the first pass
    }
    assert.equal(steps, 9, 'one step for the allocation, 4 MiB, then the 4 MiB of ids that came meanwhile');
  });
});

describe('identity hash table', () => {
  it('agrees with a Map through many inserts and deletes', () => {
    const rand = prng(11);
    const N = 10_000;
    const los = new Uint32Array(N);
    const his = new Uint32Array(N);
    const lens = new Int32Array(N);
    const table = new IdentityTable(() => his, () => lens, 8);
    const model = new Map<string, number>();
    const keyOf = (lo: number, hi: number, len: number): string => `${lo}:${hi}:${len}`;
    const free: number[] = [];
    for (let i = N - 1; i >= 0; i--) free.push(i);
    const live: number[] = [];
    let hinted = 0;
    let checked = 0;
    for (let op = 0; op < 60_000; op++) {
      const r = rand();
      if ((r < 0.55 || live.length === 0) && free.length > 0) {
        const id = free.pop()!;
        // Some keys crowd a few home slots (equal low bits) to build long probe runs that wrap.
        const lo = rand() < 0.2 ? ((((rand() * 64) | 0) << 20) | 0x7) >>> 0 : rand() < 0.1 ? (0xfffffff0 + ((rand() * 16) | 0)) >>> 0 : (rand() * 2 ** 32) >>> 0;
        const hi = (rand() * 2 ** 32) >>> 0;
        const len = (rand() * 100) | 0;
        const key = keyOf(lo, hi, len);
        if (model.has(key)) {
          free.push(id);
          continue;
        }
        los[id] = lo;
        his[id] = hi;
        lens[id] = len;
        table.insert(id, lo);
        model.set(key, id);
        live.push(id);
      } else if (live.length > 0) {
        const k = (rand() * live.length) | 0;
        const id = live[k]!;
        live[k] = live[live.length - 1]!;
        live.pop();
        table.remove(id, los[id]!);
        model.delete(keyOf(los[id]!, his[id]!, lens[id]!));
        free.push(id);
      }
      if (op % 5000 === 0) {
        assert.equal(table.count, model.size);
        for (const [key, id] of model) {
          const [lo, hi, len] = key.split(':').map(Number) as [number, number, number];
          assert.equal(table.find(lo, hi, len), id, `op ${op}: key ${key}`);
          // A worker's hint matches on the low half only, and gives up on very long probe runs
          // (this test crowds some on purpose): it names a series with the same low half, or none.
          const h = hintId(table.shared, lo);
          if (h >= 0) assert.equal(los[h], lo);
          hinted += h === id ? 1 : 0;
          checked++;
        }
        // Keys that are not there: removed ones and near misses.
        for (let q = 0; q < 200; q++) {
          const lo = (rand() * 2 ** 32) >>> 0;
          if (!model.has(keyOf(lo, 0, 0))) assert.equal(table.find(lo, 0, 0), -1);
        }
      }
    }
    // A third of the keys sit in crowded runs far longer than a real hash makes; the rest are hit.
    assert.ok(hinted > 0.6 * checked, `${hinted} of ${checked} hints right`);
    // Drain completely.
    for (const id of live) table.remove(id, los[id]!);
    assert.equal(table.count, 0);
    for (const key of model.keys()) {
      const [lo, hi, len] = key.split(':').map(Number) as [number, number, number];
      assert.equal(table.find(lo, hi, len), -1);
    }
  });

  it('stays exact while it builds its next table as it fills (inserts and removals interleaved, colliding hashes)', () => {
    const N = 6000;
    const his = new Uint32Array(N);
    const lens = new Int32Array(N).fill(7);
    const los = new Uint32Array(N);
    const rnd = prng(77);
    for (let id = 0; id < N; id++) {
      his[id] = id;
      // Few distinct low halves: long probe runs, so removals shift entries across the moved boundary.
      los[id] = Math.floor(rnd() * 64) * 0x1000 + (rnd() < 0.5 ? 0 : Math.floor(rnd() * 4096));
    }
    const t = new IdentityTable(() => his, () => lens, 8);
    const live = new Set<number>();
    let nextId = 0;
    const freed: number[] = [];
    const sizes = new Set<number>();
    for (let op = 0; op < 40_000; op++) {
      const grow = live.size < 200 || rnd() < (op < 30_000 ? 0.6 : 0.35);
      if (grow && (nextId < N || freed.length > 0)) {
        const id = freed.length > 0 && rnd() < 0.5 ? freed.pop()! : nextId < N ? nextId++ : freed.pop()!;
        t.insert(id, los[id]!);
        live.add(id);
      } else if (live.size > 0) {
        const ids = [...live];
        const id = ids[Math.floor(rnd() * ids.length)]!;
        t.remove(id, los[id]!);
        live.delete(id);
        freed.push(id);
      }
      sizes.add(t.shared.length);
      if (op % 97 === 0) {
        assert.equal(t.count, live.size);
        for (const id of live) assert.equal(t.find(los[id]!, his[id]!, 7), id, `live id ${id} found at op ${op}`);
        for (const id of freed.slice(-20)) assert.equal(t.find(los[id]!, his[id]!, 7), -1, `removed id ${id} gone at op ${op}`);
      }
    }
    assert.ok(sizes.size >= 8, `the table took over its next one ${sizes.size - 1} times`);
    // Every entry of the table in use is live and found where it is: the next tables were built whole.
    const slots = t.shared;
    let entries = 0;
    for (let k = 0; k < slots.length; k += 2) if (slots[k]! >= 0) { entries++; assert.ok(live.has(slots[k]!)); }
    assert.equal(entries, live.size);
  });

  it('builds no next table it could never take over (limit)', () => {
    const his = new Uint32Array(64);
    const lens = new Int32Array(64);
    const t = new IdentityTable(() => his, () => lens, 16, 8);
    for (let id = 0; id < 8; id++) t.insert(id, id * 7);
    assert.equal(t.shared.length, 32, 'still 16 slots');
    assert.equal((t as unknown as { next: Int32Array | null }).next, null);
    const u = new IdentityTable(() => his, () => lens, 16, 9);
    for (let id = 0; id < 7; id++) u.insert(id, id * 7);
    assert.notEqual((u as unknown as { next: Int32Array | null }).next, null, 'a ninth entry would need it');
  });

  it('removing an id that is not present changes nothing', () => {
    const his = Uint32Array.from([1, 2, 3]);
    const lens = Int32Array.from([1, 1, 1]);
    const t = new IdentityTable(() => his, () => lens, 8);
    t.insert(0, 5);
    t.insert(1, 5);
    t.remove(2, 6);
    assert.equal(t.count, 2);
    assert.equal(t.find(5, 1, 1), 0);
    assert.equal(t.find(5, 2, 1), 1);
  });
});

describe('series kind', () => {
  it('comes from the name suffix without metadata', () => {
    for (const n of ['http_requests_total', 'rpc_duration_seconds_count', 'rpc_duration_seconds_sum', 'latency_bucket']) assert.equal(kindFromSuffix(n), KIND_COUNTER, n);
    for (const n of ['up', 'temperature_celsius', 'total', 'my_totals', 'x_total_bytes', 'bucket_size', '_count_x']) assert.equal(kindFromSuffix(n), KIND_GAUGE, n);
  });

  it('comes from metadata: counters, gauges, histogram and summary parts, _total families', () => {
    const types = new Map<string, number>([
      ['requests', MetricType.COUNTER],
      ['queue_total', MetricType.GAUGE],
      ['latency_seconds', MetricType.HISTOGRAM],
      ['rpc_seconds', MetricType.SUMMARY],
      ['sizes', MetricType.GAUGEHISTOGRAM],
      ['build', MetricType.INFO],
      ['states', MetricType.STATESET],
      ['mystery', MetricType.UNKNOWN],
      ['legacy_total', MetricType.COUNTER],
    ]);
    // An OpenMetrics counter family without the suffix covers `<family>_total`.
    assert.equal(kindFromMetadata('requests_total', types), KIND_COUNTER);
    assert.equal(kindFromMetadata('requests', types), KIND_COUNTER);
    assert.equal(kindFromMetadata('legacy_total', types), KIND_COUNTER);
    // A gauge that happens to end in _total is a gauge.
    assert.equal(kindFromMetadata('queue_total', types), KIND_GAUGE);
    for (const part of ['_bucket', '_count', '_sum']) {
      assert.equal(kindFromMetadata('latency_seconds' + part, types), KIND_COUNTER, part);
      assert.equal(kindFromMetadata('rpc_seconds' + part, types), KIND_COUNTER, part);
      assert.equal(kindFromMetadata('sizes' + part, types), KIND_GAUGE, part);
    }
    // Summary quantiles carry the family name: gauges.
    assert.equal(kindFromMetadata('rpc_seconds', types), KIND_GAUGE);
    assert.equal(kindFromMetadata('build', types), KIND_GAUGE);
    assert.equal(kindFromMetadata('states', types), KIND_GAUGE);
    // Unknown type or no family: no answer from metadata.
    assert.equal(kindFromMetadata('mystery', types), -1);
    assert.equal(kindFromMetadata('other_total', types), -1);
    assert.equal(kindFromMetadata('latency_seconds_max', types), -1);
    assert.equal(kindOfType(MetricType.UNKNOWN, false), -1);
    assert.equal(kindOfType(99, false), -1);
  });

  it('is resolved on creation from metadata, the series type, or the suffix', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 60_000 });
    reg.setMetadata('queue_total', MetricType.GAUGE);
    assert.equal(reg.kind[create(reg, 'queue_total').id], KIND_GAUGE);
    assert.equal(reg.kind[create(reg, 'other_total').id], KIND_COUNTER);
    assert.equal(reg.kind[create(reg, 'plain').id], KIND_GAUGE);
    // A v2 series' own type outranks the suffix.
    assert.equal(reg.kind[create(reg, 'v2_total', {}, 0, MetricType.GAUGE).id], KIND_GAUGE);
    assert.equal(reg.kind[create(reg, 'v2_gauge', {}, 0, MetricType.COUNTER).id], KIND_COUNTER);
    assert.equal(reg.kind[create(reg, 'h_bucket', {}, 0, MetricType.HISTOGRAM).id], KIND_COUNTER);
  });

  it('changes when metadata arrives later', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 60_000 });
    const a = create(reg, 'queue_total');
    const b = create(reg, 'bytes_read');
    assert.equal(reg.kind[a.id], KIND_COUNTER);
    assert.equal(reg.kind[b.id], KIND_GAUGE);
    assert.equal(reg.refreshKind(a.id, -1), false, 'nothing changed yet');
    assert.equal(reg.setMetadata('queue_total', MetricType.GAUGE), true);
    assert.equal(reg.setMetadata('queue_total', MetricType.GAUGE), false, 'the same type again is no change');
    reg.setMetadata('bytes_read', MetricType.COUNTER);
    assert.equal(reg.refreshKind(a.id, -1), true);
    assert.equal(reg.kind[a.id], KIND_GAUGE);
    assert.equal(reg.refreshKind(b.id, -1), true);
    assert.equal(reg.kind[b.id], KIND_COUNTER);
    assert.equal(reg.refreshKind(a.id, -1), false);
    // A v2 type on a later sample changes it too.
    assert.equal(reg.refreshKind(a.id, MetricType.COUNTER), true);
    assert.equal(reg.kind[a.id], KIND_COUNTER);
  });
});

describe('exposition label text', () => {
  it('moves the name into `metric` and keeps the other labels', () => {
    assert.equal(exposedLabelText([['__name__', 'up'], ['instance', 'a:1'], ['job', 'node']]), 'metric="up",instance="a:1",job="node"');
    assert.equal(exposedLabelText([['__name__', 'up']]), 'metric="up"');
  });

  it('renames an original `metric` label to `exported_metric`', () => {
    assert.equal(exposedLabelText([['__name__', 'up'], ['job', 'j'], ['metric', 'orig']]), 'metric="up",exported_metric="orig",job="j"');
  });

  it('renames original `horizon` and `threshold` labels, which forecast families add, on every family', () => {
    const labels: [string, string][] = [['__name__', 'up'], ['exported_horizon', 'x'], ['horizon', 'sky'], ['threshold', 'hot']];
    assert.equal(keepsNames(labels), false);
    assert.equal(exposedLabelText(labels), 'metric="up",exported_exported_horizon="sky",exported_horizon="x",exported_threshold="hot"');
  });

  it('builds group label text renamed alike, with the family\'s own label reserved too', () => {
    assert.equal(groupLabelText('lat', [['job', 'c'], ['cluster', 'eu']]), 'metric="lat",cluster="eu",job="c"');
    assert.equal(groupLabelText('lat', [['job', 'c'], ['cluster', 'eu']], 'cluster'), 'metric="lat",exported_cluster="eu",job="c"');
    assert.equal(groupLabelText('lat', [['metric', 'm'], ['k8s.ns', 'a']]), 'metric="lat",exported_metric="m",k8s_ns="a"');
  });

  it('sanitises label names the classic format cannot carry', () => {
    assert.equal(sanitizeLabelName('http.method'), 'http_method');
    assert.equal(sanitizeLabelName('a b-c'), 'a_b_c');
    assert.equal(sanitizeLabelName('1st'), '_1st');
    assert.equal(sanitizeLabelName('ok_name9'), 'ok_name9');
    assert.equal(sanitizeLabelName('ü'), '_');
    const text = exposedLabelText([['__name__', 'm'], ['service.name', 'api'], ['zone"x', 'z']]);
    assert.equal(text, 'metric="m",service_name="api",zone_x="z"');
    // Two names that sanitise alike stay distinct.
    const clash = exposedLabelText([['__name__', 'm'], ['a.b', '1'], ['a_b', '2']]);
    const names = clash.split(',').map((p) => p.split('=')[0]);
    assert.equal(new Set(names).size, names.length);
    assert.match(clash, /="1"/);
    assert.match(clash, /="2"/);
  });

  it('escapes label names injectively as Prometheus\'s value escaping does', () => {
    assert.equal(escapeLabelNameValues('ok_name'), 'ok_name');
    assert.equal(escapeLabelNameValues('a.b'), 'U__a_2e_b');
    assert.equal(escapeLabelNameValues('a_b.c'), 'U__a__b_2e_c');
    assert.equal(escapeLabelNameValues('1st'), 'U___31_st');
    assert.equal(escapeLabelNameValues('ü'), 'U___fc_');
    assert.notEqual(escapeLabelNameValues('a.b'), escapeLabelNameValues('a-b'));
  });

  it('computes the identity of labels given as strings as the decoder does from the wire', () => {
    const sets: Record<string, string>[] = [{ __name__: 'up', job: 'j' }, { __name__: 'x.y ü', 'a.b': 'v "q"', z: '1' }, { job: 'j', __name__: 'unsorted', A: 'upper' }];
    const raw = encodeV1(sets.map((labels) => ({ labels, samples: [{ value: 1, timestamp: 1 }] })));
    const batch = new Batch();
    batch.reset(raw);
    const r = new WireReader();
    r.reset(raw);
    decodeV1(r, batch, { maxLabels: 0, maxNameLength: 0, maxValueLength: 0 }, 0);
    sets.forEach((labels, i) => {
      const key = identityOf(Object.entries(labels))!;
      assert.deepEqual([key.lo, key.hi, key.keyLen], [batch.seriesHashLo[i], batch.seriesHashHi[i], batch.seriesKeyLen[i]], JSON.stringify(labels));
    });
    assert.equal(identityOf([['job', 'no name']]), null);
  });

  it('never exposes two series with the same labels because a name was sanitised', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 60_000 });
    const add = (labels: [string, string][]): number => {
      const key = identityOf(labels)!;
      return reg.create(key.lo, key.hi, key.keyLen, labels, labels.find(([n]) => n === '__name__')![1], -1, 0);
    };
    // A renamed series arriving after the series whose labels it would take: escaped instead.
    const kept = add([['__name__', 'coll'], ['a_b', '1']]);
    const dotted = add([['__name__', 'coll'], ['a.b', '1']]);
    assert.equal(reg.labelText[kept], 'metric="coll",a_b="1"');
    assert.equal(reg.labelText[dotted], 'metric="coll",U__a_2e_b="1"');
    // Two renamed series that sanitise alike: the second is escaped.
    const dashed = add([['__name__', 'coll'], ['a-b', '2']]);
    const dotted2 = add([['__name__', 'coll'], ['a.b', '2']]);
    assert.equal(reg.labelText[dashed], 'metric="coll",a_b="2"');
    assert.equal(reg.labelText[dotted2], 'metric="coll",U__a_2e_b="2"');
    // A series with its own names arriving after a renamed one with its labels: the renamed one moves.
    const kept2 = add([['__name__', 'coll'], ['a_b', '2']]);
    assert.equal(reg.labelText[kept2], 'metric="coll",a_b="2"');
    assert.equal(reg.labelText[dashed], 'metric="coll",U__a_2d_b="2"');
    // The same holds after a restart's index rebuild, and once a series is gone its text is free.
    const dotted4 = add([['__name__', 'coll'], ['a.b', '4']]);
    reg.rebuildIndexes();
    const kept4 = add([['__name__', 'coll'], ['a_b', '4']]);
    assert.equal(reg.labelText[dotted4], 'metric="coll",U__a_2e_b="4"');
    assert.equal(reg.labelText[kept4], 'metric="coll",a_b="4"');
    reg.remove(kept2, 'stale');
    const dotted3 = add([['__name__', 'coll'], ['a.b', '3']]);
    assert.equal(reg.labelText[dotted3], 'metric="coll",a_b="3"');
    const kept3 = add([['__name__', 'coll'], ['a_b', '3']]);
    assert.equal(reg.labelText[dotted3], 'metric="coll",U__a_2e_b="3"');
    assert.equal(reg.labelText[kept3], 'metric="coll",a_b="3"');
    const texts = [kept, dotted, dashed, dotted2, dotted3, kept3, dotted4, kept4].map((id) => reg.labelText[id]);
    assert.equal(new Set(texts).size, texts.length);
    // The original labels are kept exactly.
    assert.deepEqual(reg.labels(dashed), [['__name__', 'coll'], ['a-b', '2']]);
    assert.deepEqual(reg.labels(dotted3), [['__name__', 'coll'], ['a.b', '3']]);
  });

  it('never exposes two series alike because `metric` became `exported_metric`, nor a label named `__name__`', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 60_000 });
    const add = (labels: [string, string][]): number => {
      const key = identityOf(labels)!;
      return reg.create(key.lo, key.hi, key.keyLen, labels, labels.find(([n]) => n === '__name__')![1], -1, 0);
    };
    // Renamed first, then a series with its own exported_metric label: the renamed one moves.
    const renamed = add([['__name__', 'm'], ['job', 'w'], ['metric', 'orig']]);
    assert.equal(reg.labelText[renamed], 'metric="m",exported_metric="orig",job="w"');
    const own = add([['__name__', 'm'], ['exported_metric', 'orig'], ['job', 'w']]);
    assert.equal(reg.labelText[own], 'metric="m",exported_metric="orig",job="w"');
    assert.equal(reg.labelText[renamed], 'metric="m",exported_exported_metric="orig",job="w"');
    // In the other order the renamed one goes deeper at once, past a third series holding that text.
    const own2 = add([['__name__', 'm'], ['exported_metric', 'x'], ['job', 'w']]);
    const deeper = add([['__name__', 'm'], ['exported_exported_metric', 'x'], ['job', 'w']]);
    const renamed2 = add([['__name__', 'm'], ['job', 'w'], ['metric', 'x']]);
    assert.equal(reg.labelText[renamed2], 'metric="m",exported_exported_exported_metric="x",job="w"');
    const texts = [renamed, own, own2, deeper, renamed2].map((id) => reg.labelText[id]);
    assert.equal(new Set(texts).size, texts.length);
    // A name that sanitises to __name__ would make Prometheus refuse the whole scrape.
    const dunder = add([['__name__', 'w'], ['__name_.', 'x'], ['job', 'w']]);
    assert.equal(reg.labelText[dunder], 'metric="w",exported___name__="x",job="w"');
    assert.equal(exposedLabelText([['__name__', 'w'], ['..name..', 'y']]), 'metric="w",exported___name__="y"');
  });

  it('escapes backslashes, quotes and newlines in values, the metric name included', () => {
    assert.equal(escapeLabelValue('plain'), 'plain');
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    assert.equal(
      exposedLabelText([['__name__', 'my.metric "q"\nx\\y'], ['path', 'C:\\dir\\"f"']]),
      'metric="my.metric \\"q\\"\\nx\\\\y",path="C:\\\\dir\\\\\\"f\\""',
    );
    // UTF-8 is kept as is.
    assert.equal(exposedLabelText([['__name__', 'température ☃']]), 'metric="température ☃"');
  });

  it('builds the same text in one pass when no name changes, and gives the labels back from it', () => {
    const rand = prng(7);
    const names = ['a', 'B', 'Z9', '_x', 'job', 'instance', 'metric', 'exported_metric', 'exported_job', 'a.b', 'a_b', '1st', 'ü', 'le', 'zone"x'];
    const values = ['', 'v', 'a"b', 'c\\d', 'e\nf', '☃', 'x="y",z="w"', '\\"'];
    let keeping = 0;
    for (let i = 0; i < 5000; i++) {
      const pick = new Map<string, string>();
      const n = 1 + Math.floor(rand() * 5);
      for (let k = 0; k < n; k++) pick.set(names[Math.floor(rand() * names.length)]!, values[Math.floor(rand() * values.length)]!);
      pick.set('__name__', ['up', 'm.x', 'a"b'][i % 3]!);
      // Sorted as a decoder leaves them; now and then not, which the general path must sort.
      const set = [...pick].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)) as [string, string][];
      if (i % 50 === 0) set.reverse();
      const text = exposedLabelText(set);
      assert.equal(text, renamingLabelText(set), JSON.stringify(set));
      if (keepsNames(set)) {
        keeping++;
        assert.deepEqual(labelsFromExposedText(text), set, JSON.stringify(set));
      }
    }
    assert.ok(keeping > 500, `${keeping} label sets kept their names`);
  });
});

/** Encodes `series` (and metadata) as remote write 1.0, decodes it and ingests it at `now`. */
function ingestV1(pipeline: ReturnType<typeof createPipeline>, series: V1Series[], now: number, meta: Parameters<typeof encodeV1>[1] = []): void {
  const raw = encodeV1(series, meta);
  const batch = new Batch();
  batch.reset(raw);
  const r = new WireReader();
  r.reset(raw);
  decodeV1(r, batch, { maxLabels: 0, maxNameLength: 0, maxValueLength: 0 }, 0);
  pipeline.ingest(batch, now);
}

describe('pipeline with eviction', () => {
  const ingest = ingestV1;

  it('never scores a sample into a series that an eviction in the same request replaced', () => {
    const config = defaultConfig();
    config.series.max_active = 2;
    const pipeline = createPipeline(config);
    const reg = pipeline.registry;
    ingest(pipeline, [{ labels: { __name__: 'a' }, samples: [{ value: 1, timestamp: 1000 }] }], 1);
    ingest(pipeline, [{ labels: { __name__: 'b' }, samples: [{ value: 2, timestamp: 1000 }] }], 2);
    // 'c' is new and evicts 'a' (least recently used), then 'a' arrives in the same request.
    ingest(pipeline, [
      { labels: { __name__: 'c' }, samples: [{ value: 3, timestamp: 5000 }] },
      { labels: { __name__: 'a' }, samples: [{ value: 1, timestamp: 9000 }] },
    ], 3);
    const byName = new Map<string, number>();
    for (let id = 0; id < reg.highWater; id++) if (reg.alive[id] === 1) byName.set(reg.names[id]!, id);
    assert.equal(reg.active, 2);
    assert.ok(byName.has('a'), `series 'a' got a sample and must exist; alive: ${[...byName.keys()].join(',')}`);
    assert.ok(byName.has('c'));
    assert.equal(reg.lastTimeMs[byName.get('c')!], 5000, "c's time is its own");
    assert.equal(reg.lastTimeMs[byName.get('a')!], 9000);
    assert.equal(pipeline.stats.samplesOutOfOrder, 0);
  });
});

describe('kind changes', () => {
  it('start the models again with the settings the series\' labels give them, in their peer group', () => {
    const config = parseConfig(`
forecast:
  models: { lstm: false }
selectors:
  - match: '{__name__="jobs_done"}'
    seasonality: none
    detectors: { isolation_forest: false }
    forecast: { enabled: false }
`);
    const pipeline = createPipeline(config);
    const feed = (series: V1Series[], meta: Parameters<typeof encodeV1>[1] = []): void => ingestV1(pipeline, series, Date.now(), meta);
    const T0 = 1_700_000_000_000;
    const at = (i: number, v: number) => [{ labels: { __name__: 'other', job: 'a' }, samples: [{ value: 1, timestamp: T0 + i * 15_000 }] }, { labels: { __name__: 'jobs_done', job: 'a' }, samples: [{ value: v, timestamp: T0 + i * 15_000 }] }];
    for (let i = 0; i < 50; i++) feed(at(i, 5 * i));
    const id = pipeline.registry.find(...(Object.values(identityOf([['__name__', 'jobs_done'], ['job', 'a']])!) as [number, number, number]));
    assert.ok(id >= 0);
    const peers = pipeline.peers! as unknown as { groupOf: Int32Array };
    const state = () => ({
      period: pipeline.scorer.seasonal.period[id],
      forestSlot: pipeline.scorer.forest.slotOf[id],
      forecast: pipeline.forecast!.forecast[0]![id],
      peerGroup: peers.groupOf[id],
    });
    const before = state();
    assert.equal(before.period, 0, 'seasonality: none');
    assert.ok(Number.isNaN(before.forecast), 'forecast disabled');
    assert.ok(before.peerGroup! >= 0);
    // The exporter starts sending TYPE counter: a kind change.
    feed(at(50, 250), [{ type: MetricType.COUNTER, metricFamilyName: 'jobs_done' }]);
    for (let i = 51; i < 120; i++) feed(at(i, 5 * i));
    assert.equal(pipeline.stats.kindChanges, 1);
    const after = state();
    assert.equal(after.period, 0);
    assert.equal(after.forestSlot, before.forestSlot);
    assert.ok(Number.isNaN(after.forecast), `forecast still disabled: ${after.forecast}`);
    assert.equal(after.peerGroup, before.peerGroup);
  });
});

describe('counter rates', () => {
  it('are scored at their resolution: a scrape a few ms late or one event more is not an anomaly, a fivefold rate is', () => {
    const pipeline = createPipeline(parseConfig('forecast:\n  models: { lstm: false }\n'), { peers: false });
    const T0 = Date.now() - 3 * 3_600_000;
    const ids = new Map<string, number>();
    const flags = new Map<string, string>();
    let burst = 0;
    for (let i = 0; i < 600; i++) {
      // Prometheus-style 5 s scrapes, three of them 3 ms late (Prometheus keeps the millisecond).
      const t = T0 + i * 5000 + (i === 200 || i === 300 || i === 400 ? 3 : 0);
      burst += i >= 450 ? 5 : 1;
      ingestV1(pipeline, [
        { labels: { __name__: 'steady_total', job: 'a' }, samples: [{ value: i, timestamp: t }] },
        { labels: { __name__: 'once_a_minute_total', job: 'a' }, samples: [{ value: Math.floor(i / 12), timestamp: t }] },
        { labels: { __name__: 'bursting_total', job: 'a' }, samples: [{ value: burst, timestamp: t }] },
      ], Date.now());
      for (const name of ['steady_total', 'once_a_minute_total', 'bursting_total']) {
        if (!ids.has(name)) ids.set(name, pipeline.registry.names.indexOf(name));
        if (i >= 100) flags.set(name, (flags.get(name) ?? '') + String(pipeline.scorer.severity[ids.get(name)!]));
      }
    }
    assert.match(flags.get('steady_total')!, /^0+$/, 'timing jitter of a steady counter');
    assert.match(flags.get('once_a_minute_total')!, /^0+$/, 'one event a minute');
    const burstFlags = flags.get('bursting_total')!;
    assert.match(burstFlags.slice(0, 350), /^0+$/);
    assert.ok(burstFlags.slice(350, 420).split('').every((c) => Number(c) >= 2), burstFlags.slice(350, 420));
  });

  it("of a counter that moves in steps less often than it is scraped are its steps' rate: no alarm while it keeps its cadence, one when it stops", () => {
    // Prometheus's remote-write metadata counters: a few hundred entries once a minute, scraped
    // every 5 s (11 scrapes of no change, then a jump).
    const pipeline = createPipeline(parseConfig('forecast:\n  models: { lstm: false }\n'), { peers: false });
    const T0 = Date.now() - 4 * 3_600_000;
    let sent = 0;
    let flags = '';
    let id = -1;
    const stopAt = 12 * 150;
    for (let i = 0; i < stopAt + 360; i++) {
      const t = T0 + i * 5000;
      if (i % 12 === 0 && i < stopAt) sent += 280 + (i % 5);
      ingestV1(pipeline, [{ labels: { __name__: 'prometheus_remote_storage_metadata_total', job: 'prometheus' }, samples: [{ value: sent, timestamp: t }] }], Date.now());
      if (id < 0) id = pipeline.registry.names.indexOf('prometheus_remote_storage_metadata_total');
      flags += String(pipeline.scorer.severity[id]!);
    }
    assert.match(flags.slice(60, stopAt), /^0+$/, `while it sends every minute: ${flags.slice(60, stopAt)}`);
    // Stopped: after three missed minutes its rate is scored as 0, far below its steps' rate.
    const after = flags.slice(stopAt);
    const first = after.search(/[2-4]/);
    assert.ok(first > 0 && first <= 12 * 5, `anomalous ${first / 12} minutes after it stopped: ${after}`);
  });

  it('an integer gauge that steps by a unit or two after a quiet hour is not held anomalous; a larger step and a 0/1 state are', () => {
    // 5 s scrapes; the level-shift hold applies after 4 warm-ups (120 samples).
    const run = (name: string, before: number, after: number): string => {
      const pipeline = createPipeline(parseConfig('forecast:\n  enabled: false\n'), { peers: false });
      const T0 = Date.now() - 3_600_000;
      let sev = '';
      for (let i = 0; i < 720 + 240; i++) {
        ingestV1(pipeline, [{ labels: { __name__: name, job: 'prometheus' }, samples: [{ value: i < 720 ? before : after, timestamp: T0 + i * 5000 }] }], Date.now());
        if (i >= 720) sev += String(pipeline.scorer.severity[0]!);
      }
      return sev;
    };
    // A held shift keeps the severity up for level_shift_hold (15m = 180 samples); a flag alone is
    // gone within a minute, before a held-anomaly alert (5m) could fire.
    const held = (sev: string): boolean => /[1-4]{120}/.test(sev);
    for (const [before, after] of [[22, 24], [463, 464], [24, 23]]) assert.ok(!held(run('process_open_fds', before, after)), `${before} -> ${after}: ${run('process_open_fds', before, after)}`);
    assert.ok(held(run('process_open_fds', 22, 40)), '22 -> 40 is held');
    assert.ok(held(run('up', 1, 0)), 'up 1 -> 0 is held');
  });

  it('of a counter still for an hour: one event is not an anomaly, a burst is', () => {
    const run = (jump: number): number => {
      const pipeline = createPipeline(parseConfig('forecast:\n  enabled: false\n'), { peers: false });
      const T0 = Date.now() - 3_600_000;
      let flagged = 0;
      for (let i = 0; i < 720 + 60; i++) {
        ingestV1(pipeline, [{ labels: { __name__: 'net_conntrack_dialer_conn_attempted_total', job: 'prometheus' }, samples: [{ value: 3 + (i >= 720 ? jump : 0), timestamp: T0 + i * 5000 }] }], Date.now());
        if (i >= 720) flagged = Math.max(flagged, pipeline.scorer.severity[0]!);
      }
      return flagged;
    };
    assert.equal(run(1), 0, 'one connection');
    assert.ok(run(20) >= 3, 'twenty at once');
  });

  it('never have a negative band, forecast or forecast interval', () => {
    const pipeline = createPipeline(parseConfig('forecast:\n  models: { lstm: false }\n'));
    const rnd = prng(7);
    const T0 = 1_700_000_000_000;
    let c = 0;
    let minBand = Infinity, minForecast = Infinity, forecasts = 0;
    for (let i = 0; i < 2000; i++) {
      // Mostly idle, now and then a burst of events: a rate near zero with noise.
      c += rnd() < 0.8 ? 0 : Math.floor(rnd() * 20);
      ingestV1(pipeline, [{ labels: { __name__: 'rare_events_total', job: 'a' }, samples: [{ value: c, timestamp: T0 + i * 15_000 }] }], Date.now());
      const lower = pipeline.scorer.lower[0]!;
      if (lower === lower) minBand = Math.min(minBand, lower);
      const f = pipeline.forecast!;
      if (f.lower[0]![0] === f.lower[0]![0]) {
        forecasts++;
        minForecast = Math.min(minForecast, f.lower[0]![0]!, f.forecast[0]![0]!);
      }
    }
    assert.ok(forecasts > 100, `forecasts made: ${forecasts}`);
    assert.ok(minBand >= 0, `lowest band edge ${minBand}`);
    assert.ok(minForecast >= 0, `lowest forecast or interval edge ${minForecast}`);
  });
});

describe('pipeline sample path', () => {
  /** A pipeline whose scorer records what it is fed. */
  function recording(): { pipeline: ReturnType<typeof createPipeline>; fed: [number, number, number][] } {
    const config = defaultConfig();
    const pipeline = createPipeline(config);
    const fed: [number, number, number][] = [];
    const scorer = pipeline.scorer;
    const real = scorer.observe.bind(scorer);
    scorer.observe = (id: number, tMs: number, x: number) => {
      fed.push([id, tMs, x]);
      real(id, tMs, x);
    };
    return { pipeline, fed };
  }
  let hash = 1000;
  function series(pipeline: ReturnType<typeof createPipeline>, name: string, type = -1): number {
    hash += 7;
    return pipeline.registry.create(hash * 2654435761 >>> 0, hash, name.length + 12, [['__name__', name], ['job', 'p']], name, type, 0);
  }

  it('scores counters on their per-second rate, through resets', () => {
    const { pipeline, fed } = recording();
    const id = series(pipeline, 'requests_total');
    const feed: [number, number][] = [[0, 100], [1000, 110], [2000, 130], [3000, 5], [5000, 25], [15_000, 25]];
    for (const [t, v] of feed) pipeline.observe(id, t, v, 0);
    // The first sample only primes the rate; a drop is a reset, counted from zero.
    assert.deepEqual(fed.map((f) => f[2]), [10, 20, 5, 10, 0]);
    assert.deepEqual(fed.map((f) => f[1]), [1000, 2000, 3000, 5000, 15_000]);
    assert.equal(pipeline.registry.exposed[id], 1);
  });

  it('scores gauges on their value', () => {
    const { pipeline, fed } = recording();
    const id = series(pipeline, 'temperature');
    for (const [t, v] of [[0, 5], [1000, -3], [2000, 1e6]] as const) pipeline.observe(id, t, v, 0);
    assert.deepEqual(fed.map((f) => f[2]), [5, -3, 1e6]);
  });

  it('drops out-of-order and duplicate timestamps, counting them', () => {
    const { pipeline, fed } = recording();
    const id = series(pipeline, 'g');
    for (const [t, v] of [[1000, 1], [1000, 2], [500, 3], [2000, 4], [-5, 5]] as const) pipeline.observe(id, t, v, 0);
    assert.deepEqual(fed.map((f) => f[2]), [1, 4]);
    assert.equal(pipeline.stats.samplesOutOfOrder, 3);
  });

  it('keeps NaN and infinities away from the models and from counter state', () => {
    const { pipeline, fed } = recording();
    const c = series(pipeline, 'bytes_total');
    for (const [t, v] of [[0, 100], [1000, NaN], [2000, 120], [3000, Infinity], [4000, -Infinity], [5000, 150]] as const) pipeline.observe(c, t, v, 0);
    assert.deepEqual(fed.map((f) => f[2]), [10, 10]);
    assert.equal(pipeline.stats.samplesNonFinite, 3);
    assert.ok(fed.every((f) => Number.isFinite(f[2])));
  });

  it('ends exposure at a stale marker and resumes with the next sample', () => {
    const { pipeline, fed } = recording();
    const id = series(pipeline, 'g');
    pipeline.observe(id, 1000, 1, 0);
    assert.equal(pipeline.registry.exposed[id], 1);
    pipeline.observe(id, 2000, NaN, 1);
    assert.equal(pipeline.registry.exposed[id], 0);
    assert.equal(pipeline.stats.staleMarkers, 1);
    assert.equal(fed.length, 1, 'a stale marker is not a sample');
    pipeline.observe(id, 3000, 2, 0);
    assert.equal(pipeline.registry.exposed[id], 1);
  });

  it("never scores Augur's own derived families sent back to it", () => {
    const { pipeline, fed } = recording();
    const id = series(pipeline, 'augur_anomaly_score');
    pipeline.observe(id, 1000, 0.5, 0);
    assert.equal(fed.length, 0);
    assert.equal(pipeline.registry.exposed[id], 0);
    // Augur's own operational metrics are ordinary series.
    const own = series(pipeline, 'augur_http_requests_total');
    pipeline.observe(own, 1000, 1, 0);
    pipeline.observe(own, 2000, 3, 0);
    assert.deepEqual(fed.map((f) => f[2]), [2]);
    // Recording rules over Augur's metrics, as the shipped rules name them, are not scored either;
    // other recording rules are.
    for (const name of ['metric_job:augur_series:count', 'instance:augur_samples_rejected:ratio_rate5m', 'job:augur_x:rate5m']) {
      const rule = series(pipeline, name);
      pipeline.observe(rule, 1000, 1, 0);
      pipeline.observe(rule, 2000, 2, 0);
      assert.equal(pipeline.registry.exposed[rule], 0, name);
    }
    assert.deepEqual(fed.map((f) => f[2]), [2]);
    const other = series(pipeline, 'job:http_requests:rate5m');
    pipeline.observe(other, 1000, 1, 0);
    assert.equal(fed.length, 2);
  });
});
