import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeV1 } from './helpers/remote-write.js';
import { postProto, request, startAugur, type Server } from './helpers/server.js';

// The JSON API over a real server: anomalies now, forecast paths, clusters, and their filters.
const STEP = 60_000;
const N = 600;
const WIDE = 45;

function history(instance: string, spikeAt: number, level: number): { value: number; timestamp: number }[] {
  const t0 = Date.now() - N * STEP;
  return Array.from({ length: N }, (_, i) => ({
    timestamp: t0 + i * STEP,
    value: level + 5 * Math.sin((2 * Math.PI * i) / 60) + ((i * 7919) % 13) / 13 + (i === spikeAt ? 400 : 0),
  }));
}

describe('JSON API', () => {
  let server: Server;

  before(async () => {
    server = await startAugur((c) => {
      c.forecast.horizons = ['5m', '1h'];
    });
    const series = ['a', 'b', 'c', 'd'].map((inst, k) => ({
      labels: { __name__: 'api_latency_seconds', job: 'api', instance: inst },
      samples: history(inst, inst === 'd' ? N - 1 : -1, inst === 'c' ? 400 : 100 + k),
    }));
    const res = await postProto(server, encodeV1(series));
    assert.equal(res.status, 204, res.text);
    // A wide peer group, more series than one forecast response holds at 500 steps.
    const wide = Array.from({ length: WIDE }, (_, k) => ({
      labels: { __name__: 'wide_metric', job: 'api', instance: `w${k}` },
      samples: history(`w${k}`, -1, k % 9 === 0 ? 400 : 100),
    }));
    const wres = await postProto(server, encodeV1(wide));
    assert.equal(wres.status, 204, wres.text);
    // A name and a label name outside the legacy charset, selected with Prometheus 3's quoting.
    const utf8 = { labels: { __name__: 'my.metric', job: 'api', 'label with space': 'v' }, samples: history('u', -1, 100) };
    const ures = await postProto(server, encodeV1([utf8]));
    assert.equal(ures.status, 204, ures.text);
    await server.augur.pipeline.peers!.recluster({ forceFull: true });
  });

  after(() => server.close());

  async function get(path: string): Promise<{ status: number; json: { status: string; data: unknown[]; total: number; truncated: boolean; error?: string; warnings?: string[] } }> {
    const r = await request(server.url + path);
    return { status: r.status, json: JSON.parse(r.text) };
  }

  it('lists the series anomalous now, with labels, values, band, since and detector shares', async () => {
    const { status, json } = await get('/api/v1/anomalies');
    assert.equal(status, 200);
    assert.equal(json.status, 'success');
    const d = json.data as { labels: Record<string, string>; score: number; severity: number; value: number; expected: number; lower: number; upper: number; since: string; detectors: { detector: string; contribution: number }[] }[];
    const spike = d.find((x) => x.labels.instance === 'd');
    assert.ok(spike, `the spiked series is listed: ${JSON.stringify(d)}`);
    assert.equal(spike.labels.__name__, 'api_latency_seconds');
    assert.ok(spike.severity >= 1 && spike.score > 0);
    assert.ok(spike.value > spike.upper, 'the actual value is above the band');
    assert.ok(spike.lower <= spike.expected && spike.expected <= spike.upper);
    assert.ok(!Number.isNaN(Date.parse(spike.since)));
    assert.ok(spike.detectors.length > 0);
    const shares = spike.detectors.reduce((a, x) => a + x.contribution, 0);
    assert.ok(Math.abs(shares - 1) < 1e-6, 'detector shares add up to 1');
    assert.ok(!d.some((x) => x.labels.instance === 'a'), 'an undisturbed series is not listed');
  });

  it('filters by label matchers and bounds the size', async () => {
    assert.equal((await get('/api/v1/anomalies?match[]={instance="a"}')).json.data.length, 0);
    assert.ok((await get('/api/v1/anomalies?match[]=api_latency_seconds{instance=~"d|e"}')).json.data.length >= 1);
    const limited = await get('/api/v1/anomalies?limit=1');
    assert.ok(limited.json.data.length <= 1);
    const bad = await get('/api/v1/anomalies?match[]={instance="a"');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.status, 'error');
    assert.equal((await get('/api/v1/anomalies?limit=0')).status, 400);
  });

  it('takes RE2 regexes as Prometheus does, in linear time', async () => {
    const ci = await get('/api/v1/anomalies?match[]=' + encodeURIComponent('{instance=~"(?i)D"}'));
    assert.equal(ci.status, 200, ci.json.error);
    assert.ok(ci.json.data.length >= 1, '(?i) matches case-insensitively');
    const posix = await get('/api/v1/anomalies?match[]=' + encodeURIComponent('{instance=~"[[:alpha:]]"}'));
    assert.equal(posix.status, 200, posix.json.error);
    assert.ok(posix.json.data.length >= 1, 'POSIX classes work');
    const t = performance.now();
    const slow = await get('/api/v1/anomalies?match[]=' + encodeURIComponent('{__name__=~"(.*)*y",instance=~"(.*)*y"}'));
    assert.equal(slow.status, 200);
    assert.ok(performance.now() - t < 1000, 'no catastrophic backtracking');
    const bad = await get('/api/v1/anomalies?match[]=' + encodeURIComponent('{instance=~"(?=a)"}'));
    assert.equal(bad.status, 400);
    assert.match(bad.json.error!, /invalid regular expression/);
  });

  it('refuses selectors with only empty-matching matchers, and decodes escapes', async () => {
    for (const sel of ['{instance=""}', '{instance=~".*"}', '{instance!="a"}']) {
      const r = await get('/api/v1/anomalies?match[]=' + encodeURIComponent(sel));
      assert.equal(r.status, 400, sel);
      assert.match(r.json.error!, /at least one non-empty matcher/);
    }
    const esc = await get('/api/v1/forecast?match[]=' + encodeURIComponent(String.raw`{instance="a"}`) + '&steps=2');
    assert.equal(esc.status, 200, esc.json.error);
    assert.equal(esc.json.data.length, 1, '\\u0061 is "a"');
    const oct = await get('/api/v1/forecast?match[]=' + encodeURIComponent(String.raw`{instance="a"}`) + '&steps=2');
    assert.equal(oct.json.data.length, 1, '\\x61 is "a"');
  });

  it('returns forecast paths with intervals and the model chosen', async () => {
    const { status, json } = await get('/api/v1/forecast?match[]={instance="a"}&horizon=1h&steps=6');
    assert.equal(status, 200);
    assert.equal(json.data.length, 1);
    const f = json.data[0] as { labels: Record<string, string>; horizon: string; model: string; path: { t: number; time: string; value: number; lower: number; upper: number }[] };
    assert.equal(f.horizon, '1h');
    assert.ok(f.model !== '', 'a model is named');
    assert.equal(f.path.length, 6);
    for (let i = 1; i < f.path.length; i++) assert.ok(f.path[i]!.t > f.path[i - 1]!.t, 'steps move forward in time');
    for (const p of f.path) assert.ok(p.lower <= p.value && p.value <= p.upper, JSON.stringify(p));
    assert.equal((await get('/api/v1/forecast?match[]={instance="a"}&horizon=3h')).status, 400, 'an unconfigured horizon is refused');
    assert.equal((await get('/api/v1/forecast')).status, 400, 'match[] is required');
  });

  it('caps the points of a forecast response and says so', async () => {
    const { status, json } = await get('/api/v1/forecast?match[]=wide_metric&limit=1000&steps=500');
    assert.equal(status, 200);
    assert.equal(json.total, WIDE);
    assert.equal(json.data.length, 40, 'at most 20,000 points: 40 series of 500 steps');
    assert.equal(json.truncated, true);
    assert.match(json.warnings?.[0] ?? '', /truncated to 40 series/);
    const small = await get('/api/v1/forecast?match[]=wide_metric&limit=1000&steps=12');
    assert.equal(small.json.data.length, WIDE);
    assert.equal(small.json.truncated, false);
    assert.equal(small.json.warnings, undefined);
  });

  it('caps limit at 1,000 with a warnings entry, in every endpoint', async () => {
    for (const path of ['/api/v1/anomalies?limit=5000', '/api/v1/forecast?match[]=wide_metric&limit=5000', '/api/v1/clusters?limit=5000']) {
      const { status, json } = await get(path);
      assert.equal(status, 200, path);
      assert.deepEqual(json.warnings, ['limit 5000 is above the maximum of 1000: capped to 1000'], path);
    }
    for (const path of ['/api/v1/anomalies?limit=1000', '/api/v1/forecast?match[]=wide_metric&limit=1000', '/api/v1/clusters']) {
      assert.equal((await get(path)).json.warnings, undefined, path);
    }
    const both = await get('/api/v1/forecast?match[]=wide_metric&limit=5000&steps=500');
    assert.equal(both.json.data.length, 40);
    assert.equal(both.json.warnings?.length, 2, 'the limit and the points cap each say so');
    assert.match(both.json.warnings?.[1] ?? '', /truncated to 40 series/);
  });

  it('selects quoted metric and label names, matched against the original labels', async () => {
    const q = (sel: string): string => '/api/v1/forecast?match[]=' + encodeURIComponent(sel);
    const { status, json } = await get(q('{"my.metric", "label with space"="v"}'));
    assert.equal(status, 200, json.error);
    assert.equal(json.total, 1);
    const labels = (json.data[0] as { labels: Record<string, string> }).labels;
    assert.equal(labels.__name__, 'my.metric');
    assert.equal(labels['label with space'], 'v');
    assert.equal((await get(q("{'my.metric'}"))).json.total, 1);
    assert.equal((await get(q('{"my.metric", "label with space"!="v"}'))).json.total, 0);
    assert.equal((await get(q('{metric="my.metric"}'))).json.total, 0, 'not the exposed `metric` label');
    const clusters = await get('/api/v1/clusters?match[]=' + encodeURIComponent('{"my.metric", job="api"}'));
    assert.deepEqual((clusters.json.data as { metric: string }[]).map((g) => g.metric), ['my.metric']);
    const twice = await get(q('up{"my.metric"}'));
    assert.equal(twice.status, 400);
    assert.match(twice.json.error ?? '', /metric name must not be set twice/);
  });

  it('describes peer groups with their clusters, members and outliers', async () => {
    const { status, json } = await get('/api/v1/clusters?match[]=api_latency_seconds');
    assert.equal(status, 200);
    const groups = json.data as { metric: string; labels: Record<string, string>; size: number; clusters: { id: number; size: number; members: Record<string, string>[] }[]; outliers: { series: Record<string, string>; peerOutlierScore: number }[] }[];
    assert.equal(groups.length, 1);
    const g = groups[0]!;
    assert.equal(g.metric, 'api_latency_seconds');
    assert.equal(g.labels.job, 'api');
    assert.equal(g.size, 4);
    const members = g.clusters.flatMap((c) => c.members.map((m) => m.instance)).sort();
    assert.deepEqual(members, ['a', 'b', 'c', 'd']);
    assert.ok(g.outliers.some((o) => o.series.instance === 'c'), 'the series at four times its peers level is an outlier');
    assert.equal((await get('/api/v1/clusters?match[]=nothing_here')).json.data.length, 0);
    for (const c of g.clusters as unknown as { members: unknown[]; membersTotal: number; truncated: boolean }[]) {
      assert.equal(c.membersTotal, c.members.length);
      assert.equal(c.truncated, false);
    }
    assert.equal(json.truncated, false);
  });

  it('bounds the members and outliers listed per group by limit, with their totals', async () => {
    const { status, json } = await get('/api/v1/clusters?match[]=wide_metric&limit=1');
    assert.equal(status, 200);
    const groups = json.data as { size: number; clusters: { members: unknown[]; membersTotal: number; truncated: boolean }[]; outliers: unknown[]; outliersTotal: number; truncated: boolean }[];
    assert.equal(groups.length, 1);
    const g = groups[0]!;
    assert.equal(g.size, WIDE);
    assert.ok(g.clusters.length >= 1);
    for (const c of g.clusters) {
      assert.ok(c.members.length <= 1, `${c.members.length} members listed`);
      assert.equal(c.truncated, c.membersTotal > c.members.length);
    }
    assert.equal(g.clusters.reduce((a, c) => a + c.membersTotal, 0), WIDE, 'every member is counted');
    assert.ok(g.outliers.length <= 1);
    assert.ok(g.outliersTotal >= g.outliers.length);
    assert.equal(g.truncated, true);
    assert.equal(json.truncated, true);
    assert.equal(json.total, 1);
  });
});
