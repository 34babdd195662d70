import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { generateDashboards } from '../src/generate/dashboards/index.js';
import { defaultGenerateOptions, generateSchema, resolveGenerateOptions } from '../src/generate/options.js';
import { generateRules, RULES_FILENAME, type AlertingRule, type RuleGroup } from '../src/generate/rules.js';
import { promqlErrors, requireTool, run } from './generate-promql.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const shipped = readFileSync(join(root, 'rules', RULES_FILENAME), 'utf8');
const groups = (parse(shipped) as { groups: RuleGroup[] }).groups;
const alerts = groups.flatMap((g) => g.rules).filter((r): r is AlertingRule => 'alert' in r);
const tmp = mkdtempSync(join(tmpdir(), 'augur-rules-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('generated rules', () => {
  it('the shipped rule file is what the default options generate', () => {
    assert.equal(shipped, generateRules(defaultGenerateOptions), 'regenerate with: node --import tsx scripts/generate.ts');
  });

  it('covers every alert the issue asks for', () => {
    const names = new Set(alerts.map((a) => a.alert));
    for (const n of [
      'AugurSeriesAnomalous',
      'AugurForecastBreach',
      'AugurPeerOutlier',
      'AugurPeerGroupAnomalyBurst',
      'AugurDown',
      'AugurRejectingSamples',
      'AugurRejectingWriteRequests',
      'AugurOverloaded',
      'AugurSeriesLimitReached',
      'AugurModelsNotTraining',
      'AugurModelTrainingFailing',
    ]) {
      assert.ok(names.has(n), `missing alert ${n}`);
    }
  });

  it('follows the monitoring-mixin conventions', () => {
    const runbook = readFileSync(join(root, 'docs', 'runbook.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase()));
    const uids = new Set(Object.values(generateDashboards(defaultGenerateOptions)).map((d) => d.uid as string));
    for (const a of alerts) {
      assert.match(a.alert, /^Augur[A-Z][A-Za-z]+$/);
      assert.ok(['critical', 'warning', 'info'].includes(a.labels.severity), `${a.alert}: severity ${a.labels.severity}`);
      assert.deepEqual(Object.keys(a.labels), ['severity'], `${a.alert}: only a severity label`);
      for (const k of ['summary', 'description', 'runbook_url']) assert.ok(a.annotations[k], `${a.alert}: no ${k}`);
      assert.match(a.annotations.description!, /\{\{ *\$(labels|value)/, `${a.alert}: description is not templated`);
      const anchor = a.annotations.runbook_url!.split('#')[1]!;
      assert.equal(anchor, a.alert.toLowerCase());
      assert.ok(anchors.has(anchor), `${a.alert}: no heading "${a.alert}" in docs/runbook.md`);
      const dash = a.annotations.dashboard_url;
      assert.ok(dash, `${a.alert}: no dashboard_url`);
      const uid = /\/d\/([^/?]+)/.exec(dash)![1]!;
      assert.ok(uids.has(uid), `${a.alert}: dashboard_url names unknown dashboard ${uid}`);
    }
  });

  it('every rule expression parses with lezer-promql', () => {
    for (const r of groups.flatMap((g) => g.rules)) {
      assert.deepEqual(promqlErrors(r.expr), [], `${'alert' in r ? r.alert : r.record}: ${r.expr}`);
    }
  });

  it('promtool check rules passes, for the defaults and for other options', () => {
    const promtool = requireTool('promtool', 'prometheus');
    run(promtool, ['check', 'rules', join(root, 'rules', RULES_FILENAME)]);
    const other = resolveGenerateOptions({
      augurJob: 'augur-prod',
      anomaly: { for: '10m', smoothing: '5m', tiers: [{ minLevel: 1, severity: 'info' }, { minLevel: 3, severity: 'critical' }] },
      forecast: { horizons: ['5m', '4h'], breach: [{ within: '4h', severity: 'info' }] },
      groupBurst: { ratio: 0.3, minSeries: 10 },
    });
    const file = join(tmp, 'other.rules.yml');
    writeFileSync(file, generateRules(other));
    run(promtool, ['check', 'rules', file]);
    assert.match(readFileSync(file, 'utf8'), /up\{job="augur-prod"\} == 0/);
  });

  it('promtool unit tests show every alert firing and staying silent', () => {
    const promtool = requireTool('promtool', 'prometheus');
    const tests = readFileSync(join(root, 'rules', 'augur.rules.test.yml'), 'utf8');
    const cases = (parse(tests) as { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] }).tests.flatMap(
      (t) => t.alert_rule_test ?? [],
    );
    for (const name of new Set(alerts.map((a) => a.alert))) {
      assert.ok(cases.some((c) => c.alertname === name && (c.exp_alerts?.length ?? 0) > 0), `${name}: no test where it fires`);
      assert.ok(cases.some((c) => c.alertname === name && (c.exp_alerts?.length ?? 0) === 0), `${name}: no test where it stays silent`);
    }
    const out = run(promtool, ['test', 'rules', 'augur.rules.test.yml'], join(root, 'rules'));
    assert.match(out, /SUCCESS/);
  });

  it('the peer rules group by the configured cluster.group_by: a burst fires under group_by [namespace]', () => {
    // Augur exposes augur_group_anomaly_ratio{metric, namespace}; the scrape (honor_labels) adds
    // Augur's own job and instance, which the group series lacks and the alert must not carry (it
    // would name Augur as the group's job). The group's series span two jobs.
    const promtool = requireTool('promtool', 'prometheus');
    const o = resolveGenerateOptions({ peerGroups: { groupBy: ['namespace'] } });
    writeFileSync(join(tmp, 'ns.rules.yml'), generateRules(o));
    const augur = 'job="augur", instance="augur-0:9201"';
    const anomaly = (ns: string, job: string, instance: string, values: string) =>
      `      - series: 'augur_anomaly{metric="req_latency", namespace="${ns}", job="${job}", instance="${instance}"}'\n        values: '${values}'\n`;
    const cluster = 'http://localhost:3000/d/augur-clusters/augur-clusters';
    const runbookUrl = 'https://github.com/augur-monitoring/augur/blob/main/docs/runbook.md';
    writeFileSync(
      join(tmp, 'ns.rules.test.yml'),
      `rule_files: [ns.rules.yml]
evaluation_interval: 1m
tests:
  - name: a burst fires per namespace, for a large enough group only
    interval: 1m
    input_series:
      # prod: 4 of 4 anomalous, 2 per job
      - series: 'augur_group_anomaly_ratio{metric="req_latency", namespace="prod", ${augur}}'
        values: '1x10'
${anomaly('prod', 'api', 'a:80', '1x10')}${anomaly('prod', 'api', 'b:80', '1x10')}${anomaly('prod', 'web', 'c:80', '1x10')}${anomaly('prod', 'web', 'd:80', '1x10')}      # dev: whole group anomalous, but a group of two
      - series: 'augur_group_anomaly_ratio{metric="req_latency", namespace="dev", ${augur}}'
        values: '1x10'
${anomaly('dev', 'api', 'a:80', '1x10')}${anomaly('dev', 'web', 'c:80', '1x10')}      # stage: 1 of 4 anomalous
      - series: 'augur_group_anomaly_ratio{metric="req_latency", namespace="stage", ${augur}}'
        values: '0.25x10'
${anomaly('stage', 'api', 'a:80', '1x10')}${anomaly('stage', 'api', 'b:80', '0x10')}${anomaly('stage', 'web', 'c:80', '0x10')}${anomaly('stage', 'web', 'd:80', '0x10')}    promql_expr_test:
      - expr: metric_namespace:augur_series:count
        eval_time: 1m
        exp_samples:
          - labels: 'metric_namespace:augur_series:count{metric="req_latency", namespace="prod"}'
            value: 4
          - labels: 'metric_namespace:augur_series:count{metric="req_latency", namespace="dev"}'
            value: 2
          - labels: 'metric_namespace:augur_series:count{metric="req_latency", namespace="stage"}'
            value: 4
    alert_rule_test:
      - eval_time: 4m
        alertname: AugurPeerGroupAnomalyBurst
      - eval_time: 5m
        alertname: AugurPeerGroupAnomalyBurst
        exp_alerts:
          - exp_labels: {severity: critical, metric: req_latency, namespace: prod}
            exp_annotations:
              summary: "Many series of req_latency in namespace prod are anomalous at once."
              description: "100% of the series of req_latency in namespace prod are anomalous together: a shared cause is likely."
              runbook_url: "${runbookUrl}#augurpeergroupanomalyburst"
              dashboard_url: "${cluster}?var-metric=req_latency&var-namespace=prod"
  - name: a peer outlier links to its namespace's group
    interval: 1m
    input_series:
      - series: 'augur_peer_outlier_score{metric="req_latency", namespace="prod", job="api", instance="a:80"}'
        values: '0.95x20'
    alert_rule_test:
      - eval_time: 15m
        alertname: AugurPeerOutlier
        exp_alerts:
          - exp_labels: {severity: warning, metric: req_latency, namespace: prod, job: api, instance: "a:80"}
            exp_annotations:
              summary: "req_latency on a:80 behaves unlike its peers."
              description: "req_latency{job=\\"api\\", instance=\\"a:80\\"} departs from the other series of req_latency in namespace prod (peer outlier score 0.95)."
              runbook_url: "${runbookUrl}#augurpeeroutlier"
              dashboard_url: "${cluster}?var-metric=req_latency&var-namespace=prod"
`,
    );
    assert.match(run(promtool, ['test', 'rules', 'ns.rules.test.yml'], tmp), /SUCCESS/);
  });

  it('joins and names the group count by every group_by label, or by the metric alone', () => {
    const promtool = requireTool('promtool', 'prometheus');
    const exprOf = (text: string, name: string) =>
      (parse(text) as { groups: RuleGroup[] }).groups.flatMap((g) => g.rules).find((r) => ('alert' in r ? r.alert : r.record) === name)?.expr;
    const two = generateRules(resolveGenerateOptions({ peerGroups: { groupBy: ['namespace', 'service'] } }));
    assert.equal(exprOf(two, 'metric_namespace_service:augur_series:count'), 'count by (metric, namespace, service) (augur_anomaly)');
    assert.equal(
      exprOf(two, 'AugurPeerGroupAnomalyBurst'),
      'max by (metric, namespace, service) (augur_group_anomaly_ratio) >= 0.5\nand on (metric, namespace, service)\nmetric_namespace_service:augur_series:count >= 3',
    );
    assert.ok(!/\bjob\b/.test(exprOf(two, 'AugurPeerGroupAnomalyBurst')!));
    // Label names as Augur exposes them: reserved ones renamed, others sanitised.
    const odd = generateRules(resolveGenerateOptions({ peerGroups: { groupBy: ['app.kubernetes.io/name', 'metric'] } }));
    assert.equal(exprOf(odd, 'metric_app_kubernetes_io_name_exported_metric:augur_series:count'), 'count by (metric, app_kubernetes_io_name, exported_metric) (augur_anomaly)');
    const none = generateRules(resolveGenerateOptions({ peerGroups: { groupBy: [] } }));
    assert.equal(exprOf(none, 'metric:augur_series:count'), 'count by (metric) (augur_anomaly)');
    assert.match(exprOf(none, 'AugurPeerGroupAnomalyBurst')!, /and on \(metric\)\n/);
    for (const [name, text] of Object.entries({ two, odd, none })) {
      const file = join(tmp, `group-${name}.rules.yml`);
      writeFileSync(file, text);
      run(promtool, ['check', 'rules', file]);
    }
  });

  it('leaves out the peer rules when clustering is off', () => {
    const text = generateRules(resolveGenerateOptions({ peerGroups: { enabled: false } }));
    const names = (parse(text) as { groups: RuleGroup[] }).groups.flatMap((g) => g.rules).map((r) => ('alert' in r ? r.alert : r.record));
    assert.ok(names.includes('AugurSeriesAnomalous'));
    for (const n of ['AugurPeerOutlier', 'AugurPeerGroupAnomalyBurst', 'metric_job:augur_series:count']) assert.ok(!names.includes(n), n);
  });

  it('takes the peer groups from the caller, not from the generate: section', () => {
    assert.throws(() => resolveGenerateOptions({ peerGroups: { groupBy: ['job', ''] } }), /peerGroups\.groupBy\[1\]/);
    assert.equal(generateSchema.safeParse({ peerGroups: { groupBy: ['namespace'] } }).success, false);
    assert.deepEqual(defaultGenerateOptions.peerGroups, { enabled: true, groupBy: ['job'] });
  });

  it('rejects invalid options with every problem by path', () => {
    assert.throws(
      () => resolveGenerateOptions({ anomaly: { for: '5 minutes' }, groupBurst: { ratio: 2 }, peerOutlier: { severity: 'page' as never } }),
      (e: Error) =>
        /anomaly\.for: not a Prometheus duration/.test(e.message) &&
        /groupBurst\.ratio: must be in \(0, 1\]/.test(e.message) &&
        /peerOutlier\.severity/.test(e.message),
    );
  });

  it('rejects unknown keys, wrong types and zero durations where a range must be positive', () => {
    assert.throws(
      () => resolveGenerateOptions({ bogus: 1, health: { trainingFor: '0m' }, anomaly: { smoothing: '0s', for: '1m1h' }, forecast: { horizons: '1h' } } as never),
      (e: Error) =>
        /bogus/.test(e.message) &&
        /health\.trainingFor: must be a positive duration/.test(e.message) &&
        /anomaly\.smoothing: must be a positive duration/.test(e.message) &&
        /anomaly\.for: not a Prometheus duration/.test(e.message) &&
        /forecast\.horizons: .*expected array/.test(e.message),
    );
    // `for` durations may be 0s: the alert fires at once.
    assert.equal(resolveGenerateOptions({ anomaly: { for: '0s' } }).anomaly.for, '0s');
  });

  it('labels horizons as Augur exposes them', () => {
    assert.deepEqual(resolveGenerateOptions({ forecast: { horizons: ['90m', '5m', '1h30m'] } }).forecast.horizons, ['1h30m', '5m']);
    assert.deepEqual(defaultGenerateOptions.forecast.horizons, ['1h'], 'the defaults are untouched');
  });
});
