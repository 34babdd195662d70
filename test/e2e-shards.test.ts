// Two Augur instances behind one real Prometheus, with `augur generate prometheus-config --shards 2`:
// each receives a disjoint share of the series, every peer group (same metric and job) whole, on
// the instance Prometheus's hashmod of (__name__, job) picks.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { defaultGenerateOptions } from '../src/generate/options.js';
import { generatePrometheusConfig } from '../src/generate/prometheus-config.js';
import { FAST_QUEUE, httpGet, promQuery, Stack, waitFor } from './e2e-harness.js';
import { parseExposition } from './helpers/server.js';

const METRICS = Array.from({ length: 12 }, (_, i) => `shard_test_${i}`);
const JOBS = ['web', 'db'];
const PODS = ['p0', 'p1', 'p2'];

/** Prometheus's hashmod: the last 8 bytes of the MD5 of the joined values, big-endian, mod n. */
function hashmod(values: string[], n: number): number {
  const md5 = createHash('md5').update(values.join(';')).digest();
  return Number(md5.readBigUInt64BE(8) % BigInt(n));
}

/** Series Augur scores, as `metric|job|pod` keys, from its /metrics. */
async function scoredSeries(augur: string): Promise<Set<string>> {
  const res = await httpGet(`http://${augur}/metrics`, 5000);
  assert.equal(res.status, 200);
  const keys = new Set<string>();
  for (const s of parseExposition(res.text)) {
    if (s.name === 'augur_anomaly_score') keys.add(`${s.labels.metric}|${s.labels.job}|${s.labels.pod ?? ''}`);
  }
  return keys;
}

describe('e2e: sharded Augur behind one Prometheus', { timeout: 120_000 }, () => {
  const stack = new Stack();
  const augurs: string[] = [];
  let prom = '';

  before(async () => {
    let t = 0;
    const exporter = await stack.serve((_req, res) => {
      t++;
      const lines = METRICS.map((m, i) => `# TYPE ${m} gauge\n${PODS.map((p, j) => `${m}{pod="${p}"} ${i * 10 + j + (t % 7)}`).join('\n')}`);
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(`${lines.join('\n')}\n`);
    });
    augurs.push(await stack.augur('augur-0'), await stack.augur('augur-1'));
    prom = await stack.prometheus(() =>
      generatePrometheusConfig({
        ...defaultGenerateOptions,
        targets: augurs,
        shards: 2,
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        // The same exporter under two jobs: every metric name forms two peer groups.
        extraScrapeConfigs: JOBS.map((job) => ({ job_name: job, static_configs: [{ targets: [exporter] }] })),
        queueConfig: FAST_QUEUE,
      }),
    );
  });

  after(() => stack.stopAll());

  it('each Augur gets a disjoint share, peer groups whole, as hashmod on __name__ and job decides', async () => {
    const expected = new Set(METRICS.flatMap((m) => JOBS.flatMap((j) => PODS.map((p) => `${m}|${j}|${p}`))));
    const shares = await waitFor('every test series scored by one of the Augurs', 45_000, async () => {
      stack.assertRunning();
      const s = await Promise.all(augurs.map(scoredSeries));
      const union = new Set([...s[0]!, ...s[1]!]);
      return [...expected].every((k) => union.has(k)) ? s : undefined;
    }, 1000);

    const [a, b] = shares as [Set<string>, Set<string>];
    assert.deepEqual([...a].filter((k) => b.has(k)), [], 'no series on both instances');
    const groups = (s: Set<string>) => new Set([...s].map((k) => k.split('|').slice(0, 2).join('|')));
    const ga = groups(a);
    const gb = groups(b);
    assert.deepEqual([...ga].filter((g) => gb.has(g)), [], 'no peer group split across instances');
    assert.ok(ga.size > 0 && gb.size > 0, `both instances get a share (${ga.size} and ${gb.size} groups)`);

    for (const m of METRICS) {
      for (const j of JOBS) {
        const shard = hashmod([m, j], 2);
        for (const p of PODS) assert.ok(shares[shard]!.has(`${m}|${j}|${p}`), `${m}{job="${j}"} expected on augur-${shard}`);
      }
    }

    // Prometheus scrapes both instances back with honor_labels: the derived series keep their
    // original job, and every test series is scored exactly once.
    const counts = await waitFor('the derived series in Prometheus', 20_000, async () => {
      const r = await promQuery(prom, 'count by (job) (augur_anomaly_score{metric=~"shard_test_.+"})');
      return r.length === 2 && r.every((s) => Number(s.value![1]) === METRICS.length * PODS.length) ? r : undefined;
    });
    assert.deepEqual(counts.map((s) => s.metric.job).sort(), ['db', 'web']);
    const up = await promQuery(prom, `up{job="${defaultGenerateOptions.augurJob}"} == 1`);
    assert.equal(up.length, 2);
  });
});
