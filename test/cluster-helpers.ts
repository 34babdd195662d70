import { PeerEngine } from '../src/cluster/engine.js';
import { synthGroup, synthValue, type SynthGroup } from '../src/cluster/synthetic.js';

/** Adjusted Rand index of two labelings (Hubert and Arabie). */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const table = new Map<string, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]}:${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    rows.set(a[i]!, (rows.get(a[i]!) ?? 0) + 1);
    cols.set(b[i]!, (cols.get(b[i]!) ?? 0) + 1);
  }
  const c2 = (x: number) => (x * (x - 1)) / 2;
  let index = 0;
  for (const v of table.values()) index += c2(v);
  let sa = 0;
  for (const v of rows.values()) sa += c2(v);
  let sb = 0;
  for (const v of cols.values()) sb += c2(v);
  const expected = (sa * sb) / c2(n);
  const max = (sa + sb) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}

export const STEP_MS = 15_000;
export const T0 = Date.UTC(2025, 0, 1);

/** Adds one group of generated members with ids from `firstId`, returns the generator. */
export function addGroup(e: PeerEngine, firstId: number, job: string, n: number, k: number, seed: number, noise = 0.03): SynthGroup {
  e.resize(firstId + n);
  for (let i = 0; i < n; i++) e.addSeries(firstId + i, 'latency_seconds', [['job', job], ['instance', `i${i}`]]);
  return synthGroup(n, k, seed, noise);
}

/** Feeds `steps` samples to every member of every group, starting at step `from`. */
export function feed(e: PeerEngine, groups: { firstId: number; g: SynthGroup }[], from: number, steps: number): void {
  for (let s = from; s < from + steps; s++) {
    const t = T0 + s * STEP_MS;
    for (const { firstId, g } of groups) {
      for (let i = 0; i < g.truth.length; i++) e.observe(firstId + i, t, synthValue(g, i, t), 0);
    }
  }
}
