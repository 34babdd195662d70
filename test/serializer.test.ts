import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import Fastify from 'fastify';
import client from 'prom-client';
import { renderDerived, type SeriesFamily, type TextFamily } from '../src/expose/derived.js';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, acceptsGzip, escapeHelp, formatValue, wantsOpenMetrics } from '../src/expose/format.js';
import type { SelfMetrics } from '../src/expose/self-metrics.js';
import { writeSelfMetrics } from '../src/expose/self-text.js';
import { registerMetricsRoute } from '../src/http/metrics-route.js';
import { SeriesRegistry } from '../src/series/registry.js';
import { MetricType } from '../src/series/kind.js';
import { encodeV1, encodeV2 } from './helpers/remote-write.js';
import { staleMarker } from './helpers/fuzz-corpus.js';
import { find, getMetrics, parseExposition, postProto, request, startAugur, type Server } from './helpers/server.js';

const PROMTOOL = '/usr/bin/promtool';
const T0 = Date.UTC(2024, 0, 1);

async function collect(gen: AsyncGenerator<string>): Promise<string> {
  let s = '';
  for await (const chunk of gen) s += chunk;
  return s;
}

function registryWith(n: number, name = (i: number) => `m${i % 10}`): SeriesRegistry {
  const reg = new SeriesRegistry({ maxActive: n + 10, stalenessMs: 60_000 });
  for (let i = 0; i < n; i++) {
    const labels: [string, string][] = [['__name__', name(i)], ['instance', `host-${i}:9100`], ['job', 'node']];
    const id = reg.create((i * 2654435761) >>> 0, i, 40, labels, name(i), -1, 0);
    reg.exposed[id] = 1;
  }
  return reg;
}

function family(name: string, values: ArrayLike<number> | (() => ArrayLike<number>), skipNaN: boolean, extraLabels = ''): SeriesFamily {
  const read = typeof values === 'function' ? values : () => values;
  return { name, help: `Help for ${name}.`, variants: [{ extraLabels, values: read }], skip: skipNaN ? 'nan' : 'none' };
}

/** promtool check metrics on `text`: exit code and what it printed. */
function promtool(text: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out }));
    p.stdin.end(text);
  });
}

/**
 * Structural checks of an exposition: every sample belongs to the family most recently declared
 * by `# TYPE` (with the suffixes its type allows), no family is declared twice, and OpenMetrics
 * ends with exactly one `# EOF`.
 */
function checkStructure(text: string, openMetrics: boolean): void {
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  if (openMetrics) {
    assert.equal(lines.pop(), '# EOF');
    assert.ok(!lines.includes('# EOF'));
  }
  const declared = new Set<string>();
  let fam = '';
  let type = '';
  for (const line of lines) {
    assert.notEqual(line, '', 'no blank lines');
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , f, t] = line.split(' ');
      assert.ok(!declared.has(f!), `family ${f} declared twice`);
      declared.add(f!);
      fam = f!;
      type = t!;
      continue;
    }
    assert.ok(!line.startsWith('#'), `unexpected comment ${line}`);
    const name = /^[^{ ]+/.exec(line)![0];
    const allowed =
      type === 'counter' ? (openMetrics ? [fam + '_total', fam + '_created'] : [fam])
      : type === 'histogram' ? [fam + '_bucket', fam + '_sum', fam + '_count', fam + '_created']
      : type === 'summary' ? [fam, fam + '_sum', fam + '_count', fam + '_created']
      : [fam];
    assert.ok(allowed.includes(name), `${name} under # TYPE ${fam} ${type}`);
    const value = line.slice(line.lastIndexOf(' ') + 1);
    assert.ok(value === 'NaN' || value === '+Inf' || value === '-Inf' || Number.isFinite(Number(value)), `value in ${line}`);
  }
}

