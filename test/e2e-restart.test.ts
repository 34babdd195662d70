import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { FAST_QUEUE, Stack, freePort, httpGet, sleep, waitFor } from './e2e-harness.js';

// A real Prometheus remote-writes continuously to Augur; Augur is stopped (SIGTERM, final
// snapshot) for 30 seconds and started again on the same port and storage path. Prometheus
// retries what it could not deliver; afterwards Augur has accepted every sample Prometheus
// delivered, and its models continue from the snapshot instead of warming up again.
const GAP_MS = Number(process.env['AUGUR_RESTART_GAP_MS'] ?? 30_000);
const stack = new Stack();
let prom = '';
let augurAddr = '';
const storage = join(stack.dir, 'augur-data');
const config = `
scoring:
  warmup_samples: 5
storage:
  snapshot_interval: 5s
`;

function startAugur(name: string): ChildProcess {
  const file = stack.file('augur.yml', config);
  return stack.spawn(name, process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', `--web.listen-address=${augurAddr}`, `--storage.path=${storage}`, `--config.file=${file}`, '--log.level=info', '--log.format=json']);
}

async function ready(): Promise<void> {
  await waitFor('augur ready', 30_000, async () => ((await httpGet(`http://${augurAddr}/-/ready`, 1000)).status === 200 ? true : undefined), 100);
}

function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (m && m[1] === name && (labels === '' || (m[2] ?? '').includes(labels))) {
      sum += Number(m[3]);
      found = true;
    }
  }
  return found ? sum : NaN;
}

before(async () => {
  augurAddr = `127.0.0.1:${await freePort()}`;
  startAugur('augur-1');
  await ready();
  prom = await stack.prometheus((self) => `
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs: [{ targets: ['${self}'] }]
remote_write:
  - url: http://${augurAddr}/api/v1/write
    queue_config: ${JSON.stringify({ ...FAST_QUEUE, max_backoff: '500ms' })}
    metadata_config: { send: true, send_interval: 1s }
`);
});

after(() => stack.stopAll());

test('restart with a 30 s gap: no sample lost, models restored', { timeout: 120_000 }, async () => {
  // Warm up: scores exposed for Prometheus's own series.
  const warm = await waitFor('scores before the restart', 40_000, async () => {
    const m = (await httpGet(`http://${augurAddr}/metrics`)).text;
    const n = m.split('\n').filter((l) => l.startsWith('augur_anomaly_score{')).length;
    return n > 20 ? m : undefined;
  });
  const createdBefore = metric(warm, 'augur_series_created_total');
  const activeBefore = metric(warm, 'augur_active_series');
  const first = stack.lastProcess(`augur-1`);
  const exited = new Promise<number | null>((r) => first.once('exit', (code) => r(code)));
  first.kill('SIGTERM');
  // An impatient operator (or supervisor) signals again: the shutdown still completes.
  const again = setTimeout(() => first.kill('SIGTERM'), 50);
  assert.equal(await exited, 0, 'exit code after two SIGTERMs');
  clearTimeout(again);
  const log1 = stack.logs('augur-1').split('\n').map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } });
  const acceptedBefore = Number(log1.find((l) => l['msg'] === 'stopped accepting writes')?.['samplesAccepted']);
  assert.ok(acceptedBefore > 0, `samples accepted before the stop: ${acceptedBefore}\n${stack.logs('augur-1')}`);
  await sleep(GAP_MS);

  startAugur('augur-2');
  await ready();
  // Right after start, before the backlog is in: restored state is exposed.
  const m0 = (await httpGet(`http://${augurAddr}/metrics`)).text;
  const restored = metric(m0, 'augur_snapshot_restored_series');
  assert.ok(restored >= activeBefore, `series restored: ${restored}, active before the stop: ${activeBefore}`);
  // Counters kept in the models' state continue: series were not created anew.
  assert.ok(metric(m0, 'augur_series_created_total') >= createdBefore, 'series-created count restored, not reset');
  assert.ok(metric(m0, 'augur_samples_scored_total') > 0, 'scored-samples count restored');
  assert.ok(m0.split('\n').filter((l) => l.startsWith('augur_anomaly_score{')).length > 20, 'scores present immediately after the restart');
  assert.equal(metric(m0, 'augur_snapshot_restore_failures_total'), 0);
  assert.ok(stack.logs('augur-2').includes(`restored ${restored} series from snapshot`));

  // Every sample Prometheus delivered reached one of the two Augur processes. Prometheus 2.x counts
  // each send attempt in samples_total and each retry in samples_retried_total.
  let last = '';
  await waitFor('Prometheus and Augur agree on the samples delivered', 30_000, async () => {
    const p1 = (await httpGet(`http://${prom}/metrics`)).text;
    const a = (await httpGet(`http://${augurAddr}/metrics`)).text;
    const p2 = (await httpGet(`http://${prom}/metrics`)).text;
    const sent = (t: string) => metric(t, 'prometheus_remote_storage_samples_total') - metric(t, 'prometheus_remote_storage_samples_retried_total') - metric(t, 'prometheus_remote_storage_samples_failed_total');
    const delivered = sent(p1);
    const accepted = acceptedBefore + metric(a, 'augur_samples_accepted_total');
    last = `delivered ${delivered} (samples_total ${metric(p1, 'prometheus_remote_storage_samples_total')}, retried ${metric(p1, 'prometheus_remote_storage_samples_retried_total')}, failed ${metric(p1, 'prometheus_remote_storage_samples_failed_total')}, pending ${metric(p1, 'prometheus_remote_storage_samples_pending')}), accepted ${acceptedBefore} + ${accepted - acceptedBefore}`;
    if (metric(p1, 'prometheus_remote_storage_samples_retried_total') <= 0) return undefined;
    return delivered === sent(p2) && metric(p1, 'prometheus_remote_storage_samples_pending') === 0 && delivered === accepted ? true : undefined;
  }, 200).catch((e: Error) => assert.fail(`${e.message}: ${last}`));
  const p = (await httpGet(`http://${prom}/metrics`)).text;
  assert.equal(metric(p, 'prometheus_remote_storage_samples_failed_total'), 0);
  assert.ok(metric(p, 'prometheus_remote_storage_samples_retried_total') > 0, 'Prometheus retried during the gap');
  // The backlog went into the restored series: none of them was created a second time.
  const m1 = (await httpGet(`http://${augurAddr}/metrics`)).text;
  const newSeries = metric(m1, 'augur_series_created_total') - metric(m0, 'augur_series_created_total');
  assert.ok(newSeries < restored * 0.5, `series created after the restart: ${newSeries} (restored ${restored})`);
  // 503s are retried by Prometheus: overload shedding, and writes that arrive while the snapshot is
  // restored (the port opens first, so that probes see the process alive).
  const rejected = m1.split('\n').filter((l) => l.startsWith('augur_write_requests_rejected_total{') && !/reason="(overloaded|not_ready)"/.test(l) && !l.endsWith(' 0'));
  assert.deepEqual(rejected, [], 'no write rejected (503s, retried by Prometheus, aside)');
});
