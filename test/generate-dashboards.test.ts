import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateDashboards } from '../src/generate/dashboards/index.js';
import { SCHEMA_VERSION } from '../src/generate/dashboards/panels.js';
import { dashboardFiles } from '../src/generate/index.js';
import { defaultGenerateOptions, resolveGenerateOptions } from '../src/generate/options.js';
import { dashboardExprs, GRAFANA_VARS, promqlErrors, substituteGrafanaVars, type Json } from './generate-promql.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dashboards = generateDashboards(defaultGenerateOptions) as Record<string, Json>;

describe('generated dashboards', () => {
  it('the shipped dashboards are what the default options generate', () => {
    const files = dashboardFiles(defaultGenerateOptions);
    assert.deepEqual(readdirSync(join(root, 'dashboards')).sort(), Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) {
      assert.equal(readFileSync(join(root, 'dashboards', name), 'utf8'), text, `dashboards/${name}: regenerate with node --import tsx scripts/generate.ts`);
    }
  });

  it('are classic dashboards with a datasource variable, the current schemaVersion and stable unique ids', () => {
    const uids = new Set<string>();
    for (const [name, d] of Object.entries(dashboards)) {
      assert.equal(d.schemaVersion, SCHEMA_VERSION);
      assert.ok(SCHEMA_VERSION >= 39, 'schemaVersion of Grafana 11 or later');
      assert.equal(d.id, null, `${name}: no instance-specific id`);
      assert.ok(d.uid.length <= 40 && !uids.has(d.uid), `${name}: uid ${d.uid}`);
      uids.add(d.uid);
      const ds = d.templating.list[0];
      assert.equal(ds.name, 'datasource');
      assert.equal(ds.type, 'datasource');
      assert.equal(ds.query, 'prometheus');
      const ids = new Set<number>();
      const cells = new Set<string>();
      for (const p of d.panels as Json[]) {
        assert.ok(Number.isInteger(p.id) && p.id > 0 && !ids.has(p.id), `${name}: panel id ${p.id}`);
        ids.add(p.id);
        assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${name} panel ${p.id}`);
        for (const t of p.targets) assert.deepEqual(t.datasource, p.datasource);
        const g = p.gridPos;
        assert.ok(g.x >= 0 && g.x + g.w <= 24 && g.h > 0, `${name} panel ${p.id} gridPos`);
        for (let x = g.x; x < g.x + g.w; x++) {
          for (let y = g.y; y < g.y + g.h; y++) {
            assert.ok(!cells.has(`${x},${y}`), `${name} panel ${p.id} overlaps another`);
            cells.add(`${x},${y}`);
          }
        }
      }
    }
  });

  it('panel ids do not depend on the options', () => {
    const other = generateDashboards(resolveGenerateOptions({ dashboards: { uidPrefix: 'x' }, forecast: { horizons: ['5m', '24h'] } })) as Record<string, Json>;
    for (const [name, d] of Object.entries(dashboards)) {
      assert.deepEqual(
        other[name]!.panels.map((p: Json) => [p.id, p.title]),
        d.panels.map((p: Json) => [p.id, p.title]),
      );
    }
    assert.equal(other['augur-series.json']!.time.to, 'now+24h');
  });

  it('every panel and variable expression parses with lezer-promql', () => {
    let n = 0;
    for (const d of Object.values(dashboards)) {
      for (const { where, expr } of dashboardExprs(d)) {
        assert.deepEqual(promqlErrors(substituteGrafanaVars(expr)), [], `${where}: ${expr}`);
        n++;
      }
    }
    assert.ok(n > 40, `only ${n} expressions`);
  });

  it('rates and increases use $__rate_interval', () => {
    for (const d of Object.values(dashboards)) {
      for (const { where, expr } of dashboardExprs(d)) {
        for (const m of expr.matchAll(/\b(rate|increase|irate)\(.*?\[([^\]]+)\]/g)) {
          assert.equal(m[2], '$__rate_interval', `${where}: ${expr}`);
        }
      }
    }
  });

  it('show what the issue asks for', () => {
    const all = (file: string) => dashboardExprs(dashboards[file]!).map((e) => e.expr).join('\n');
    const overview = all('augur-overview.json');
    for (const s of ['topk(20, augur_anomaly_score)', 'augur_group_anomaly_ratio', 'augur_anomaly_severity == 4']) assert.ok(overview.includes(s), s);
    const series = all('augur-series.json');
    for (const s of ['{__name__="$metric"', 'augur_expected{', 'augur_expected_lower{', 'augur_expected_upper{', 'augur_anomaly_score{', 'augur_forecast{', 'augur_forecast_lower{', 'augur_forecast_upper{']) {
      assert.ok(series.includes(s), s);
    }
    const clusters = all('augur-clusters.json');
    for (const s of ['augur_cluster_id{', 'augur_cluster_size{', 'augur_peer_outlier_score{', 'augur_group_anomaly_ratio{']) assert.ok(clusters.includes(s), s);
    const health = all('augur-health.json');
    for (const s of [
      'augur_samples_accepted_total',
      'augur_samples_rejected_total',
      'augur_write_requests_rejected_total',
      'augur_write_request_duration_seconds_bucket',
      'augur_scoring_duration_seconds_bucket',
      'augur_active_series',
      'augur_series_limit',
      'augur_model_training_runs_total',
      'augur_model_last_training_timestamp_seconds',
      'process_resident_memory_bytes',
    ]) {
      assert.ok(health.includes(s), s);
    }
  });

  it('select peer groups by the configured cluster.group_by labels, not job', () => {
    const o = resolveGenerateOptions({ peerGroups: { groupBy: ['namespace', 'service'] } });
    const other = generateDashboards(o) as Record<string, Json>;
    const clusters = other['augur-clusters.json']!;
    const vars = { ...GRAFANA_VARS, namespace: 'prod', service: 'checkout' };
    const group = 'metric="$metric", namespace="$namespace", service="$service"';
    const exprs = dashboardExprs(clusters);
    for (const { where, expr } of exprs) assert.deepEqual(promqlErrors(substituteGrafanaVars(expr, vars)), [], `${where}: ${expr}`);
    for (const family of ['augur_group_anomaly_ratio', 'augur_cluster_size', 'augur_peer_outlier_score', 'augur_cluster_id']) {
      const e = exprs.find((x) => x.expr.startsWith(`${family}{`));
      assert.equal(e?.expr, `${family}{${group}}`, family);
    }
    assert.ok(!exprs.some((e) => /\bjob\b/.test(e.expr)), 'no query or variable selects job');
    const list = clusters.templating.list as Json[];
    assert.deepEqual(list.map((v) => v.name), ['datasource', 'metric', 'namespace', 'service']);
    assert.equal(list[3]!.definition, 'label_values(augur_peer_outlier_score{metric="$metric", namespace="$namespace"}, service)');
    assert.match(clusters.description, /same metric, namespace and service/);
    // The links into it set those variables, and the legends name the group by them.
    const ratio = (other['augur-overview.json']!.panels as Json[]).find((p) => p.targets[0].expr === 'topk(10, augur_group_anomaly_ratio)')!;
    assert.equal(ratio.targets[0].legendFormat, '{{metric}} / {{namespace}} / {{service}}');
    assert.match(ratio.fieldConfig.defaults.links[0].url, /var-metric=\$\{__field\.labels\.metric\}&var-namespace=\$\{__field\.labels\.namespace\}&var-service=\$\{__field\.labels\.service\}&/);
    const peer = (other['augur-series.json']!.panels as Json[]).find((p) => p.title === 'Peer outlier score')!;
    assert.match(peer.fieldConfig.defaults.links[0].url, /var-metric=\$metric&var-namespace=\$\{__field\.labels\.namespace\}&var-service=\$\{__field\.labels\.service\}&/);
    // A group label named `cluster` is `exported_cluster` on augur_cluster_size only.
    const byCluster = dashboardExprs(generateDashboards(resolveGenerateOptions({ peerGroups: { groupBy: ['cluster'] } }))['augur-clusters.json'] as Json);
    assert.ok(byCluster.some((e) => e.expr === 'augur_cluster_size{metric="$metric", exported_cluster="$cluster"}'));
    assert.ok(byCluster.some((e) => e.expr === 'augur_group_anomaly_ratio{metric="$metric", cluster="$cluster"}'));
  });

  it('links between dashboards name existing uids', () => {
    const uids = new Set(Object.values(dashboards).map((d) => d.uid));
    const text = JSON.stringify(dashboards);
    const linked = [...text.matchAll(/\/d\/([\w-]+)\?/g)].map((m) => m[1]!);
    assert.ok(linked.length > 0);
    for (const uid of linked) assert.ok(uids.has(uid), uid);
  });
});
