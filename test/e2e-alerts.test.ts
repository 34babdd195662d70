// End to end with the real programs: Prometheus scrapes a test exporter, remote-writes to Augur,
// scrapes Augur back with honor_labels, evaluates the shipped rules and sends alerts to a real
// Alertmanager that routes to a webhook here. Then every dashboard query must return data.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { generateDashboards } from '../src/generate/dashboards/index.js';
import { maxHorizonSeconds, resolveGenerateOptions } from '../src/generate/options.js';
import { generatePrometheusConfig } from '../src/generate/prometheus-config.js';
import { RULES_FILENAME, type RuleGroup } from '../src/generate/rules.js';
import { FAST_QUEUE, httpGet, promQuery, ROOT, sleep, Stack, waitFor, type PromSeries } from './e2e-harness.js';
import { dashboardExprs, GRAFANA_VARS, substituteGrafanaVars, type Json } from './generate-promql.js';
import { compress, encodeV1, V1_CONTENT_TYPE } from './helpers/remote-write.js';

/**
 * A short forecast horizon, a breach threshold the disturbed series crosses, a floor and fast
 * clustering, so that every dashboard panel has data within the test's minute; the generator
 * options follow.
 */
const AUGUR_CONFIG = `
forecast: { horizons: [5m], breach_thresholds: [150], breach_floors: [0] }
cluster: { window: 40s, recluster_interval: 2s, full_recluster_interval: 4s }
generate: { forecast: { horizons: [5m] } }
`;
const o = resolveGenerateOptions({ forecast: { horizons: ['5m'] } });
/** The shipped rules with every hold (`for`) shortened to this, so that the test runs in seconds. */
const TEST_FOR = '2s';

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Deterministic noise in [-1, 1) for a series seed and a second (murmur3's finaliser). */
function noise(seed: number, second: number): number {
  let h = Math.imul(second, 0x9e3779b1) ^ seed;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h >>> 0) / 2 ** 32) * 2 - 1;
}

/** e2e_signal's series: one peer group of three, one of which the test disturbs. */
const SERIES = ['steady', 'steady_b', 'disturbed'] as const;

function signal(series: (typeof SERIES)[number], s: number, disturbed: boolean): number {
  return 100 + noise(SERIES.indexOf(series) + 1, s) + (disturbed ? 60 * ((s % 3) - 1) + 40 : 0);
}

/**
 * Augur's detector needs a history of a few minutes before it is confident; rather than wait,
 * send it the exporter's last PRIME_SECONDS of e2e_signal directly, with the labels Prometheus
 * will send, as if Augur had been running for that long.
 */
const PRIME_SECONDS = 1800;
async function primeAugur(augur: string, exporter: string): Promise<void> {
  const end = Math.floor(Date.now() / 1000) - 2;
  const series = SERIES.map((name) => ({
    labels: { __name__: 'e2e_signal', instance: exporter, job: 'e2e', series: name },
    samples: Array.from({ length: PRIME_SECONDS }, (_, i) => {
      const s = end - PRIME_SECONDS + i;
      return { value: signal(name, s, false), timestamp: s * 1000 };
    }),
  }));
  const res = await fetch(`http://${augur}/api/v1/write`, {
    method: 'POST',
    headers: { 'content-type': V1_CONTENT_TYPE, 'content-encoding': 'snappy' },
    body: new Uint8Array(compress(encodeV1(series))),
    signal: AbortSignal.timeout(10_000),
  });
  assert.ok(res.status >= 200 && res.status < 300, `priming Augur: ${res.status} ${await res.text()}`);
}

