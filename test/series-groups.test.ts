import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeriesRegistry } from '../src/series/registry.js';
import { createPipeline } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';
import type { AugurConfig } from '../src/config/schema.js';
import { createLogger } from '../src/log.js';
import { LstmRunner } from '../src/forecast/lstm-runner.js';
import { Snapshotter } from '../src/persist/snapshotter.js';
import type { Pipeline } from '../src/pipeline.js';

type Labels = [string, string][];

let nextHash = 1;
/** Creates series `name{job, i}` with a fresh identity; returns its id. */
function create(reg: SeriesRegistry, name: string, job: string, i = 0, now = 0): number {
  const lo = (nextHash++ * 2654435761) >>> 0;
  const hi = (nextHash++ * 40503) >>> 0;
  const labels: Labels = [['__name__', name], ['i', String(i)], ['job', job]];
  return reg.create(lo, hi, name.length + job.length + 12, labels, name, -1, now);
}

function key(metric: string, job: string): string {
  return `${metric}\u0000${job}`;
}

describe('peer group ids', () => {
  it('are freed with their last series and reused: 10,000 metric names one after another stay bounded', () => {
    const reg = new SeriesRegistry({ maxActive: 4, stalenessMs: 60_000 });
    const freed: number[] = [];
    reg.onGroupFree((g) => freed.push(g));
    // Each new name evicts the least recently used series, the only one of its group.
    for (let i = 0; i < 10_000; i++) create(reg, `churn_${i}`, 'j');
    assert.equal(reg.active, 4);
    assert.equal(reg.evicted, 9_996);
    assert.ok(reg.groupKeys.length <= 5, `group ids handed out: ${reg.groupKeys.length}`);
    assert.equal(reg.liveGroups, 4);
    assert.equal(freed.length, 9_996);
    for (let id = 0; id < reg.highWater; id++) {
      if (reg.alive[id] === 1) assert.equal(reg.groupKeys[reg.group[id]!], key(reg.names[id]!, 'j'));
    }
    assert.equal(reg.groupKeys.filter((k) => k === '').length, reg.groupKeys.length - 4, 'freed entries are cleared');
  });

  it('a group is freed when its last member goes, by whatever path, and a reused id names only its new pair', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 60_000 });
    const freed: number[] = [];
    reg.onGroupFree((g) => freed.push(g));
    const a1 = create(reg, 'cpu', 'x', 1, 0);
    const a2 = create(reg, 'cpu', 'x', 2, 50_000);
    const b = create(reg, 'mem', 'x', 1, 50_000);
    const ga = reg.group[a1]!;
    const gb = reg.group[b]!;
    assert.equal(reg.group[a2], ga);
    assert.notEqual(ga, gb);
    // A stale sweep takes a1 only: cpu/x keeps a member.
    assert.equal(reg.sweep(70_000), 1);
    assert.deepEqual(freed, []);
    assert.equal(reg.liveGroups, 2);
    reg.remove(a2, 'evicted');
    assert.deepEqual(freed, [ga]);
    assert.equal(reg.groupKeys[ga], '');
    assert.equal(reg.liveGroups, 1);
    // A new pair takes the freed id; the old pair coming back gets an id of its own.
    const c = create(reg, 'disk', 'y', 1, 70_000);
    assert.equal(reg.group[c], ga);
    assert.equal(reg.groupKeys[ga], key('disk', 'y'));
    const a3 = create(reg, 'cpu', 'x', 3, 70_000);
    assert.notEqual(reg.group[a3], ga);
    assert.notEqual(reg.group[a3], gb);
    assert.equal(reg.group[create(reg, 'disk', 'y', 2, 70_000)], ga, 'members of the new pair share the reused id');
    assert.equal(reg.liveGroups, 3);
  });

  it('are not reused while a snapshot is written', () => {
    const reg = new SeriesRegistry({ maxActive: 100, stalenessMs: 60_000 });
    const a = create(reg, 'a', 'j');
    const g = reg.group[a]!;
    reg.holdFreeIds = true;
    reg.remove(a, 'evicted');
    const b = create(reg, 'b', 'j');
    assert.notEqual(reg.group[b], g);
    reg.holdFreeIds = false;
    assert.equal(reg.group[create(reg, 'c', 'j')], g);
  });
});

