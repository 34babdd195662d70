import { monitorEventLoopDelay } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { encodeRounds, makeWorkload } from './lib/workload.js';
import { loopGapTracker, type LoopGaps } from './lib/loop-gap.js';
import { Augur } from '../src/augur.js';
import { defaultConfig, loadConfigFile } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { Receiver } from '../src/ingest/receiver.js';

/** `/metrics` for 100,000 scored series: render time, size, and the longest event-loop block. */
const SERIES = Number(process.env.BENCH_SERIES ?? 100_000);

export async function benchMetrics(): Promise<Record<string, number>> {
  const config = process.env.BENCH_CONFIG ? loadConfigFile(process.env.BENCH_CONFIG) : defaultConfig();
  const augur = new Augur(config, createLogger('silent', 'json'));
  const url = await augur.listen('127.0.0.1', 0);
  const rx = new Receiver({ maxDecodedBytes: 32 << 20, maxSeriesPerRequest: 0, maxLabels: 256, maxNameLength: 1024, maxValueLength: 65536 });
  const w = makeWorkload(SERIES, 2000);
  const rounds = 40;
  const t0 = Date.now() - (rounds + 1) * 15_000;
  for (let r = 0; r < rounds; r++) {
    for (const b of encodeRounds(w, r, 1, 15_000, t0)) {
      rx.decode(b, 'application/x-protobuf', 'snappy');
      augur.pipeline.ingest(rx.batch, Date.now());
    }
  }
  // The server has not answered a request yet (ingest went straight to the pipeline): the first
  // request's cold HTTP parser and router cost 25-45 ms of CPU, which a scraped server never sees.
  await fetch(url + '/-/healthy');
  const results: Record<string, number> = {};
  const fmt = (g: LoopGaps): string =>
    `longest event-loop gap ${g.maxGapMs.toFixed(1)} ms wall (${g.maxGapCpuMs.toFixed(1)} ms of it on CPU), longest on-CPU block ${g.maxCpuMs.toFixed(1)} ms`;
  {
    // Baseline: the longest block over 3 s without a scrape (background model rounds included).
    const gaps = loopGapTracker();
    await new Promise((r) => setTimeout(r, 3000));
    console.log(`no scrape, 3 s: ${fmt(gaps.stop())}`);
  }
  const scrapes = [
    { name: 'text', accept: 'text/plain;version=0.0.4', gzip: false },
    { name: 'text+gzip', accept: 'text/plain;version=0.0.4', gzip: true },
    { name: 'openmetrics', accept: 'application/openmetrics-text;version=1.0.0', gzip: false },
    { name: 'openmetrics+gzip', accept: 'application/openmetrics-text;version=1.0.0', gzip: true },
  ];
  for (const s of scrapes) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    let gaps: { stop(): LoopGaps } | undefined;
    let started = 0;
    // The scraper is another process (curl), as Prometheus would be. The trackers start once
    // spawn() has returned: forking this process takes 20-50 ms of the bench's own CPU, before
    // curl has even connected.
    const stats = await new Promise<string>((resolve, reject) => {
      const args = ['-s', '-o', '/dev/null', '-w', '%{size_download} %{http_code}', '-H', `Accept: ${s.accept}`, ...(s.gzip ? ['-H', 'Accept-Encoding: gzip'] : []), url + '/metrics'];
      const c = spawn('curl', args);
      gaps = loopGapTracker();
      h.enable();
      started = performance.now();
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('error', reject);
      c.on('exit', () => resolve(out));
    });
    const ms = performance.now() - started;
    h.disable();
    const g = gaps!.stop();
    const [bytes, code] = stats.split(' ');
    console.log(
      `/metrics ${s.name.padEnd(16)} HTTP ${code}, ${ms.toFixed(0)} ms, ${(Number(bytes) / 2 ** 20).toFixed(1)} MiB on the wire, ${SERIES} series: ` +
        `${fmt(g)}, histogram max ${(h.max / 1e6).toFixed(1)} ms`,
    );
    results[`${s.name}.gapMs`] = g.maxGapMs;
    results[`${s.name}.cpuBlockMs`] = g.maxCpuMs;
  }
  results['blockMs'] = results['text.gapMs']!;
  results['gzipBlockMs'] = results['text+gzip.gapMs']!;
  await augur.close();
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMetrics();
