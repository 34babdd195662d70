import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerEngine } from '../src/cluster/engine.js';
import { gauss } from '../src/cluster/synthetic.js';
import { rng } from '../src/cluster/kmeans.js';

const STEP = 15_000;
const T0 = Date.UTC(2025, 0, 1);

test('one of 20 siblings doubling its latency is a peer outlier within 10 samples, siblings stay under 0.5', async () => {
  const e = new PeerEngine();
  const n = 20;
  e.resize(n);
  for (let i = 0; i < n; i++) e.addSeries(i, 'http_request_duration_seconds', new Map([['job', 'api'], ['instance', `pod-${i}`]]));
  const next = rng(42);
  const bad = 7;
  const changeAt = 240; // one hour of normal behaviour first
  let reached = -1;
  let siblingMax = 0;
  for (let s = 0; s < changeAt + 40; s++) {
    const t = T0 + s * STEP;
    const load = 1 + 0.3 * Math.sin((2 * Math.PI * s) / 120); // shared by all siblings
    for (let i = 0; i < n; i++) {
      let x = 0.1 * load * (1 + 0.05 * gauss(next));
      if (i === bad && s >= changeAt) x *= 2;
      e.observe(i, t, x, 0);
    }
    if (s % 4 === 3) await e.recluster(); // every minute, as in production
    for (let i = 0; i < n; i++) if (i !== bad) siblingMax = Math.max(siblingMax, e.peerOutlierScore[i]!);
    if (s < changeAt) assert.ok(e.peerOutlierScore[bad]! < 0.5, `before the change at ${s}`);
    if (s >= changeAt && reached < 0 && e.peerOutlierScore[bad]! >= 0.9) reached = s - changeAt + 1;
  }
  assert.ok(reached > 0 && reached <= 10, `reached 0.9 after ${reached} samples`);
  assert.ok(e.peerOutlierScore[bad]! >= 0.9);
  assert.ok(siblingMax < 0.5, `sibling max ${siblingMax}`);
  const report = e.describe();
  assert.deepEqual(
    report.groups[0]!.outliers.map((o) => o.series),
    [bad],
  );
});

test('group anomaly ratio follows the anomalous flags; groups come and go with their series', () => {
  const e = new PeerEngine({ group_by: ['job'] });
  e.resize(16);
  for (let i = 0; i < 10; i++) e.addSeries(i, 'up', [['job', 'a'], ['instance', String(i)]]);
  for (let i = 10; i < 12; i++) e.addSeries(i, 'up', [['job', 'b']]);
  e.addSeries(12, 'other', [['instance', 'x']]);
  for (let i = 0; i < 13; i++) e.observe(i, T0, 1, i < 3 ? 1 : 0);
  const ratio = (metric: string, job?: string) =>
    [...e.groups()].find((g) => g.metric === metric && (g.labels.find(([k]) => k === 'job')?.[1] === job))!.anomalyRatio;
  assert.equal(ratio('up', 'a'), 0.3);
  assert.equal(ratio('up', 'b'), 0);
  assert.equal(ratio('other', undefined), 0);
  assert.deepEqual([...e.groups()].find((g) => g.metric === 'other')!.labels, []);
  e.observe(0, T0 + STEP, 1, 0);
  assert.equal(ratio('up', 'a'), 0.2);
  e.removeSeries(1); // anomalous
  assert.equal(ratio('up', 'a'), 1 / 9);
  e.removeSeries(10);
  e.removeSeries(11);
  assert.equal([...e.groups()].filter((g) => g.metric === 'up').length, 1);
  // a reused id starts clean in its new group
  e.reset(11);
  e.addSeries(11, 'up', [['job', 'a']]);
  assert.equal(e.clusterId[11], -1);
  assert.equal(e.peerOutlierScore[11], 0);
  // ...and counts in the group from its first sample on.
  assert.equal(ratio('up', 'a'), 1 / 9);
  e.observe(11, T0 + 2 * STEP, 1, 0);
  assert.equal(ratio('up', 'a'), 1 / 10);
  // A group whose series never had a sample (histograms only, derived series sent back) is not shown.
  e.resize(16);
  e.addSeries(13, 'hist_only', [['job', 'a']]);
  e.addSeries(14, 'hist_only', [['job', 'a']]);
  assert.equal([...e.groups()].filter((g) => g.metric === 'hist_only').length, 0);
  e.observe(14, T0, 1, 1);
  assert.equal([...e.groups()].find((g) => g.metric === 'hist_only')!.anomalyRatio, 1);
});