describe('value and text formatting', () => {
  it('spells values as the exposition formats do', () => {
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(0), '0');
    assert.equal(formatValue(-0), '0');
    assert.equal(formatValue(1), '1');
    assert.equal(formatValue(-2.5), '-2.5');
    assert.equal(formatValue(0.1 + 0.2), '0.30000000000000004');
    assert.equal(Number(formatValue(1e21)), 1e21);
    assert.equal(Number(formatValue(1.5e-7)), 1.5e-7);
    assert.equal(Number(formatValue(Number.MAX_VALUE)), Number.MAX_VALUE);
    assert.equal(Number(formatValue(-Number.MIN_VALUE)), -Number.MIN_VALUE);
  });

  it('escapes HELP text', () => {
    assert.equal(escapeHelp('plain'), 'plain');
    assert.equal(escapeHelp('a\\b\nc'), 'a\\\\b\\nc');
    // The double quote is escaped in OpenMetrics only.
    assert.equal(escapeHelp('say "hi"'), 'say "hi"');
    assert.equal(escapeHelp('say "hi"\\', true), 'say \\"hi\\"\\\\');
  });

  it('chooses OpenMetrics only when the client prefers it', () => {
    assert.equal(wantsOpenMetrics(undefined), false);
    assert.equal(wantsOpenMetrics(''), false);
    assert.equal(wantsOpenMetrics('*/*'), false);
    assert.equal(wantsOpenMetrics('text/plain;version=0.0.4'), false);
    assert.equal(wantsOpenMetrics('application/openmetrics-text'), true);
    assert.equal(wantsOpenMetrics('application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'), true);
    assert.equal(wantsOpenMetrics('application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'), true);
    assert.equal(wantsOpenMetrics('application/openmetrics-text;q=0.2, text/plain;q=0.9'), false);
    assert.equal(wantsOpenMetrics('application/openmetrics-text;q=0'), false);
    assert.equal(wantsOpenMetrics('APPLICATION/OPENMETRICS-TEXT'), true);
    // Parameter names are case-insensitive.
    assert.equal(wantsOpenMetrics('application/openmetrics-text;Q=0.1, text/plain;q=0.5'), false);
    assert.equal(wantsOpenMetrics('application/openmetrics-text; Q = 0.9, text/plain;q=0.5'), true);
    // A version it does not write (2.0.0) is not OpenMetrics 1.0.0; application/* covers OpenMetrics.
    assert.equal(wantsOpenMetrics('application/openmetrics-text;version=2.0.0'), false);
    assert.equal(wantsOpenMetrics('application/openmetrics-text;version=2.0.0,application/openmetrics-text;version=1.0.0;q=0.5,text/plain;q=0.4'), true);
    assert.equal(wantsOpenMetrics('application/*'), true);
    assert.equal(wantsOpenMetrics('application/*;q=0.5,text/*;q=0.8'), false);
  });

  it('gzips only when Accept-Encoding takes gzip', () => {
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip(''), false);
    assert.equal(acceptsGzip('gzip'), true);
    assert.equal(acceptsGzip('gzip, deflate, br'), true);
    assert.equal(acceptsGzip('GZIP;q=0.5'), true);
    assert.equal(acceptsGzip('x-gzip'), true);
    assert.equal(acceptsGzip('gzip;q=0, identity'), false);
    assert.equal(acceptsGzip('gzip;Q=0'), false);
    assert.equal(acceptsGzip('deflate, identity'), false);
    assert.equal(acceptsGzip('notgzip'), false);
    assert.equal(acceptsGzip('*'), true);
    assert.equal(acceptsGzip('*;q=0'), false);
    assert.equal(acceptsGzip('gzip;q=0, *'), false);
  });
});

