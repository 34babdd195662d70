import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { COMPOSE, composePrometheusConfig } from '../src/generate/compose.js';
import { defaultGenerateOptions, resolveGenerateOptions } from '../src/generate/options.js';
import { generatePrometheusConfig, NOT_SENT_REGEX } from '../src/generate/prometheus-config.js';
import { requireTool, run, type Json } from './generate-promql.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'augur-deploy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function promtoolCheckConfig(text: string): void {
  const promtool = requireTool('promtool', 'prometheus');
  const file = join(tmp, `prometheus-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, text);
  run(promtool, ['check', 'config', '--syntax-only', file]);
}

describe('generated Prometheus config', () => {
  it('remote-writes to one Augur and scrapes it with honor_labels', () => {
    const text = generatePrometheusConfig({ ...defaultGenerateOptions, targets: ['augur.example:9201'] });
    promtoolCheckConfig(text);
    const cfg = parse(text) as Json;
    assert.equal(cfg.remote_write.length, 1);
    const rw = cfg.remote_write[0];
    assert.equal(rw.url, 'http://augur.example:9201/api/v1/write');
    assert.deepEqual(rw.write_relabel_configs, [
      { source_labels: ['__name__'], regex: NOT_SENT_REGEX, action: 'drop' },
      { source_labels: ['job'], regex: 'augur', action: 'drop' },
    ]);
    assert.equal(rw.metadata_config.send, true);
    const scrape = cfg.scrape_configs.find((s: Json) => s.job_name === 'augur');
    assert.equal(scrape.honor_labels, true);
    assert.deepEqual(scrape.static_configs, [{ targets: ['augur.example:9201'] }]);
  });

  it('never sends Augur its own output back', () => {
    const re = new RegExp(`^(?:${NOT_SENT_REGEX})$`);
    for (const n of ['augur_anomaly_score', 'augur_forecast_upper', 'augur_samples_accepted_total', 'metric_job:augur_series:count', 'ALERTS', 'ALERTS_FOR_STATE']) {
      assert.ok(re.test(n), n);
    }
    for (const n of ['up', 'http_requests_total', 'node_cpu_seconds_total', 'job:http_requests:rate5m']) assert.ok(!re.test(n), n);
  });

  it('with --shards N, N remote_writes each keep their hashmod share of (__name__, job)', () => {
    const targets = ['augur-0:9201', 'augur-1:9201', 'augur-2:9201'];
    const text = generatePrometheusConfig({ ...defaultGenerateOptions, targets, shards: 3 });
    promtoolCheckConfig(text);
    const cfg = parse(text) as Json;
    assert.equal(cfg.remote_write.length, 3);
    cfg.remote_write.forEach((rw: Json, i: number) => {
      assert.equal(rw.url, `http://${targets[i]}/api/v1/write`);
      assert.equal(rw.name, `augur-${i}`);
      const [dropName, dropSelf, hash, keep, labeldrop] = rw.write_relabel_configs;
      assert.equal(dropName.action, 'drop');
      assert.equal(dropSelf.action, 'drop');
      assert.deepEqual(hash, { source_labels: ['__name__', 'job'], modulus: 3, target_label: '__tmp_augur_shard', action: 'hashmod' });
      assert.deepEqual(keep, { source_labels: ['__tmp_augur_shard'], regex: String(i), action: 'keep' });
      assert.deepEqual(labeldrop, { regex: '__tmp_augur_shard', action: 'labeldrop' });
    });
    assert.deepEqual(cfg.scrape_configs.at(-1).static_configs, [{ targets }]);
  });

  it('shards on the metric and the configured peer group labels, so a group stays whole', () => {
    const shardKey = (peerGroups: { enabled?: boolean; groupBy?: string[] }) => {
      const text = generatePrometheusConfig({ ...resolveGenerateOptions({ peerGroups }), targets: ['a:9201', 'b:9201'] });
      promtoolCheckConfig(text);
      return (parse(text) as Json).remote_write.map((rw: Json) => rw.write_relabel_configs.find((r: Json) => r.action === 'hashmod').source_labels);
    };
    assert.deepEqual(shardKey({ groupBy: ['namespace', 'service'] }), [['__name__', 'namespace', 'service'], ['__name__', 'namespace', 'service']]);
    assert.deepEqual(shardKey({ groupBy: [] }), [['__name__'], ['__name__']]);
    // Without clustering, by job as before (the LSTM keeps its data per metric and job).
    assert.deepEqual(shardKey({ enabled: false, groupBy: ['namespace'] }), [['__name__', 'job'], ['__name__', 'job']]);
  });

  it('refuses a shard count that does not match the targets', () => {
    assert.throws(() => generatePrometheusConfig({ ...defaultGenerateOptions, targets: ['a:1'], shards: 2 }), /--shards 2 needs 2 Augur targets/);
    assert.throws(() => generatePrometheusConfig({ ...defaultGenerateOptions, targets: [] }), /at least one/);
  });
});