test('describe filters groups by a predicate and maps members', async () => {
  const e = new PeerEngine();
  e.resize(8);
  for (let i = 0; i < 8; i++) e.addSeries(i, i < 4 ? 'a' : 'b', [['job', 'j']]);
  for (let s = 0; s < 150; s++) for (let i = 0; i < 8; i++) e.observe(i, T0 + s * STEP, 1 + (i % 2) * 0.01, 0);
  await e.recluster();
  const report = e.describe((metric) => metric === 'b', (id) => `series-${id}`);
  assert.equal(report.groups.length, 1);
  const g = report.groups[0]!;
  assert.equal(g.metric, 'b');
  assert.deepEqual(g.labels, { job: 'j' });
  assert.equal(g.clusters.reduce((s, c) => s + c.size, 0), 4);
  assert.deepEqual(g.clusters.flatMap((c) => c.members).sort(), ['series-4', 'series-5', 'series-6', 'series-7']);
  assert.equal(g.clusters[0]!.centroid.shape.length, 32);
  JSON.stringify(report);
});

test('growing the engine keeps every series window: the same clusters as an engine sized for them from the start', async () => {
  const run = async (initial: number): Promise<unknown> => {
    const e = new PeerEngine();
    e.resize(initial);
    const next = rng(7);
    const n = 24;
    for (let s = 0; s < 200; s++) {
      if (s === 0) for (let i = 0; i < n / 2; i++) e.addSeries(i, 'm', [['job', 'j'], ['i', String(i)]]);
      // The second half arrives later, growing an engine started small.
      if (s === 60) for (let i = n / 2; i < n; i++) e.addSeries(i, 'm', [['job', 'j'], ['i', String(i)]]);
      const members = s < 60 ? n / 2 : n;
      for (let i = 0; i < members; i++) {
        const shape = i % 3 === 0 ? Math.sin((2 * Math.PI * s) / 40) : i % 3 === 1 ? s / 200 : 0;
        e.observe(i, T0 + s * STEP, 10 + 3 * shape + 0.05 * gauss(next), 0);
      }
    }
    await e.recluster();
    const g = e.describe().groups[0]!;
    return { clusters: g.clusters, outliers: g.outliers, scores: Array.from(e.peerOutlierScore.subarray(0, n)) };
  };
  const grown = await run(4);
  assert.deepEqual(grown, await run(4096));
  assert.ok(((grown as { clusters: unknown[] }).clusters.length) >= 2);
});

test('a peer set left with fewer than three members stops scoring its members: their MAD scores fade out', () => {
  const e = new PeerEngine();
  e.resize(4);
  for (let i = 0; i < 3; i++) e.addSeries(i, 'm', [['job', 'j'], ['instance', String(i)]]);
  let t = T0;
  for (let s = 0; s < 20; s++, t += STEP) for (let i = 0; i < 3; i++) e.observe(i, t, i === 2 ? 10 + s * 0.01 : 1 + i * 0.01, 0);
  const before = e.peerOutlierScore[2]!;
  assert.ok(before > 0.5, `outlier among three: ${before}`);
  e.removeSeries(0);
  // Two members left: no median to judge them by; an outlier flag must not outlive its peers.
  e.observe(2, t, 1.01, 0);
  const next = e.peerOutlierScore[2]!;
  assert.ok(next < before && next > 0, `fades, not dropped at once: ${before} -> ${next}`);
  for (let s = 0; s < 20; s++, t += STEP) for (let i = 1; i < 3; i++) e.observe(i, t, i === 2 ? 1.01 : 1, 0);
  assert.ok(e.peerOutlierScore[2]! < 0.01, `faded: ${e.peerOutlierScore[2]}`);
});

