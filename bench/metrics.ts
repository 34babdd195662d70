import { monitorEventLoopDelay } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { encodeRounds, makeWorkload } from './lib/workload.js';
import { Augur } from '../src/augur.js';
import { defaultConfig, loadConfigFile } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { Receiver } from '../src/ingest/receiver.js';

/** `/metrics` for 100,000 scored series: render time, size, and the longest event-loop block. */
const SERIES = Number(process.env.BENCH_SERIES ?? 100_000);

/** The longest gap between ticks of a 1 ms timer, from now until `stop()`. */
function gapTracker(): { stop(): number } {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return max;
    },
  };
}

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
  const results: Record<string, number> = {};
  {
    // Baseline: the longest block over 3 s without a scrape (background model rounds included).
    const gaps = gapTracker();
    await new Promise((r) => setTimeout(r, 3000));
    console.log(`no scrape, 3 s   longest event-loop block ${gaps.stop().toFixed(1)} ms`);
  }
  for (const gzip of [false, true]) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    const gaps = gapTracker();
    h.enable();
    const started = performance.now();
    // The scraper is another process (curl), as Prometheus would be.
    const stats = await new Promise<string>((resolve, reject) => {
      const args = ['-s', '-o', '/dev/null', '-w', '%{size_download} %{http_code}', ...(gzip ? ['-H', 'Accept-Encoding: gzip'] : []), url + '/metrics'];
      const c = spawn('curl', args);
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('error', reject);
      c.on('exit', () => resolve(out));
    });
    const ms = performance.now() - started;
    h.disable();
    const maxGap = gaps.stop();
    const [bytes, code] = stats.split(' ');
    console.log(
      `/metrics${gzip ? ' (gzip)' : '       '}  HTTP ${code}, ${ms.toFixed(0)} ms, ${(Number(bytes) / 2 ** 20).toFixed(1)} MiB on the wire, ` +
        `${SERIES} series, longest event-loop block ${maxGap.toFixed(1)} ms (histogram max ${(h.max / 1e6).toFixed(1)} ms)`,
    );
    results[gzip ? 'gzipBlockMs' : 'blockMs'] = maxGap;
  }
  await augur.close();
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMetrics();
