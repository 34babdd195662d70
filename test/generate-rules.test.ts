import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { generateDashboards } from '../src/generate/dashboards/index.js';
import { defaultGenerateOptions, resolveGenerateOptions } from '../src/generate/options.js';
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