/** `n` samples, 5 minutes apart from `t0`, of a sine into series `id`. */
function feed(p: Pipeline, id: number, t0: number, n: number): void {
  for (let i = 0; i < n; i++) p.observe(id, t0 + i * 300_000, 10 + id + 5 * Math.sin(i / 6), 0);
}

interface GroupDataView { model: number; count: number; trained: boolean; pending: { count: number } }

function groupsOf(runner: LstmRunner): Map<number, GroupDataView> {
  return (runner as unknown as { groups: Map<number, GroupDataView> }).groups;
}

/** A pipeline whose LSTM runner talks to a fake worker: `onCall` answers each train or predict call. */
function fakeLstm(onCall: (msg: { kind: string; group: number; y: Float32Array; n: number }) => void): { p: Pipeline; runner: LstmRunner; posted: unknown[]; calls: { kind: string; group: number }[] } {
  const p = createPipeline(defaultConfig());
  const runner = new LstmRunner(p.forecast!);
  p.forecast!.lstm = runner;
  const posted: unknown[] = [];
  const calls: { kind: string; group: number }[] = [];
  const r = runner as unknown as { worker: unknown; call: (msg: { kind: string; group: number; y: Float32Array; n: number }) => Promise<unknown> };
  r.worker = { postMessage: (m: unknown) => posted.push(m), terminate: async () => 0 };
  r.call = async (msg) => {
    calls.push({ kind: msg.kind, group: msg.group });
    onCall(msg);
    return { seq: 0, ok: true, seconds: 0 };
  };
  return { p, runner, posted, calls };
}

describe('LSTM data of peer groups', () => {
  it('goes with its group: metric names one after another leave no group data behind', async () => {
    const c = defaultConfig();
    c.series.max_active = 8;
    const p = createPipeline(c);
    const reg = p.registry;
    await p.forecast!.start();
    const runner = p.forecast!.lstm!;
    try {
      let t0 = 0;
      for (let gen = 0; gen < 60; gen++) {
        const ids = [0, 1, 2, 3].map((i) => create(reg, `gen_${gen}`, 'j', i, t0));
        for (const id of ids) feed(p, id, t0, 30);
        await p.forecast!.flushBackground();
        assert.ok(groupsOf(runner).has(reg.group[ids[0]!]!), 'the group takes part in rounds');
        for (const id of ids) reg.remove(id, 'stale');
        t0 += 30 * 300_000;
      }
      assert.equal(reg.active, 0);
      assert.equal(reg.liveGroups, 0);
      assert.ok(reg.groupKeys.length <= 2, `group ids: ${reg.groupKeys.length}`);
      assert.equal(runner.groupCount, 0, 'no group data for freed groups');
      // Removed series' ids are in no group until reused: a round creates nothing for them.
      await p.forecast!.flushBackground();
      assert.equal(runner.groupCount, 0);
      assert.equal(runner.pairsAllocated, 0);
      assert.equal(p.forecast!.trainingErrors, 0);
    } finally {
      await p.forecast!.stop();
    }
  });

  it('a reused group id starts with fresh data and a model of its own', async () => {
    const { p, runner, posted } = fakeLstm(() => undefined);
    const reg = p.registry;
    const old = [0, 1, 2].map((i) => create(reg, 'old', 'j', i));
    for (const id of old) feed(p, id, 0, 60);
    await runner.round();
    await runner.round();
    const g = reg.group[old[0]!]!;
    const before = groupsOf(runner).get(g)!;
    assert.ok(before.pending.count > 0 || before.count > 0, 'the old group collected windows');
    for (const id of old) reg.remove(id, 'evicted');
    assert.equal(groupsOf(runner).has(g), false);
    const fresh = [0, 1, 2].map((i) => create(reg, 'new', 'j', i, 1));
    assert.equal(reg.group[fresh[0]!], g, 'the freed id is reused');
    for (const id of fresh) feed(p, id, 0, 30);
    await runner.round();
    const after = groupsOf(runner).get(g)!;
    assert.notEqual(after, before);
    assert.notEqual(after.model, before.model);
    assert.equal(after.count, 0);
    assert.equal(after.trained, false);
    assert.deepEqual(posted, [{ kind: 'drop', models: [before.model] }], "the old group's model is disposed in the worker");
  });

  it('a prediction in flight when its group is freed and reused is not published to the new series', async () => {
    const { p, calls, reg, g, old, swapped } = await swapInFlight('predict', (gd) => (gd.trained = true));
    assert.deepEqual(calls.map((c) => c.kind), ['predict']);
    assert.deepEqual([...swapped].sort(), [...old].sort(), 'the new series took the old ids');
    assert.equal(reg.group[swapped[0]!], g, 'and the old group id');
    const f = p.forecast!;
    for (const id of swapped) for (let h = 0; h < f.horizonMs.length; h++) assert.ok(Number.isNaN(f.lstmChange[h]![id]!), `series ${id}, horizon ${h}`);
  });

  it('a training in flight when its group is freed and reused leads to no prediction for the new series', async () => {
    // Enough pairs to train (their values do not matter to the fake worker).
    const { p, runner, calls, reg, g, swapped } = await swapInFlight('train', (gd) => (gd.count = 200));
    assert.deepEqual(calls.map((c) => c.kind), ['train']);
    assert.equal(reg.group[swapped[0]!], g);
    const f = p.forecast!;
    for (const id of swapped) for (let h = 0; h < f.horizonMs.length; h++) assert.ok(Number.isNaN(f.lstmChange[h]![id]!));
    assert.equal(groupsOf(runner).get(g)?.trained ?? false, false, 'the new group is not taken as trained');
  });
});