/** A node_exporter-like group: every cpu and mode of every node in one (metric, job) group. */
const MODES: [string, number][] = [['idle', 0.85], ['user', 0.08], ['system', 0.03], ['iowait', 0.01], ['nice', 0], ['softirq', 0.004]];

function cpuGroup(e: PeerEngine, nodes: number, cpus: number): { key: string; node: number; mode: string; level: number }[] {
  const out: { key: string; node: number; mode: string; level: number }[] = [];
  for (let n = 0; n < nodes; n++) for (let c = 0; c < cpus; c++) for (const [mode, level] of MODES) out.push({ key: `${n}/${c}/${mode}`, node: n, mode, level });
  e.resize(out.length);
  out.forEach((s, id) => e.addSeries(id, 'node_cpu_seconds_total', [['__name__', 'node_cpu_seconds_total'], ['cpu', String(out[id]!.key.split('/')[1])], ['instance', `node-${s.node}:9100`], ['job', 'node'], ['mode', s.mode]]));
  return out;
}

test('series of one group that differ in more than the peer labels are not peers: idle cpu time is not an outlier among user and system', async () => {
  const e = new PeerEngine();
  const series = cpuGroup(e, 5, 2);
  const next = rng(3);
  const longest = new Float64Array(series.length);
  const run = new Float64Array(series.length);
  const bad = series.findIndex((s) => s.key === '3/1/user');
  const changeAt = 240;
  let reached = -1;
  for (let s = 0; s < changeAt + 60; s++) {
    const t = T0 + s * STEP;
    series.forEach((x, id) => {
      let v = Math.max(0, x.level * (1 + 0.1 * gauss(next)) + 0.002 * gauss(next));
      if (id === bad && s >= changeAt) v = 0.6;
      e.observe(id, t, v, 0);
    });
    if (s % 4 === 3) await e.recluster();
    if (s < 120) continue;
    series.forEach((_, id) => {
      if (id === bad && s >= changeAt) return;
      run[id] = e.peerOutlierScore[id]! >= 0.9 ? run[id]! + 1 : 0;
      longest[id] = Math.max(longest[id]!, run[id]!);
    });
    if (s >= changeAt && reached < 0 && e.peerOutlierScore[bad]! >= 0.9) reached = s - changeAt + 1;
  }
  // AugurPeerOutlier needs 15 minutes (60 samples) at 0.9 or more.
  const worst = Math.max(...longest);
  assert.ok(worst < 60, `a healthy series stayed a peer outlier for ${worst} samples`);
  assert.ok(reached > 0 && reached <= 10, `user time of one cpu jumping to 0.6 reached 0.9 after ${reached} samples`);
  const report = e.describe();
  const outlier = report.groups[0]!.outliers.find((o) => o.series === bad)!;
  assert.equal(outlier.peers, 5, 'the same cpu and mode on the five nodes');
  assert.ok(outlier.peerMedian !== null && Math.abs(outlier.peerMedian - 0.08) < 0.03, `peer median ${outlier.peerMedian}`);
});

test('cluster.peer_labels chooses the labels that tell peers apart', () => {
  const run = (peerLabels: string[]): number => {
    const e = new PeerEngine({ peer_labels: peerLabels });
    e.resize(8);
    for (let i = 0; i < 8; i++) e.addSeries(i, 'rpc_latency_seconds', [['job', 'api'], ['pod', `api-${i}`], ['zone', i < 5 ? 'a' : 'b']]);
    let t = T0;
    for (let s = 0; s < 40; s++, t += STEP) for (let i = 0; i < 8; i++) e.observe(i, t, (i < 5 ? 0.1 : 0.5) + 0.001 * (i % 5), 0);
    return Math.max(...Array.from(e.peerOutlierScore.subarray(0, 8)));
  };
  // Zones differ by design: with zone a peer label, the three zone b pods are outliers among all
  // eight; by default (instance, pod) each zone's pods are compared among themselves.
  assert.ok(run(['pod', 'zone']) > 0.9);
  assert.ok(run(['instance', 'pod']) < 0.1);
});

