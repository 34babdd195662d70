/**
 * NAB development split through `augur backtest`'s code path, scored with NAB's own scorer.
 *   npm run bench:nab [-- --data DIR] [--keep] [--files prefix,...]
 * DIR defaults to ../shared/nab-dev (needs data/, labels/ and score.mjs). Prints the three
 * profiles' normalised scores and, with --per-file, each file's best-threshold detections.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { backtestPath } from '../src/backtest/run.js';
import { defaultConfig, loadConfigFile } from '../src/config/load.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const nabDir = resolve(opt('--data') ?? join(import.meta.dirname, '../../shared/nab-dev'));
const configFile = opt('--config.file');
const config = configFile ? loadConfigFile(configFile) : defaultConfig();
const out = opt('--out') ?? mkdtempSync(join(tmpdir(), 'augur-nab-'));

const t0 = performance.now();
const files = await backtestPath(join(nabDir, 'data'), out, { config, type: 'gauge' });
const secs = (performance.now() - t0) / 1000;

const scoreArgs = [join(nabDir, 'score.mjs'), nabDir, out];
const only = opt('--files');
if (only) scoreArgs.push('--files', only);
const res = JSON.parse(execFileSync(process.execPath, scoreArgs, { encoding: 'utf8' })) as {
  files: number;
  windows: number;
  profiles: Record<string, { normalized: number; threshold: number; tp_points: number; fp_points: number }>;
};
console.log(`NAB development split: ${res.files} files, ${res.windows} windows, backtest ${secs.toFixed(2)} s`);
for (const [name, p] of Object.entries(res.profiles)) {
  console.log(`  ${name.padEnd(20)} ${p.normalized.toFixed(2).padStart(6)}   (threshold ${p.threshold}, tp points ${p.tp_points}, fp points ${p.fp_points})`);
}
console.log('  published on this split (standard): Numenta HTM 73.6, relative entropy 46.4, windowed Gaussian 35.0');
if (args.includes('--keep') || opt('--out')) console.log(`results in ${out} (${files.length} files)`);
else rmSync(out, { recursive: true, force: true });