/**
 * Three series of one group, a round, `prime` on the group's data, and a second round whose first
 * `kind` call to the fake worker removes the series meanwhile: a new pair takes their ids and the
 * group id, with as many buckets as the windows in flight.
 */
async function swapInFlight(kind: 'predict' | 'train', prime: (gd: GroupDataView) => void) {
  let reg!: SeriesRegistry;
  let pipeline!: Pipeline;
  const swapped: number[] = [];
  const { p, runner, calls } = fakeLstm((msg) => {
    msg.y.fill(7);
    if (msg.kind !== kind || swapped.length > 0) return;
    for (let id = 0; id < reg.highWater; id++) if (reg.alive[id] === 1) reg.remove(id, 'evicted');
    swapped.push(...[0, 1, 2].map((i) => create(reg, 'new', 'j', i, 1)));
    for (const id of swapped) feed(pipeline, id, 0, 60);
  });
  reg = p.registry;
  pipeline = p;
  const old = [0, 1, 2].map((i) => create(reg, 'old', 'j', i));
  for (const id of old) feed(p, id, 0, 60);
  const g = reg.group[old[0]!]!;
  await runner.round();
  prime(groupsOf(runner).get(g)!);
  await runner.round();
  return { p, runner, calls, reg, g, old, swapped };
}