test('the buckets of one histogram are compared with the same bucket on other instances, not with each other', async () => {
  // Prometheus's own response-size histogram: every handler and bucket of every instance in one
  // (metric, job) group; a series' peers are the same handler and bucket on the other instances.
  // Most handlers are idle (rates flat at zero); the busy handlers' buckets rise and fall with
  // their requests, unlike the other buckets and handlers.
  const les = ['100', '1000', '10000', '100000', '1e+06', '1e+07', '+Inf'];
  const handlers = ['/metrics', '/api/v1/write', '/api/v1/query', '/api/v1/query_range', '/api/v1/labels', '/api/v1/series', '/graph', '/-/ready', '/-/healthy', '/federate', '/api/v1/rules', '/api/v1/alerts'];
  const cdf = [0, 0.02, 0.1, 0.9, 1, 1, 1];
  const run = async (instances: number, flatFrom: number) => {
    const series: { handler: number; le: number; inst: number }[] = [];
    for (let inst = 0; inst < instances; inst++) for (let h = 0; h < handlers.length; h++) for (let l = 0; l < les.length; l++) series.push({ handler: h, le: l, inst });
    const e = new PeerEngine();
    e.resize(series.length);
    series.forEach((x, id) => e.addSeries(id, 'prometheus_http_response_size_bytes_bucket', [['handler', handlers[x.handler]!], ['instance', `prom-${x.inst}:9090`], ['job', 'prometheus'], ['le', les[x.le]!]]));
    // From flatFrom on, the last instance's /api/v1/write buckets stop following the load.
    const flat = (x: { handler: number; inst: number }, s: number) => x.handler === 1 && x.inst === instances - 1 && s >= flatFrom;
    const next = rng(11);
    let worst = 0;
    for (let s = 0; s < 480; s++) {
      const t = T0 + s * STEP;
      series.forEach((x, id) => {
        const wave = flat(x, s) ? 1 : 1 + 0.5 * Math.sin((2 * Math.PI * s) / 200);
        const load = x.handler === 0 ? 0.2 : x.handler === 1 ? 2 * wave : 0;
        const mean = load * cdf[x.le]! * 15;
        const events = Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss(next)));
        // The resolution the pipeline passes for an integer counter's rate: half an event and
        // 10 ms of jitter over the interval.
        e.observe(id, t, events / 15, 0, (0.5 + 0.01 * (events / 15)) / 15);
      });
      if (s % 4 === 3) await e.recluster();
      if (s >= 120) series.forEach((x, id) => (flat(x, flatFrom) ? 0 : (worst = Math.max(worst, e.peerOutlierScore[id]!))));
    }
    // The buckets that hold most requests (le >= 100000): the small ones are noise either way.
    const flatIds = series.flatMap((x, id) => (flat(x, flatFrom) && x.le >= 3 ? [id] : []));
    const outliers = e.describe().groups[0]!.outliers;
    return { worst, flatCaught: flatIds.filter((id) => (outliers.find((o) => o.series === id)?.densityScore ?? 0) >= 0.5).length, outliers };
  };
  const alone = await run(1, Infinity);
  assert.ok(alone.worst < 0.5, `one instance: a series scored ${alone.worst} as a peer outlier among series that are not its peers`);
  assert.deepEqual(alone.outliers, []);
  const five = await run(5, 300);
  // Five peers' MAD wanders with their counts' noise; AugurPeerOutlier needs 0.9 for 15 minutes.
  assert.ok(five.worst < 0.9, `five instances: a healthy series scored ${five.worst}`);
  assert.ok(five.flatCaught >= 2, `${five.flatCaught} of the 4 buckets that stopped following the load are density outliers among the same buckets of 4 instances`);
});
