/**
 * NAB development split through `augur backtest`'s code path, scored with NAB's own scorer.
 *   npm run bench:nab [-- --data DIR] [--keep] [--files prefix,...] [--per-file]
 * DIR defaults to ../shared/nab-dev (needs data/, labels/ and score.mjs). Prints the three
 * profiles' normalised scores and, with --per-file, each file's contribution at the corpus
 * threshold (window hits and misses, false positives).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
if (args.includes('--per-file')) perFile(res.profiles.standard!.threshold);
if (args.includes('--keep') || opt('--out')) console.log(`results in ${out} (${files.length} files)`);
else rmSync(out, { recursive: true, force: true });

/**
 * Each file's contribution under the standard profile at the corpus threshold: window rewards
 * (earliest detection, NAB's scaled sigmoid) and false-positive costs, as NAB's sweeper counts
 * them; a missed window shows its best score. For diagnosis only: settings stay corpus-wide.
 */
function perFile(threshold: number): void {
  const windows = JSON.parse(readFileSync(join(nabDir, 'labels/combined_windows.json'), 'utf8')) as Record<string, string[][]>;
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  const scaled = (p: number) => (p > 3 ? -1 : 2 * sig(-5 * p) - 1);
  const rows: [number, string][] = [];
  for (const [name, wins] of Object.entries(windows)) {
    if (only && !only.split(',').some((p) => name.startsWith(p))) continue;
    const lines = readFileSync(join(out, name), 'utf8').trim().split(/\r?\n/);
    const head = lines[0]!.split(',');
    const ti = head.indexOf('timestamp'), si = head.indexOf('anomaly_score');
    const ts = lines.slice(1).map((l) => l.split(',')[ti]!.slice(0, 19));
    const sc = lines.slice(1).map((l) => Number(l.split(',')[si]) || 0);
    const probation = Math.min(Math.floor(0.15 * ts.length), 750);
    const wl = wins.map((w) => [ts.indexOf(w[0]!.slice(0, 19)), ts.indexOf(w[1]!.slice(0, 19))] as const);
    let total = 0, fps = 0, prevEnd = -1, prevLen = 0, wi = 0;
    const notes: string[] = [];
    let best = -1, maxIn = 0, inWin = false;
    for (let i = 0; i < ts.length; i++) {
      const w = wl[wi];
      if (w && i === w[0]) { inWin = true; best = -1; maxIn = 0; }
      if (inWin && w) {
        maxIn = Math.max(maxIn, sc[i]!);
        if (sc[i]! >= threshold && best < 0 && i >= probation) best = scaled(-(w[1] - i + 1) / (w[1] - w[0] + 1)) / scaled(-1);
        if (i === w[1]) {
          inWin = false; prevEnd = i; prevLen = w[1] - w[0] + 1; wi++;
          total += best > 0 ? best : -1;
          notes.push(best > 0 ? `hit ${best.toFixed(2)}` : `MISS (max ${maxIn.toFixed(3)})`);
        }
      } else if (i >= probation && sc[i]! >= threshold) {
        fps++;
        total += (prevEnd < 0 ? -1 : scaled(Math.abs(prevEnd - i) / (prevLen - 1))) * 0.11;
      }
    }
    rows.push([total, `${total.toFixed(2).padStart(6)}  ${name.padEnd(58)} fp ${String(fps).padStart(3)}  ${notes.join(', ')}`]);
  }
  console.log(`per file (standard, threshold ${threshold.toFixed(4)}), worst first:`);
  for (const [, line] of rows.sort((a, b) => a[0] - b[0])) console.log('  ' + line);
}
