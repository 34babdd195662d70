import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPipeline } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';
import type { AugurConfig } from '../src/config/schema.js';
import { createLogger } from '../src/log.js';
import { Receiver } from '../src/ingest/receiver.js';
import type { Pipeline } from '../src/pipeline.js';
import { Snapshotter, SNAPSHOT_FILE } from '../src/persist/snapshotter.js';
import type { FailureReason } from '../src/persist/snapshot.js';
import { V1_CONTENT_TYPE, compress, encodeV1 } from './helpers/remote-write.js';

const log = createLogger('silent', 'json');
const T0 = Date.UTC(2024, 0, 1);
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'augur-persist-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function receiver(): Receiver {
  return new Receiver({ maxDecodedBytes: 1 << 26, maxSeriesPerRequest: 0, maxLabels: 64, maxNameLength: 1024, maxValueLength: 4096 });
}

/** Rounds r0..r1 of `n` series (a third counters), one sample per series per 15 s round. */
function feed(p: Pipeline, rx: Receiver, r0: number, r1: number, n = 300): void {
  for (let r = r0; r < r1; r++) {
    const series = [];
    for (let i = 0; i < n; i++) {
      const counter = i % 3 === 0;
      const t = T0 + r * 15_000;
      const v = counter ? r * (i + 1) * 10 + (r % 7) : 100 + i + 10 * Math.sin((r + i) / 9) + ((r * 7919 + i * 104729) % 13) / 5;
      series.push({ labels: { __name__: counter ? `pt_events_total` : `pt_level`, job: 'j', i: String(i), 'odd\u0000"': 'v\\\n' }, samples: [{ value: v, timestamp: t }] });
    }
    rx.decode(compress(encodeV1(series)), V1_CONTENT_TYPE, 'snappy');
    p.ingest(rx.batch, T0 + r * 15_000);
  }
}

function events(failures: FailureReason[] = []) {
  return { restoreFailed: (r: FailureReason) => failures.push(r), restored: () => undefined, written: () => undefined, writeFailed: () => assert.fail('write failed') };
}

function config(edit?: (c: AugurConfig) => void): AugurConfig {
  const c = defaultConfig();
  c.storage.path = dir;
  edit?.(c);
  return c;
}