describe('derived renderer', () => {
  it('renders one line per exposed series, skipping NaN where the family says so', async () => {
    const reg = registryWith(5);
    reg.exposed[3] = 0;
    const score = Float64Array.from([0.1, NaN, 1, 0.5, 0]);
    const band = Float64Array.from([10, NaN, Infinity, 4, -Infinity]);
    const text = await collect(renderDerived(reg, [family('augur_anomaly_score', score, false), family('augur_expected', band, true, ',horizon="1h"')], [], false));
    const lines = text.split('\n');
    assert.deepEqual(lines, [
      '# HELP augur_anomaly_score Help for augur_anomaly_score.',
      '# TYPE augur_anomaly_score gauge',
      'augur_anomaly_score{metric="m0",instance="host-0:9100",job="node"} 0.1',
      'augur_anomaly_score{metric="m1",instance="host-1:9100",job="node"} NaN',
      'augur_anomaly_score{metric="m2",instance="host-2:9100",job="node"} 1',
      'augur_anomaly_score{metric="m4",instance="host-4:9100",job="node"} 0',
      '# HELP augur_expected Help for augur_expected.',
      '# TYPE augur_expected gauge',
      'augur_expected{metric="m0",instance="host-0:9100",job="node",horizon="1h"} 10',
      'augur_expected{metric="m2",instance="host-2:9100",job="node",horizon="1h"} +Inf',
      'augur_expected{metric="m4",instance="host-4:9100",job="node",horizon="1h"} -Inf',
      '',
    ]);
  });

  it('leaves out removed series and appends whole-text families', async () => {
    const reg = registryWith(3);
    reg.remove(1, 'stale');
    const ratio: TextFamily = {
      name: 'augur_group_anomaly_ratio',
      render: (om) => `# HELP augur_group_anomaly_ratio Share.\n# TYPE augur_group_anomaly_ratio gauge\naugur_group_anomaly_ratio{metric="m0",job="node"} ${om ? '0.5' : '0.25'}\n`,
    };
    const empty: TextFamily = { name: 'nothing', render: () => '' };
    const text = await collect(renderDerived(reg, [family('augur_anomaly', Uint8Array.from([1, 1, 0]), false)], [ratio, empty], true));
    assert.ok(!text.includes('m1'));
    assert.match(text, /augur_anomaly\{metric="m0",instance="host-0:9100",job="node"\} 1\n/);
    assert.match(text, /augur_anomaly\{metric="m2",instance="host-2:9100",job="node"\} 0\n/);
    assert.ok(text.endsWith('augur_group_anomaly_ratio{metric="m0",job="node"} 0.5\n'));
    checkStructure(text + '# EOF\n', true);
  });

  it('renders every variant of a family under one header, and skips negatives where asked', async () => {
    const reg = registryWith(3);
    const h1 = Float64Array.from([1, NaN, 3]);
    const h6 = Float64Array.from([10, 20, 30]);
    const forecast: SeriesFamily = {
      name: 'augur_forecast',
      help: 'Forecast.',
      variants: [{ extraLabels: ',horizon="1h"', values: () => h1 }, { extraLabels: ',horizon="6h"', values: () => h6 }],
      skip: 'nan',
    };
    const cluster: SeriesFamily = { name: 'augur_cluster_id', help: 'Cluster.', variants: [{ extraLabels: '', values: () => Int32Array.from([0, -1, 2]) }], skip: 'negative' };
    const text = await collect(renderDerived(reg, [forecast, cluster], [], false));
    checkStructure(text, false);
    assert.equal(text.match(/# TYPE augur_forecast gauge/g)?.length, 1);
    const m = parseExposition(text);
    assert.deepEqual(find(m, 'augur_forecast', { horizon: '1h' }).map((x) => [x.labels['metric'], x.value]), [['m0', 1], ['m2', 3]]);
    assert.deepEqual(find(m, 'augur_forecast', { horizon: '6h' }).map((x) => x.value), [10, 20, 30]);
    assert.deepEqual(find(m, 'augur_cluster_id').map((x) => [x.labels['metric'], x.value]), [['m0', 0], ['m2', 2]]);
  });

  it('renders a family header even when no series is exposed', async () => {
    const reg = new SeriesRegistry({ maxActive: 10, stalenessMs: 60_000 });
    const text = await collect(renderDerived(reg, [family('augur_anomaly_score', new Float64Array(0), false)], [], false));
    assert.equal(text, '# HELP augur_anomaly_score Help for augur_anomaly_score.\n# TYPE augur_anomaly_score gauge\n');
  });

  it('renders 100k series in slices, keeping the event loop turning', async () => {
    const N = 100_000;
    const reg = registryWith(N);
    const score = new Float64Array(reg.capacity);
    const band = new Float64Array(reg.capacity);
    for (let i = 0; i < N; i++) {
      score[i] = (i % 100) / 100;
      band[i] = i % 7 === 0 ? NaN : i;
    }
    const families = [family('augur_anomaly_score', score, false), family('augur_expected', band, true), family('augur_expected_upper', band, true)];
    let ticks = 0;
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 1);
    let chunks = 0;
    let lines = 0;
    let bytes = 0;
    const started = performance.now();
    try {
      last = performance.now();
      for await (const chunk of renderDerived(reg, families, [], false)) {
        chunks++;
        bytes += chunk.length;
        for (let p = chunk.indexOf('\n'); p >= 0; p = chunk.indexOf('\n', p + 1)) lines++;
      }
    } finally {
      clearInterval(timer);
    }
    const elapsed = performance.now() - started;
    const withBand = N - Math.ceil(N / 7);
    assert.equal(lines, 6 + N + 2 * withBand);
    assert.ok(chunks > 3, `rendered in ${chunks} chunks`);
    assert.ok(ticks >= 3, `the timer fired ${ticks} times in ${elapsed.toFixed(0)} ms`);
    assert.ok(maxGap < 500, `the event loop was held for ${maxGap.toFixed(0)} ms (${bytes} bytes, ${chunks} chunks, ${elapsed.toFixed(0)} ms)`);
  });

  it('sees series created while it renders without breaking', async () => {
    const reg = registryWith(3000);
    const values = () => new Float64Array(reg.capacity).fill(0.5);
    const fam = family('augur_anomaly_score', values, false);
    const gen = renderDerived(reg, [fam], [], false);
    let text = '';
    let first = true;
    for await (const chunk of gen) {
      text += chunk;
      if (first) {
        first = false;
        // Grow the registry (and its arrays) mid-render.
        for (let i = 0; i < 2000; i++) {
          const id = reg.create((0x9e3779b9 * (i + 7)) >>> 0, 0xabcdef ^ i, 10, [['__name__', 'late'], ['i', String(i)]], 'late', -1, 0);
          reg.exposed[id] = 1;
        }
      }
    }
    checkStructure(text, false);
    assert.ok(parseExposition(text).length >= 3000);
  });
});

describe('self-metrics text', () => {
  /** `plain` adds a counter named without `_total`, which promtool's lint would flag. */
  function registry(plain: boolean): client.Registry {
    const r = new client.Registry();
    const c = new client.Counter({ name: 'demo_requests_total', help: 'Requests "quoted" and \\ back\nslashed.', labelNames: ['path'], registers: [r] });
    c.inc({ path: '/a"b\\c\nd' }, 3);
    if (plain) new client.Counter({ name: 'demo_plain', help: 'A counter without the suffix.', registers: [r] }).inc(2);
    new client.Gauge({ name: 'demo_temperature_celsius', help: 'A gauge.', registers: [r] }).set(-Infinity);
    const h = new client.Histogram({ name: 'demo_seconds', help: 'A histogram.', buckets: [0.1, 1], labelNames: ['code'], registers: [r] });
    h.observe({ code: '200' }, 0.5);
    new client.Summary({ name: 'demo_rpc_latency_seconds', help: 'A summary.', percentiles: [0.5, 0.9], registers: [r] }).observe(1);
    return r;
  }

  it('writes the classic text format', async () => {
    const text = writeSelfMetrics(await registry(false).getMetricsAsJSON(), false);
    assert.match(text, /^# HELP demo_requests_total Requests "quoted" and \\\\ back\\nslashed\.$/m);
    assert.match(text, /^# TYPE demo_requests_total counter$/m);
    assert.match(text, /^demo_requests_total\{path="\/a\\"b\\\\c\\nd"\} 3$/m);
    assert.match(text, /^demo_temperature_celsius -Inf$/m);
    assert.match(text, /^demo_seconds_bucket\{le="0\.1",code="200"\} 0$/m);
    assert.match(text, /^demo_seconds_bucket\{le="\+Inf",code="200"\} 1$/m);
    assert.match(text, /^demo_seconds_count\{code="200"\} 1$/m);
    assert.match(text, /^demo_rpc_latency_seconds\{quantile="0\.5"\} 1$/m);
    checkStructure(text, false);
    if (existsSync(PROMTOOL)) {
      const res = await promtool(text);
      assert.equal(res.code, 0, res.out);
    }
    const plain = writeSelfMetrics(await registry(true).getMetricsAsJSON(), false);
    assert.match(plain, /^# TYPE demo_plain counter\ndemo_plain 2$/m);
  });

  it('writes OpenMetrics, with counter families named without _total', async () => {
    const text = writeSelfMetrics(await registry(true).getMetricsAsJSON(), true) + '# EOF\n';
    assert.match(text, /^# TYPE demo_requests counter$/m);
    assert.match(text, /^demo_requests_total\{path="\/a\\"b\\\\c\\nd"\} 3$/m);
    assert.match(text, /^# TYPE demo_plain counter$/m);
    assert.match(text, /^demo_plain_total 2$/m);
    assert.doesNotMatch(text, /_total_total/);
    checkStructure(text, true);
  });
});

describe('HEAD /metrics', () => {
  /** The route over 1,000 series, with every step of rendering counted. */
  function metricsApp(): { app: ReturnType<typeof Fastify>; calls: Record<string, number> } {
    const calls = { families: 0, values: 0, text: 0, observed: 0 };
    const values = new Float64Array(1010).fill(1);
    const metrics = { register: new client.Registry(), metricsRenderDuration: { observe: () => calls.observed++ } } as unknown as SelfMetrics;
    const app = Fastify();
    registerMetricsRoute(app, {
      registry: registryWith(1000),
      metrics,
      families: () => {
        calls.families++;
        return [family('augur_x', () => (calls.values++, values), false)];
      },
      textFamilies: () => [{ name: 'augur_t', render: () => (calls.text++, '') }],
    });
    return { app, calls };
  }

  it('sends the status and headers GET sends, and renders nothing', async () => {
    const { app, calls } = metricsApp();
    const om = 'application/openmetrics-text; version=1.0.0';
    for (const [headers, type] of [
      [{}, TEXT_CONTENT_TYPE],
      [{ accept: om }, OPENMETRICS_CONTENT_TYPE],
      [{ 'accept-encoding': 'gzip' }, TEXT_CONTENT_TYPE],
      [{ accept: om, 'accept-encoding': 'gzip' }, OPENMETRICS_CONTENT_TYPE],
    ] as const) {
      const get = await app.inject({ method: 'GET', url: '/metrics', headers });
      assert.ok(calls.values > 0 && calls.observed > 0, 'GET renders');
      const before = { ...calls };
      const head = await app.inject({ method: 'HEAD', url: '/metrics', headers });
      // A drained stream would render after the answer: give it time to show.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(calls, before, `HEAD rendered nothing (${JSON.stringify(headers)})`);
      assert.equal(head.statusCode, get.statusCode);
      assert.equal(head.headers['content-type'], type);
      for (const h of ['content-type', 'vary', 'content-encoding']) assert.equal(head.headers[h], get.headers[h], h);
      assert.equal(head.headers['content-length'], undefined, 'no length: GET streams its body');
      assert.equal(head.body, '');
    }
    await app.close();
  });

  it('answers HEAD on a real server without rendering', async () => {
    const server = await startAugur();
    try {
      const count = async (): Promise<number> =>
        (await server.augur.metrics.metricsRenderDuration.get()).values.find((v) => v.metricName === 'augur_metrics_render_duration_seconds_count')?.value ?? 0;
      const head = await request(server.url + '/metrics', { method: 'HEAD', headers: { accept: 'application/openmetrics-text' } });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-type'], OPENMETRICS_CONTENT_TYPE);
      assert.equal(await count(), 0, 'nothing was rendered');
      await getMetrics(server);
      assert.equal(await count(), 1, 'GET renders');
    } finally {
      await server.close();
    }
  });
});

describe('/metrics of a server that has scored series', () => {
  let server: Server;
  before(async () => {
    server = await startAugur();
    const warm = Array.from({ length: 40 }, (_, k) => ({ value: 5 + Math.sin(k * 12.9898), timestamp: T0 + k * 1000 }));
    const res = await postProto(server, encodeV1([
      { labels: { __name__: 'node_load1', job: 'node', instance: 'a:9100' }, samples: warm },
      { labels: { __name__: 'node_load1', job: 'node', instance: 'b:9100' }, samples: warm.map((s, k) => ({ ...s, value: k === 39 ? 500 : s.value })) },
      { labels: { __name__: 'http_requests_total', job: 'api', code: '200' }, samples: warm.map((s, k) => ({ ...s, value: 100 * k })) },
      { labels: { __name__: 'weird.name "x"\ny', 'http.method': 'GET', metric: 'orig', path: 'C:\\tmp\\"q"' }, samples: warm },
      { labels: { __name__: 'one_sample' }, samples: [{ value: 1, timestamp: T0 }] },
      { labels: { __name__: 'only_inf' }, samples: [{ value: Infinity, timestamp: T0 }] },
    ], [{ type: MetricType.COUNTER, metricFamilyName: 'http_requests', help: 'h' }]));
    assert.equal(res.status, 204, res.text);
    const res2 = await postProto(server, encodeV2([{ labels: { __name__: 'v2.metric', job: 'v2' }, samples: warm, type: MetricType.GAUGE }]), 2);
    assert.equal(res2.status, 204, res2.text);
  });
  after(async () => {
    await server.close();
  });

  it('passes promtool check metrics', async (t) => {
    const text = await getMetrics(server);
    assert.ok(find(parseExposition(text), 'augur_anomaly_score').length >= 6);
    checkStructure(text, false);
    if (!existsSync(PROMTOOL)) {
      t.skip(`${PROMTOOL} not installed`);
      return;
    }
    const res = await promtool(text);
    assert.equal(res.code, 0, `promtool check metrics:\n${res.out}`);
    assert.equal(res.out.trim(), '');
  });

  it('is well formed as OpenMetrics', async () => {
    const text = await getMetrics(server, 'application/openmetrics-text; version=1.0.0');
    checkStructure(text, true);
    assert.equal(find(parseExposition(text), 'augur_anomaly_score', { metric: 'weird.name "x"\ny' }).length, 1);
  });

  it('leaves out band lines that do not exist yet, but not the score', async () => {
    const m = parseExposition(await getMetrics(server));
    assert.equal(find(m, 'augur_anomaly_score', { metric: 'one_sample' }).length, 1);
    for (const fam of ['augur_expected', 'augur_expected_lower', 'augur_expected_upper']) {
      assert.equal(find(m, fam, { metric: 'one_sample' }).length, 0, fam);
      assert.equal(find(m, fam, { metric: 'node_load1', instance: 'a:9100' }).length, 1, fam);
    }
    for (const s of m) if (s.name.startsWith('augur_anomaly') || s.name.startsWith('augur_expected')) assert.ok(!Number.isNaN(s.value), s.line);
    // A series with only non-finite values was never scored: nothing to show.
    assert.equal(find(m, 'augur_anomaly_score', { metric: 'only_inf' }).length, 0);
  });

  it('flags the outlier and keeps the rest calm', async () => {
    const m = parseExposition(await getMetrics(server));
    const a = find(m, 'augur_anomaly_score', { metric: 'node_load1', instance: 'a:9100' })[0]!.value;
    const b = find(m, 'augur_anomaly_score', { metric: 'node_load1', instance: 'b:9100' })[0]!.value;
    assert.ok(b > a, `the spike scores higher (${b} vs ${a})`);
    assert.equal(find(m, 'augur_anomaly', { metric: 'node_load1', instance: 'b:9100' })[0]!.value, 1);
    assert.ok(find(m, 'augur_anomaly_severity', { metric: 'node_load1', instance: 'b:9100' })[0]!.value >= 1);
  });

  it('streams 40k scored series through /metrics without stalling the server', async () => {
    // The 100k case is the renderer test above; this one goes through HTTP, streaming and all.
    const s = await startAugur();
    try {
      for (let batch = 0; batch < 20; batch++) {
        const series = [];
        for (let i = 0; i < 2000; i++) series.push({ labels: { __name__: 'bulk', job: 'b', i: String(batch * 2000 + i) }, samples: [{ value: i % 10, timestamp: T0 }] });
        const res = await postProto(s, encodeV1(series));
        assert.equal(res.status, 204, res.text);
      }
      let maxGap = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
      }, 2);
      let text: string;
      try {
        last = performance.now();
        text = await getMetrics(s);
      } finally {
        clearInterval(timer);
      }
      let n = 0;
      for (let p = text.indexOf('\naugur_anomaly_score{'); p >= 0; p = text.indexOf('\naugur_anomaly_score{', p + 1)) n++;
      assert.equal(n, 40_000);
      assert.ok(maxGap < 500, `event loop held for ${maxGap.toFixed(0)} ms`);
    } finally {
      await s.close();
    }
  });
});

describe('/metrics when original labels are named like the labels Augur adds', () => {
  let server: Server;
  const STEP = 15_000;
  /** Four peers of `lat` in one group (job, cluster); `h3` runs far above the others. */
  const peers = (from: number, n: number, stale = false) =>
    ['h0', 'h1', 'h2', 'h3'].map((host, i) => ({
      labels: { __name__: 'lat', job: 'c', cluster: 'eu', instance: host, horizon: 'sky', threshold: 'hot' },
      samples: stale
        ? [{ value: staleMarker(), timestamp: T0 + from * STEP }]
        : Array.from({ length: n }, (_, k) => ({ value: (i === 3 ? 50 : 10) + Math.sin((from + k) * 0.3 + i), timestamp: T0 + (from + k) * STEP })),
    }));
  before(async () => {
    server = await startAugur((c) => {
      c.forecast.breach_thresholds = [100];
      c.forecast.breach_floors = [0];
      c.cluster.group_by = ['job', 'cluster'];
    });
    const res = await postProto(server, encodeV1(peers(0, 240)));
    assert.equal(res.status, 204, res.text);
    await server.augur.pipeline.peers!.recluster({ forceFull: true });
  });
  after(async () => {
    await server.close();
  });

  it('renames them exported_<name>, so that no line has a label twice and promtool passes', async (t) => {
    const text = await getMetrics(server);
    const lines = text.split('\n').filter((l) => l.startsWith('augur_') && l.includes('metric="lat"'));
    for (const fam of ['augur_forecast{', 'augur_forecast_breach_seconds{', 'augur_forecast_floor_breach_seconds{', 'augur_cluster_size{', 'augur_group_anomaly_ratio{', 'augur_anomaly_score{']) {
      assert.ok(lines.some((l) => l.startsWith(fam)), `${fam} present`);
    }
    for (const line of lines) {
      const names = [...line.slice(line.indexOf('{') + 1, line.lastIndexOf('}')).matchAll(/(?:^|,)([^=,]+)="/g)].map((m) => m[1]);
      assert.equal(new Set(names).size, names.length, line);
    }
    const m = parseExposition(text);
    assert.ok(find(m, 'augur_forecast', { metric: 'lat', exported_horizon: 'sky', instance: 'h0' }).length >= 1);
    assert.equal(find(m, 'augur_anomaly_score', { metric: 'lat', exported_horizon: 'sky', exported_threshold: 'hot', cluster: 'eu' }).length, 4);
    assert.equal(find(m, 'augur_forecast_breach_seconds', { exported_threshold: 'hot', threshold: '100' }).length, 4);
    // Every lat series is above 0 and not falling to it within the horizon.
    const floors = find(m, 'augur_forecast_floor_breach_seconds', { exported_threshold: 'hot', threshold: '0' });
    assert.equal(floors.length, 4);
    for (const f of floors) assert.equal(f.value, Infinity);
    const sizes = find(m, 'augur_cluster_size', { metric: 'lat', job: 'c', exported_cluster: 'eu' });
    assert.ok(sizes.length >= 1);
    assert.equal(sizes.reduce((a, s) => a + s.value, 0), 4);
    assert.equal(find(m, 'augur_group_anomaly_ratio', { metric: 'lat', job: 'c', cluster: 'eu' }).length, 1);
    if (!existsSync(PROMTOOL)) {
      t.skip(`${PROMTOOL} not installed`);
      return;
    }
    const res = await promtool(text);
    assert.equal(res.code, 0, `promtool check metrics:\n${res.out}`);
  });

  it('takes a series out of its group families at its stale marker, and back with its next sample', async () => {
    const stale = peers(240, 1, true).slice(3);
    assert.equal((await postProto(server, encodeV1(stale))).status, 204);
    let m = parseExposition(await getMetrics(server));
    assert.equal(find(m, 'augur_anomaly_score', { metric: 'lat' }).length, 3);
    const size = () => find(m, 'augur_cluster_size', { metric: 'lat' }).reduce((a, s) => a + s.value, 0);
    assert.equal(size(), 3);
    const ratio = find(m, 'augur_group_anomaly_ratio', { metric: 'lat' });
    assert.equal(ratio.length, 1);
    assert.ok([0, 1 / 3, 2 / 3, 1].some((r) => Math.abs(ratio[0]!.value - r) < 1e-9), `a share of three: ${ratio[0]!.value}`);
    // All stale: the group leaves the output.
    assert.equal((await postProto(server, encodeV1(peers(241, 1, true).slice(0, 3)))).status, 204);
    m = parseExposition(await getMetrics(server));
    assert.equal(find(m, 'augur_group_anomaly_ratio', { metric: 'lat' }).length, 0);
    assert.equal(find(m, 'augur_cluster_size', { metric: 'lat' }).length, 0);
    // Back with the next samples.
    assert.equal((await postProto(server, encodeV1(peers(242, 2)))).status, 204);
    m = parseExposition(await getMetrics(server));
    assert.equal(find(m, 'augur_group_anomaly_ratio', { metric: 'lat' }).length, 1);
    assert.equal(size(), 4);
  });
});
