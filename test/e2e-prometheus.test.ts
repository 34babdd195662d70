import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FAST_QUEUE, Stack, promQuery, waitFor } from './e2e-harness.js';

// A real Prometheus scrapes itself, remote-writes to Augur and scrapes Augur back with
// honor_labels: true, as the README tells a user to configure it.
const stack = new Stack();
let prom = '';
let augur = '';

before(async () => {
  augur = await stack.augur('augur');
  prom = await stack.prometheus((self) => `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs: [{ targets: ['${self}'] }]
  - job_name: augur
    honor_labels: true
    static_configs: [{ targets: ['${augur}'] }]
remote_write:
  - url: http://${augur}/api/v1/write
    queue_config: ${JSON.stringify(FAST_QUEUE)}
    metadata_config: { send: true, send_interval: 1s }
`);
});

after(() => stack.stopAll());

test('Prometheus finds augur_anomaly_score for its own prometheus_http_requests_total', async () => {
  const result = await waitFor('augur_anomaly_score{metric="prometheus_http_requests_total"} in Prometheus', 90_000, async () => {
    stack.assertRunning();
    const r = await promQuery(prom, 'augur_anomaly_score{metric="prometheus_http_requests_total"}');
    return r.length > 0 ? r : undefined;
  });
  for (const s of result) {
    assert.equal(s.metric.metric, 'prometheus_http_requests_total');
    assert.equal(s.metric.job, 'prometheus', 'original labels are kept (honor_labels)');
    assert.ok(s.metric.handler !== undefined);
    const v = Number(s.value![1]);
    assert.ok(v >= 0 && v <= 1, `score ${v} in [0,1]`);
  }
});

test('the remote-write path is exercised without rejections and counters are scored as rates', async () => {
  const accepted = await waitFor('samples accepted', 30_000, async () => {
    const r = await promQuery(prom, 'augur_samples_accepted_total{job="augur"}');
    return r.length > 0 && Number(r[0]!.value![1]) > 0 ? Number(r[0]!.value![1]) : undefined;
  });
  assert.ok(accepted > 0);
  const rejected = await promQuery(prom, 'sum(augur_write_requests_rejected_total{job="augur"})');
  assert.ok(rejected.length === 0 || Number(rejected[0]!.value![1]) === 0, 'no request rejected');
  const families = await promQuery(prom, 'augur_metric_families_known{job="augur"}');
  assert.ok(families.length > 0 && Number(families[0]!.value![1]) > 0, 'metadata reached Augur');
  // A counter's expected value is a per-second rate, far below the raw counter's value.
  const band = await waitFor('a band for prometheus_http_requests_total', 60_000, async () => {
    const r = await promQuery(prom, 'augur_expected{metric="prometheus_tsdb_head_samples_appended_total"}');
    return r.length > 0 ? r : undefined;
  });
  const raw = await promQuery(prom, 'prometheus_tsdb_head_samples_appended_total');
  assert.ok(Number(band[0]!.value![1]) < Number(raw[0]!.value![1]), 'expected rate below the raw counter');
});

test("Augur's derived series sent back by remote write are not scored again", async () => {
  const r = await promQuery(prom, 'count(augur_anomaly_score{metric=~"augur_anomaly.*"})');
  assert.equal(r.length, 0);
});