describe('snapshot and restore', () => {
  it('restores every series and continues scoring exactly where the original is', async () => {
    const c = config();
    const a = createPipeline(c);
    const snapA = new Snapshotter(dir, a, c, log, events());
    const rxA = receiver();
    feed(a, rxA, 0, 400);
    assert.ok(await snapA.snapshot('test'));
    const b = createPipeline(c);
    const snapB = new Snapshotter(dir, b, c, log, events());
    assert.equal(await snapB.restore(), 300);
    assert.equal(b.registry.active, 300);
    assert.equal(b.stats.samplesScored, a.stats.samplesScored);
    // Same identities: a known series resolves to the same id, with the same labels.
    for (let id = 0; id < 300; id++) assert.deepEqual(b.registry.labels(id), a.registry.labels(id));
    const rxB = receiver();
    feed(a, rxA, 400, 440);
    feed(b, rxB, 400, 440);
    assert.equal(b.registry.active, 300, 'no series created again');
    assert.equal(b.registry.created, a.registry.created);
    for (let id = 0; id < 300; id++) {
      assert.equal(b.scorer.score[id], a.scorer.score[id], `score of ${id}`);
      assert.equal(b.scorer.expected[id], a.scorer.expected[id], `expected of ${id}`);
    }
    if (a.forecast !== null) for (let h = 0; h < a.forecast.forecast.length; h++) assert.deepEqual(b.forecast!.forecast[h]!.subarray(0, 300), a.forecast.forecast[h]!.subarray(0, 300));
  });

  it('a snapshot taken while the registry grows restores whole and scores on exactly', async () => {
    const c = config();
    const a = createPipeline(c);
    a.registry.options.growSliceMs = 0; // one growth step per turn
    const snapA = new Snapshotter(dir, a, c, log, events());
    const rxA = receiver();
    feed(a, rxA, 0, 30, 600);
    // Past half of 1,024 ids a growth has begun; a few of its steps run.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(a.registry.capacity, 1024);
    assert.equal(a.registry.alive.length, 2048, 'part of the growth done');
    assert.ok(await snapA.snapshot('test'));
    assert.equal(a.registry.capacity, 2048, 'completed before the arrays were recorded');
    const b = createPipeline(c);
    assert.equal(await new Snapshotter(dir, b, c, log, events()).restore(), 600);
    assert.equal(b.registry.capacity, 2048);
    const rxB = receiver();
    feed(a, rxA, 30, 60, 600);
    feed(b, rxB, 30, 60, 600);
    assert.equal(b.registry.created, a.registry.created, 'no series created again');
    for (let id = 0; id < 600; id++) {
      assert.equal(b.scorer.score[id], a.scorer.score[id], `score of ${id}`);
      assert.equal(b.scorer.expected[id], a.scorer.expected[id], `expected of ${id}`);
    }
    assert.deepEqual(b.scorer.seasonal.bins.subarray(0, 600), a.scorer.seasonal.bins.subarray(0, 600));
  });

  it('refuses a corrupt, truncated or incompatible snapshot: counted, moved aside, fresh start', async () => {
    const c = config();
    const a = createPipeline(c);
    feed(a, receiver(), 0, 50);
    const snap = new Snapshotter(dir, a, c, log, events());
    const file = join(dir, SNAPSHOT_FILE);
    const cases: [FailureReason, () => void, AugurConfig][] = [
      ['corrupt', () => { const b = readFileSync(file); b[Math.floor(b.length / 2)]! ^= 0x40; writeFileSync(file, b); }, c],
      ['truncated', () => truncateSync(file, Math.floor(readFileSync(file).length * 0.7)), c],
      ['corrupt', () => writeFileSync(file, Buffer.from('not a snapshot at all, just some text that is long enough to have a header and trailer area...')), c],
      ['incompatible', () => undefined, config((x) => { x.scoring.warmup_samples = x.scoring.warmup_samples + 1; })],
    ];
    for (const [reason, damage, cfg] of cases) {
      for (const f of readdirSync(dir)) rmSync(join(dir, f));
      assert.ok(await snap.snapshot('test'));
      damage();
      const failures: FailureReason[] = [];
      const fresh = createPipeline(cfg);
      const s = new Snapshotter(dir, fresh, cfg, log, events(failures));
      assert.equal(await s.restore(), 0, reason);
      assert.deepEqual(failures, [reason]);
      assert.equal(fresh.registry.active, 0);
      assert.ok(!existsSync(file), 'moved aside');
      assert.equal(readdirSync(dir).filter((f) => f.includes('.bad-')).length, 1);
      // The next start finds nothing and starts fresh without an error.
      assert.equal(await new Snapshotter(dir, createPipeline(cfg), cfg, log, events(failures)).restore(), 0);
      assert.equal(failures.length, 1);
    }
  });

  it('restored with a lower series.max_active, drops the surplus everywhere, peer groups included, and counts it', async () => {
    for (const f of readdirSync(dir)) rmSync(join(dir, f));
    const c = config();
    const a = createPipeline(c);
    feed(a, receiver(), 0, 20);
    assert.ok(await new Snapshotter(dir, a, c, log, events()).snapshot('test'));
    const small = config((x) => {
      x.series.max_active = 100;
    });
    const b = createPipeline(small);
    assert.equal(await new Snapshotter(dir, b, small, log, events()).restore(), 100);
    assert.equal(b.registry.active, 100);
    assert.equal(b.registry.evicted, 200);
    const members = (b.peers as unknown as { gSize: Int32Array; gInfo: unknown[] });
    let n = 0;
    for (let g = 0; g < members.gInfo.length; g++) if (members.gInfo[g]) n += members.gSize[g]!;
    assert.equal(n, 100, 'peer group members');
    // The dropped series come back as new ones when they send again, evicting others: peer groups
    // keep exactly the live series.
    feed(b, receiver(), 20, 22);
    assert.equal(b.registry.active, 100);
    n = 0;
    for (let g = 0; g < members.gInfo.length; g++) if (members.gInfo[g]) n += members.gSize[g]!;
    assert.equal(n, 100, 'peer group members after more traffic');
  });

  it('a leftover temporary file from an interrupted write leaves the previous snapshot in use', async () => {
    for (const f of readdirSync(dir)) rmSync(join(dir, f));
    const c = config();
    const a = createPipeline(c);
    feed(a, receiver(), 0, 20);
    assert.ok(await new Snapshotter(dir, a, c, log, events()).snapshot('test'));
    writeFileSync(join(dir, `${SNAPSHOT_FILE}.tmp-99999`), Buffer.alloc(1000, 7));
    writeFileSync(join(dir, 'unrelated.tmp-99999'), 'x');
    const b = createPipeline(c);
    assert.equal(await new Snapshotter(dir, b, c, log, events()).restore(), 300);
    // ... and is removed: nothing else ever would.
    assert.deepEqual(readdirSync(dir).sort(), [SNAPSHOT_FILE, 'unrelated.tmp-99999']);
  });
});