/** What Prometheus saw of the test series, for a failure message. */
async function diagnose(prom: string, received: WebhookAlert[]): Promise<string> {
  const lines = [`webhook received: ${JSON.stringify(received.map((a) => a.labels))}`];
  for (const f of ['e2e_signal', 'augur_anomaly_score', 'augur_anomaly', 'augur_anomaly_severity', 'ALERTS']) {
    const sel = f === 'e2e_signal' ? `${f}{series="disturbed"}` : `${f}{metric="e2e_signal", series="disturbed"}`;
    const r = await promQuery(prom, `${sel}[90s]`).catch((e: Error) => [{ metric: {}, values: [[0, e.message]] }] as PromSeries[]);
    for (const s of r) lines.push(`${f} ${JSON.stringify(s.metric)}: ${(s.values ?? []).map((v) => v[1]).join(' ')}`);
  }
  return lines.join('\n');
}

describe('e2e: Prometheus, Augur, shipped rules, Alertmanager, webhook', { timeout: 150_000 }, () => {
  const stack = new Stack();
  const received: WebhookAlert[] = [];
  let disturbFrom = Infinity;
  let exporter = '';
  let augur = '';
  let prom = '';

  before(async () => {
    const hook = await stack.serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: WebhookAlert[] };
        received.push(...body.alerts);
        res.end('ok');
      });
    });
    let requests = 0;
    exporter = await stack.serve((_req, res) => {
      const now = Date.now();
      const s = Math.floor(now / 1000);
      requests += 10 + Math.round(noise(9, s) * 3);
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(
        '# TYPE e2e_signal gauge\n' +
          SERIES.map((n) => `e2e_signal{series="${n}"} ${signal(n, s, n === 'disturbed' && now >= disturbFrom)}\n`).join('') +
          '# TYPE e2e_requests_total counter\n' +
          `e2e_requests_total{series="requests"} ${requests}\n`,
      );
    });
    augur = await stack.augur('augur', AUGUR_CONFIG);
    await primeAugur(augur, exporter);
    const am = await stack.alertmanager(
      stringify({
        route: { receiver: 'hook', group_by: ['...'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
        receivers: [{ name: 'hook', webhook_configs: [{ url: `http://${hook}/hook`, send_resolved: false }] }],
      }),
    );
    const shipped = parse(readFileSync(join(ROOT, 'rules', RULES_FILENAME), 'utf8')) as { groups: RuleGroup[] };
    for (const r of shipped.groups.flatMap((g) => g.rules)) if ('alert' in r) r.for = TEST_FOR;
    const rules = stack.file('augur.rules.yml', stringify(shipped));
    prom = await stack.prometheus(() =>
      generatePrometheusConfig({
        ...o,
        targets: [augur],
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        ruleFiles: [rules],
        alertmanagers: [am],
        extraScrapeConfigs: [{ job_name: 'e2e', static_configs: [{ targets: [exporter] }] }],
        queueConfig: FAST_QUEUE,
      }),
    );
  });

  after(() => stack.stopAll());

  it('an injected anomaly reaches the webhook with its labels and annotations; the undisturbed series raises nothing', async () => {
    // Once Prometheus's own samples of the primed series flow through Augur, disturb one.
    await waitFor('scores of e2e_signal from Augur in Prometheus', 30_000, async () => {
      stack.assertRunning();
      const r = await promQuery(prom, 'count_over_time(augur_anomaly_score{metric="e2e_signal", series="disturbed"}[1m]) >= 5');
      return r.length > 0 ? true : undefined;
    }, 1000);
    disturbFrom = Date.now();
    const alert = await waitFor('the anomaly alert at the webhook', 40_000, async () => {
      stack.assertRunning();
      return received.find((a) => a.labels.alertname === 'AugurSeriesAnomalous' && a.labels.series === 'disturbed');
    }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await diagnose(prom, received)}`);
    });
    assert.equal(alert.status, 'firing');
    assert.equal(alert.labels.metric, 'e2e_signal');
    assert.equal(alert.labels.job, 'e2e');
    assert.equal(alert.labels.instance, exporter);
    assert.ok(['warning', 'critical'].includes(alert.labels.severity!), alert.labels.severity);
    assert.equal(alert.labels.__name__, undefined);
    assert.match(alert.annotations.summary!, /^Augur finds e2e_signal anomalous at (medium|critical) severity/);
    assert.ok(alert.annotations.description!.startsWith(`e2e_signal{job="e2e", instance="${exporter}"} has stayed anomalous`), alert.annotations.description);
    assert.equal(alert.annotations.runbook_url, `${o.runbookBaseUrl}#augurseriesanomalous`);
    assert.equal(
      alert.annotations.dashboard_url,
      `${o.dashboards.grafanaUrl}/d/${o.dashboards.uidPrefix}-series/augur-series?var-metric=e2e_signal&var-job=e2e&var-instance=${encodeURIComponent(exporter)}`,
    );

    const steadyAlerts = await promQuery(prom, 'max_over_time(ALERTS{series=~"steady.*"}[10m])');
    assert.deepEqual(steadyAlerts, [], 'the undisturbed series were never pending or firing');
    assert.deepEqual(received.filter((a) => a.labels.series?.startsWith('steady')), []);
    const healthAlerts = received.filter((a) => a.labels.metric === undefined).map((a) => a.labels.alertname);
    assert.deepEqual(healthAlerts, [], 'a healthy Augur raises no health alert');
  });

  it('every dashboard query returns data', async () => {
    // One rejected request, so that the rejection-by-reason panels have a series: a valid series
    // followed by one without a name.
    const body = new Uint8Array(compress(encodeV1([
      { labels: { __name__: 'e2e_poke', job: 'e2e' }, samples: [{ value: 1, timestamp: Date.now() }] },
      { labels: { job: 'e2e' }, samples: [{ value: 1, timestamp: Date.now() }] },
    ])));
    const res = await fetch(`http://${augur}/api/v1/write`, {
      method: 'POST',
      headers: { 'content-type': V1_CONTENT_TYPE, 'content-encoding': 'snappy' },
      body,
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 400);
    await sleep(4000);

    const now = Math.floor(Date.now() / 1000);
    const range = { start: now - 60, end: now + maxHorizonSeconds(o), step: 15 };
    const varSets: Record<string, Record<string, string>[]> = {
      [`${o.dashboards.uidPrefix}-overview`]: [{}],
      [`${o.dashboards.uidPrefix}-series`]: [
        { metric: 'e2e_signal', job: 'e2e' },
        { metric: 'e2e_requests_total', job: 'e2e' },
      ],
      [`${o.dashboards.uidPrefix}-clusters`]: [{ metric: 'e2e_signal', job: 'e2e' }],
      [`${o.dashboards.uidPrefix}-health`]: [{ job: o.augurJob }],
    };
    const empty: string[] = [];
    let checked = 0;
    for (const d of Object.values(generateDashboards(o)) as Json[]) {
      const instantRef = new Map<string, boolean>();
      for (const p of d.panels as Json[]) for (const t of p.targets as Json[]) instantRef.set(`${p.id}/${t.refId}`, t.instant === true);
      for (const { where, expr } of dashboardExprs(d)) {
        const key = /panel (\d+) .* (\w+)$/.exec(where);
        const instant = key ? instantRef.get(`${key[1]}/${key[2]}`) === true : true;
        let found = false;
        for (const vars of varSets[d.uid as string]!) {
          const q = substituteGrafanaVars(expr, { ...GRAFANA_VARS, __rate_interval: '10s', instance: '.+', horizon: o.forecast.horizons[0]!, ...vars });
          const result = instant ? await promQuery(prom, q) : await promQuery(prom, q, range);
          if (result.length > 0) {
            found = true;
            break;
          }
        }
        checked++;
        if (!found) empty.push(`${where}: ${expr}`);
      }
    }
    assert.ok(checked > 40);
    assert.deepEqual(empty, [], `dashboard queries without data:\n  ${empty.join('\n  ')}`);
    assert.equal((await httpGet(`http://${prom}/-/healthy`)).status, 200);
  });
});
