import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT, augur } from './helpers/cli.js';

// `augur generate` through the real CLI: the shipped files are what the default config generates.

describe('augur generate', () => {
  it('prints the shipped rules and writes the shipped dashboards', async () => {
    const rules = await augur(['generate', 'rules']);
    assert.equal(rules.code, 0, rules.stderr);
    assert.equal(rules.stdout, readFileSync(join(ROOT, 'rules', 'augur.rules.yml'), 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'augur-gen-'));
    try {
      const dash = await augur(['generate', 'dashboards', '--out', dir]);
      assert.equal(dash.code, 0, dash.stderr);
      const files = readdirSync(dir).sort();
      assert.deepEqual(files, readdirSync(join(ROOT, 'dashboards')).sort());
      for (const f of files) assert.equal(readFileSync(join(dir, f), 'utf8'), readFileSync(join(ROOT, 'dashboards', f), 'utf8'), f);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes forecast horizons from the config and shards the Prometheus config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'augur-gen-'));
    try {
      const cfg = join(dir, 'augur.yml');
      writeFileSync(cfg, 'forecast: { horizons: [30m, 4h] }\n');
      const dash = await augur(['generate', 'dashboards', `--config.file=${cfg}`]);
      assert.equal(dash.code, 0, dash.stderr);
      const text = dash.stdout;
      assert.ok(text.includes('"30m"') && text.includes('"4h"'), 'the configured horizons reach the dashboards');
      const prom = await augur(['generate', 'prometheus-config', '--shards', '2', '--target', 'a:9201', '--target', 'b:9201']);
      assert.equal(prom.code, 0, prom.stderr);
      const doc = parse(prom.stdout) as { remote_write: { url: string; write_relabel_configs: { action: string }[] }[] };
      assert.deepEqual(doc.remote_write.map((r) => r.url), ['http://a:9201/api/v1/write', 'http://b:9201/api/v1/write']);
      for (const rw of doc.remote_write) assert.ok(rw.write_relabel_configs.some((r) => r.action === 'hashmod'));
      // Horizons as Augur labels them (`90m` is exposed as horizon="1h30m"), in the configured order.
      writeFileSync(cfg, 'forecast: { horizons: [90m, 5m] }\n');
      const canon = await augur(['generate', 'dashboards', `--config.file=${cfg}`]);
      assert.equal(canon.code, 0, canon.stderr);
      const series = (JSON.parse(canon.stdout) as Record<string, { templating: { list: { name: string; query: string }[] } }>)['augur-series.json']!;
      assert.equal(series.templating.list.find((v) => v.name === 'horizon')!.query, '1h30m,5m');
      const bad = await augur(['generate', 'prometheus-config', '--shards', '3', '--target', 'a:9201']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--shards 3 needs 3 --target/);
      const what = await augur(['generate', 'nonsense']);
      assert.equal(what.code, 2);
      // A target is host:port: a scheme or an empty one would be written into the config as is.
      for (const target of ['http://a:9201', '', 'a', 'a:99999']) {
        const res = await augur(['generate', 'prometheus-config', '--target', target]);
        assert.equal(res.code, 2, `${target}: ${res.stderr}`);
        assert.match(res.stderr, /expected host:port/);
      }
      assert.equal((await augur(['generate', 'prometheus-config', '--target', '[::1]:9201', '--target', 'augur-0.augur.svc:9201', '--shards', '2'])).code, 0);
      assert.equal((await augur(['generate', 'rules', 'extra'])).code, 2);
      for (const shards of ['0x2', '2e0', '']) {
        const res = await augur(['generate', 'prometheus-config', '--shards', shards, '--target', 'a:9201', '--target', 'b:9201']);
        assert.equal(res.code, 2, `--shards ${shards}: ${res.stderr}`);
        assert.match(res.stderr, /--shards must be a positive integer/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves out the forecast-breach alerts when forecasting is off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'augur-gen-'));
    try {
      const off = join(dir, 'off.yml');
      writeFileSync(off, 'forecast: { enabled: false }\n');
      const offRules = await augur(['generate', 'rules', `--config.file=${off}`]);
      assert.equal(offRules.code, 0, offRules.stderr);
      assert.ok(!offRules.stdout.includes('AugurForecastBreach'));
      assert.ok(offRules.stdout.includes('AugurSeriesAnomalous'));
      // On for one selector: the alerts stay.
      const one = join(dir, 'one.yml');
      writeFileSync(one, "forecast: { enabled: false }\nselectors:\n  - match: 'disk_used_ratio'\n    forecast: { horizons: [4h] }\n");
      const oneRules = await augur(['generate', 'rules', `--config.file=${one}`]);
      assert.equal(oneRules.code, 0, oneRules.stderr);
      assert.ok(oneRules.stdout.includes('AugurForecastBreach'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('groups the peer rules and the clusters dashboard by cluster.group_by, and drops the peer rules when clustering is off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'augur-gen-'));
    try {
      const cfg = join(dir, 'ns.yml');
      writeFileSync(cfg, 'cluster: { group_by: [namespace] }\n');
      const rules = await augur(['generate', 'rules', `--config.file=${cfg}`]);
      assert.equal(rules.code, 0, rules.stderr);
      assert.ok(rules.stdout.includes('and on (metric, namespace)\n'), rules.stdout);
      assert.ok(rules.stdout.includes('record: metric_namespace:augur_series:count'));
      const dash = await augur(['generate', 'dashboards', `--config.file=${cfg}`]);
      assert.equal(dash.code, 0, dash.stderr);
      assert.ok(dash.stdout.includes('augur_group_anomaly_ratio{metric=\\"$metric\\", namespace=\\"$namespace\\"}'));
      writeFileSync(cfg, 'cluster: { enabled: false }\n');
      const off = await augur(['generate', 'rules', `--config.file=${cfg}`]);
      assert.equal(off.code, 0, off.stderr);
      assert.ok(!off.stdout.includes('AugurPeer') && off.stdout.includes('AugurSeriesAnomalous'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
