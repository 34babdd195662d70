import { spawnSync } from 'node:child_process';

/**
 * `npm run bench`: the core figures, each benchmark in its own process so that one's heap does not
 * disturb the next. The model benches have their own scripts (bench:nab, bench:detect,
 * bench:forecast, bench:cluster, bench:snapshot).
 */
const steps: [string, string[]][] = [
  ['ingest (remote write 1.0 over HTTP, null receiver baseline in the same run)', ['bench/ingest.ts']],
  ['request path stages, single thread', ['bench/pipeline.ts']],
  ['/metrics rendering', ['bench/metrics.ts']],
  ['memory per series, scoring state in one process', ['--expose-gc', '--max-old-space-size=8192', 'bench/memory.ts']],
  ['memory per series, a real augur serve fed over HTTP', ['bench/server-memory.ts']],
  ['taking in a million new series: longest requests and event-loop gaps', ['bench/growth.ts']],
  ['isolation forest: ml-isolation-forest against Augur\'s own', ['bench/forest.ts']],
];
let failed = 0;
for (const [title, args] of steps) {
  console.log(`\n== ${title}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