describe('peer groups in snapshots', () => {
  const log = createLogger('silent', 'json');
  const events = { restoreFailed: () => assert.fail('restore failed'), restored: () => undefined, written: () => undefined, writeFailed: () => assert.fail('write failed') };
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'augur-groups-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function config(): AugurConfig {
    const c = defaultConfig();
    c.storage.path = dir;
    return c;
  }

  it('freed groups round-trip: index, free list and member counts are rebuilt', async () => {
    const c = config();
    const a = createPipeline(c);
    const snap = new Snapshotter(dir, a, c, log, events);
    const ids = new Map<string, number>();
    for (let i = 0; i < 100; i++) ids.set(`m${i}`, create(a.registry, `m${i}`, 'j', 0));
    for (const [, id] of ids) feed(a, id, 0, 3);
    // Two members in m1's group; every third name goes.
    const m1b = create(a.registry, 'm1', 'j', 1);
    const groupOf = new Map([...ids].map(([name, id]) => [name, a.registry.group[id]!]));
    for (let i = 0; i < 100; i += 3) a.registry.remove(ids.get(`m${i}`)!, 'evicted');
    assert.equal(a.registry.liveGroups, 66);
    assert.ok(await snap.snapshot('test'));

    const b = createPipeline(c);
    const freed: number[] = [];
    b.registry.onGroupFree((g) => freed.push(g));
    assert.equal(await new Snapshotter(dir, b, c, log, events).restore(), 67);
    assert.deepEqual(freed, [], 'nothing more to free');
    assert.deepEqual(b.registry.groupKeys, a.registry.groupKeys);
    assert.equal(b.registry.liveGroups, 66);
    for (let id = 0; id < a.registry.highWater; id++) if (a.registry.alive[id] === 1) assert.equal(b.registry.group[id], a.registry.group[id]);
    // New pairs take freed ids (the lowest first); a known pair keeps its own.
    const groups = b.registry.groupKeys.length;
    const n1 = create(b.registry, 'new1', 'j');
    const n2 = create(b.registry, 'new2', 'j');
    const m2b = create(b.registry, 'm2', 'j', 1);
    assert.equal(b.registry.group[n1], groupOf.get('m0'), 'the id m0 had');
    assert.equal(b.registry.group[n2], groupOf.get('m3'));
    assert.equal(b.registry.groupKeys[b.registry.group[n2]!], key('new2', 'j'));
    assert.equal(b.registry.group[m2b], groupOf.get('m2'));
    assert.equal(b.registry.group[ids.get('m2')!], groupOf.get('m2'));
    assert.equal(b.registry.groupKeys.length, groups);
    assert.equal(b.registry.liveGroups, 68);
    // Member counts: m1's group goes with its second member, not before.
    const g1 = b.registry.group[ids.get('m1')!]!;
    b.registry.remove(ids.get('m1')!, 'evicted');
    assert.deepEqual(freed, []);
    b.registry.remove(m1b, 'evicted');
    assert.deepEqual(freed, [g1]);
  });

  it('a snapshot of the old kind (groups kept forever) restores, its empty groups freed', async () => {
    const c = config();
    const a = createPipeline(c);
    const snap = new Snapshotter(dir, a, c, log, events);
    const x = create(a.registry, 'x', 'j');
    const y = create(a.registry, 'y', 'j');
    const z = create(a.registry, 'z', 'j');
    for (const id of [x, y, z]) feed(a, id, 0, 30);
    const gy = a.registry.group[y]!;
    a.registry.remove(y, 'evicted');
    // What the code before group ids were freed wrote: every key kept, dead ids in their group.
    a.registry.groupKeys[gy] = key('y', 'j');
    a.registry.group[y] = gy;
    a.forecast!.groupOf[y] = gy;
    // A series recorded alive whose group was freed while the snapshot was written.
    const gz = a.registry.group[z]!;
    a.registry.groupKeys[gz] = '';
    assert.ok(await snap.snapshot('test'));

    const b = createPipeline(c);
    const freed: number[] = [];
    b.registry.onGroupFree((g) => freed.push(g));
    assert.equal(await new Snapshotter(dir, b, c, log, events).restore(), 1);
    assert.equal(b.registry.alive[x], 1);
    assert.equal(b.registry.alive[z], 0, 'dropped: it went while the snapshot was written');
    assert.deepEqual(freed, [gy]);
    assert.equal(b.registry.groupKeys[gy], '');
    assert.equal(b.registry.liveGroups, 1);
    assert.equal(b.forecast!.groupOf[y], -1, 'a dead id is in no group');
    assert.equal(b.forecast!.groupOf[z], -1);
    // The freed ids are handed out again, lowest first.
    assert.equal(b.registry.group[create(b.registry, 'w', 'j')], Math.min(gy, gz));
  });
});
