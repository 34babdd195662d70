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