describe('deployment files', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as Json;
  const services = compose.services as Record<string, Json>;

  it('deploy/prometheus/prometheus.yml is the generated config for the compose stack, and valid', () => {
    const text = readFileSync(join(root, 'deploy/prometheus/prometheus.yml'), 'utf8');
    assert.equal(text, composePrometheusConfig(defaultGenerateOptions), 'regenerate with node --import tsx scripts/generate.ts');
    promtoolCheckConfig(text);
    // Loaded for real, with the rule files the compose stack mounts: every file the glob takes must
    // be a rule file (rules/ also holds promtool's unit tests).
    const promtool = requireTool('promtool', 'prometheus');
    const file = join(tmp, 'prometheus-with-rules.yml');
    writeFileSync(file, text.split(COMPOSE.rulesDir).join(join(root, 'rules')));
    run(promtool, ['check', 'config', file]);
  });

  it('docker-compose.yml parses, and every mounted file and build input exists', () => {
    assert.deepEqual(Object.keys(services).sort(), ['alertmanager', 'augur', 'grafana', 'prometheus']);
    for (const [name, s] of Object.entries(services)) {
      for (const v of (s.volumes ?? []) as string[]) {
        const host = v.split(':')[0]!;
        if (!host.startsWith('.')) {
          assert.ok(compose.volumes && host in compose.volumes, `${name}: named volume ${host} not declared`);
          continue;
        }
        assert.ok(existsSync(resolve(root, host)), `${name}: mounted ${host} does not exist`);
      }
      if (s.build) assert.ok(existsSync(resolve(root, s.build.context, s.build.dockerfile)), `${name}: no Dockerfile`);
      for (const d of (s.depends_on ?? []) as string[]) assert.ok(d in services, `${name} depends on unknown ${d}`);
    }
  });

  it('service names and ports agree with the configs', () => {
    const port = (svc: string) => {
      const ports = (services[svc]!.ports as string[]).map((p) => p.split(':').at(-1));
      return Number(ports[0]);
    };
    const flag = (svc: string, name: string) => {
      const cmd = services[svc]!.command as string[];
      return cmd.find((c) => c.startsWith(`--${name}=`))?.split('=')[1];
    };
    assert.equal(port('augur'), COMPOSE.augur.port);
    assert.equal(flag('augur', 'web.listen-address'), `0.0.0.0:${COMPOSE.augur.port}`);
    assert.equal(port('prometheus'), COMPOSE.prometheus.port);
    assert.equal(flag('prometheus', 'web.listen-address'), `0.0.0.0:${COMPOSE.prometheus.port}`);
    assert.equal(port('alertmanager'), COMPOSE.alertmanager.port);
    assert.equal(flag('alertmanager', 'web.listen-address'), `0.0.0.0:${COMPOSE.alertmanager.port}`);
    assert.equal(port('grafana'), COMPOSE.grafana.port);

    const prom = parse(readFileSync(join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as Json;
    assert.equal(prom.remote_write[0].url, `http://augur:${COMPOSE.augur.port}/api/v1/write`);
    assert.deepEqual(prom.alerting.alertmanagers[0].static_configs[0].targets, [`alertmanager:${COMPOSE.alertmanager.port}`]);
    const augurScrape = prom.scrape_configs.find((s: Json) => s.job_name === defaultGenerateOptions.augurJob);
    assert.deepEqual(augurScrape.static_configs[0].targets, [`augur:${COMPOSE.augur.port}`]);

    const mountOf = (svc: string, host: string) =>
      (services[svc]!.volumes as string[]).find((v) => v.split(':')[0] === host)?.split(':')[1];
    assert.equal(mountOf('prometheus', './deploy/prometheus/prometheus.yml'), flag('prometheus', 'config.file'));
    assert.equal(mountOf('prometheus', './rules'), COMPOSE.rulesDir);
    assert.ok(prom.rule_files[0].startsWith(`${COMPOSE.rulesDir}/`));
    assert.equal(mountOf('alertmanager', './deploy/alertmanager/alertmanager.yml'), flag('alertmanager', 'config.file'));

    const ds = parse(readFileSync(join(root, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as Json;
    assert.equal(ds.datasources[0].url, `http://prometheus:${COMPOSE.prometheus.port}`);
    assert.equal(ds.datasources[0].type, 'prometheus');
    const provider = parse(readFileSync(join(root, 'deploy/grafana/provisioning/dashboards/augur.yml'), 'utf8')) as Json;
    assert.equal(mountOf('grafana', './dashboards'), provider.providers[0].options.path);
    assert.equal(mountOf('grafana', './deploy/grafana/provisioning/datasources'), '/etc/grafana/provisioning/datasources');
    assert.equal(mountOf('grafana', './deploy/grafana/provisioning/dashboards'), '/etc/grafana/provisioning/dashboards');
    assert.equal(new URL(defaultGenerateOptions.dashboards.grafanaUrl).port, String(COMPOSE.grafana.port));
  });

  it('every secret file the Alertmanager example reads is mounted by docker-compose.yml', () => {
    const am = parse(readFileSync(join(root, 'deploy/alertmanager/alertmanager.yml'), 'utf8')) as Json;
    const files: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k.endsWith('_file') && typeof x === 'string') files.push(x);
          else walk(x);
        }
      }
    };
    walk(am);
    assert.ok(files.length >= 3, `secret files: ${files.join(' ')}`);
    const mounts = (services.alertmanager!.volumes as string[]).map((v) => v.split(':'));
    for (const f of files) {
      // The host path under the longest container mount that holds the file.
      const m = mounts.filter(([, c]) => f === c || f.startsWith(`${c}/`)).sort((a, b) => b[1]!.length - a[1]!.length)[0];
      assert.ok(m, `${f} is not under any mount of the alertmanager service`);
      const host = resolve(root, m[0]!, f.slice(m[1]!.length).replace(/^\//, ''));
      assert.ok(existsSync(host) && readFileSync(host, 'utf8').trim() !== '', `${f}: ${host} is missing or empty`);
    }
  });

  it('the Alertmanager example is valid and routes by severity', () => {
    const amtool = requireTool('amtool', 'prometheus-alertmanager');
    const file = join(root, 'deploy/alertmanager/alertmanager.yml');
    run(amtool, ['check-config', file]);
    const route = (labels: string[]) =>
      run(amtool, ['config', 'routes', 'test', `--config.file=${file}`, ...labels]).trim().split(',').sort().join(',');
    assert.equal(route(['alertname=AugurDown', 'severity=critical']), 'chat,paging');
    assert.equal(route(['alertname=AugurSeriesAnomalous', 'severity=warning']), 'chat');
    assert.equal(route(['alertname=AugurX', 'severity=info']), 'email');
  });
});
