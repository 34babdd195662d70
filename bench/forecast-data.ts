import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { mulberry32 } from '../src/util/prng.js';

export interface Series {
  name: string;
  group: string;
  t: Float64Array;
  x: Float64Array;
}

/** Reads every `timestamp,value` CSV below `dir` (timestamps `YYYY-MM-DD HH:MM:SS`, UTC). */
export function loadCsvDir(dir: string): Series[] {
  const out: Series[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.csv')) out.push(loadCsv(p, relative(dir, p)));
    }
  };
  walk(dir);
  return out;
}

function loadCsv(path: string, name: string): Series {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const t: number[] = [];
  const x: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const comma = line.indexOf(',');
    const ts = Date.parse(line.slice(0, comma).replace(' ', 'T') + 'Z');
    const v = Number(line.slice(comma + 1));
    if (Number.isFinite(ts) && Number.isFinite(v)) {
      t.push(ts);
      x.push(v);
    }
  }
  const group = name.includes('/') ? name.slice(0, name.indexOf('/')) : 'default';
  return { name, group, t: Float64Array.from(t), x: Float64Array.from(x) };
}

function gauss(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/**
 * Seasonal series like those Prometheus holds: one sample a minute for 14 days, with daily (and
 * some 6-hour) seasons, trends, business-hours plateaus, random-walk levels and noise.
 */
export function generateSeasonal(count = 12, days = 14, intervalMs = 60_000, seed = 42): Series[] {
  const out: Series[] = [];
  const rnd = mulberry32(seed);
  const start = Date.UTC(2024, 0, 1);
  const n = Math.floor((days * 86_400_000) / intervalMs);
  const kinds = ['daily', 'daily_trend', 'business', 'six_hour', 'daily_walk', 'daily_weekly'] as const;
  for (let s = 0; s < count; s++) {
    const kind = kinds[s % kinds.length]!;
    const level = 50 + 100 * rnd();
    const amp = level * (0.2 + 0.4 * rnd());
    const noise = amp * (0.05 + 0.3 * rnd());
    const phase = rnd() * 2 * Math.PI;
    const trend = (level * (rnd() - 0.3)) / (days * 86_400_000);
    const t = new Float64Array(n);
    const x = new Float64Array(n);
    let walk = 0;
    let ar = 0;
    for (let i = 0; i < n; i++) {
      const ts = start + i * intervalMs;
      const day = (2 * Math.PI * (ts % 86_400_000)) / 86_400_000;
      ar = 0.9 * ar + gauss(rnd) * noise * 0.45;
      let v = level;
      switch (kind) {
        case 'daily':
          v += amp * Math.sin(day + phase);
          break;
        case 'daily_trend':
          v += amp * Math.sin(day + phase) + trend * (ts - start);
          break;
        case 'business': {
          const hour = (ts % 86_400_000) / 3_600_000;
          v += hour >= 8 && hour < 18 ? amp : 0;
          v += 0.3 * amp * Math.sin(day * 2 + phase);
          break;
        }
        case 'six_hour':
          v += amp * Math.sin(day * 4 + phase);
          break;
        case 'daily_walk':
          walk += gauss(rnd) * noise * 0.05;
          v += amp * Math.sin(day + phase) + walk;
          break;
        case 'daily_weekly': {
          const dow = Math.floor((ts - start) / 86_400_000) % 7;
          v += amp * Math.sin(day + phase) * (dow >= 5 ? 0.4 : 1);
          break;
        }
      }
      t[i] = ts;
      x[i] = v + gauss(rnd) * noise * 0.5 + ar;
    }
    out.push({ name: `generated/${kind}_${s}`, group: kind, t, x });
  }
  return out;
}

/**
 * Steep trends, one sample a minute: sawtooth ramps (2 h and 3 h, then a drop to the base) and
 * exponential growth (10% and 50% a day), with a little noise. Every model lags or leads them, so
 * their forecast errors are biased; they show how the intervals hold up inside the open bucket,
 * where the outputs are forecasts made between bucket ends.
 */
export function generateSteep(days = 14, intervalMs = 60_000, seed = 7): Series[] {
  const rnd = mulberry32(seed);
  const start = Date.UTC(2024, 0, 1);
  const n = Math.floor((days * 86_400_000) / intervalMs);
  const specs = [
    { kind: 'sawtooth_2h', period: 7_200_000, rate: 0, noise: 0 },
    { kind: 'sawtooth_3h', period: 10_800_000, rate: 0, noise: 0.01 },
    { kind: 'exponential_10pct', period: 0, rate: Math.log(1.1), noise: 0 },
    { kind: 'exponential_50pct', period: 0, rate: Math.log(1.5), noise: 0.002 },
  ];
  return specs.map(({ kind, period, rate, noise }) => {
    const t = new Float64Array(n);
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const ts = start + i * intervalMs;
      const days = (ts - start) / 86_400_000;
      const v = period > 0 ? 100 + 10 * ((ts / 1000) % (period / 1000)) : 100 * Math.exp(rate * days);
      t[i] = ts;
      x[i] = v * (1 + noise * gauss(rnd));
    }
    return { name: `steep/${kind}`, group: 'steep', t, x };
  });
}
