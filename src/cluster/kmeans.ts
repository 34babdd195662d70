import { mulberry32 } from '../util/prng.js';

/** Deterministic PRNG: rounds are reproducible for a given group and round. */
export const rng = mulberry32;

export interface KMeansResult {
  k: number;
  centroids: Float64Array;
  assign: Int32Array;
  inertia: number;
}

export function sqDist(a: Float64Array, ai: number, b: Float64Array, bi: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = a[ai + j]! - b[bi + j]!;
    s += t * t;
  }
  return s;
}

/** k-means++ seeding. */
function seed(x: Float64Array, n: number, d: number, k: number, rand: () => number): Float64Array {
  const c = new Float64Array(k * d);
  const best = new Float64Array(n).fill(Infinity);
  let pick = Math.floor(rand() * n);
  for (let ci = 0; ci < k; ci++) {
    c.set(x.subarray(pick * d, pick * d + d), ci * d);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const dd = sqDist(x, i * d, c, ci * d, d);
      if (dd < best[i]!) best[i] = dd;
      total += best[i]!;
    }
    if (ci + 1 === k) break;
    if (total === 0) {
      pick = Math.floor(rand() * n);
      continue;
    }
    let r = rand() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= best[i]!;
      if (r <= 0) {
        pick = i;
        break;
      }
    }
  }
  return c;
}

/** Lloyd iterations from `init` (k-means++ when absent). Empty clusters are dropped. */
export function kmeans(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  rand: () => number,
  init?: Float64Array,
  maxIter = 30,
): KMeansResult {
  k = Math.max(1, Math.min(k, n));
  let c = init ? init.slice(0, k * d) : seed(x, n, d, k, rand);
  const assign = new Int32Array(n).fill(-1);
  const counts = new Int32Array(k);
  let inertia = 0;
  for (let it = 0; it < maxIter; it++) {
    let moved = 0;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let bi = 0;
      let bd = Infinity;
      for (let ci = 0; ci < k; ci++) {
        const dd = sqDist(x, i * d, c, ci * d, d);
        if (dd < bd) {
          bd = dd;
          bi = ci;
        }
      }
      inertia += bd;
      if (assign[i] !== bi) {
        assign[i] = bi;
        moved++;
      }
    }
    if (moved === 0 && it > 0) break;
    c.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const ci = assign[i]!;
      counts[ci]!++;
      for (let j = 0; j < d; j++) c[ci * d + j]! += x[i * d + j]!;
    }
    for (let ci = 0; ci < k; ci++) {
      const cnt = counts[ci]!;
      if (cnt > 0) for (let j = 0; j < d; j++) c[ci * d + j]! /= cnt;
    }
  }
  // Compact away empty clusters.
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[assign[i]!]!++;
  const remap = new Int32Array(k).fill(-1);
  let kk = 0;
  for (let ci = 0; ci < k; ci++) if (counts[ci]! > 0) remap[ci] = kk++;
  if (kk < k) {
    const c2 = new Float64Array(kk * d);
    for (let ci = 0; ci < k; ci++) if (remap[ci]! >= 0) c2.set(c.subarray(ci * d, ci * d + d), remap[ci]! * d);
    for (let i = 0; i < n; i++) assign[i] = remap[assign[i]!]!;
    c = c2;
  }
  return { k: kk, centroids: c, assign, inertia };
}

/** Pairwise Euclidean distances of a sample of rows: the silhouette needs them for every k. */
export function sampleDistances(x: Float64Array, d: number, sample: Int32Array): Float64Array {
  const m = sample.length;
  const dist = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    for (let b = a + 1; b < m; b++) {
      const dd = Math.sqrt(sqDist(x, sample[a]! * d, x, sample[b]! * d, d));
      dist[a * m + b] = dd;
      dist[b * m + a] = dd;
    }
  }
  return dist;
}

/** Mean silhouette of the sample under `assign`. */
export function silhouette(dist: Float64Array, sample: Int32Array, assign: Int32Array, k: number): number {
  const m = sample.length;
  const sums = new Float64Array(k);
  const counts = new Int32Array(k);
  for (let a = 0; a < m; a++) counts[assign[sample[a]!]!]!++;
  let total = 0;
  for (let a = 0; a < m; a++) {
    const own = assign[sample[a]!]!;
    if (counts[own]! <= 1) continue; // s = 0 for singletons
    sums.fill(0);
    for (let b = 0; b < m; b++) if (b !== a) sums[assign[sample[b]!]!]! += dist[a * m + b]!;
    const ai = sums[own]! / (counts[own]! - 1);
    let bi = Infinity;
    for (let ci = 0; ci < k; ci++) {
      if (ci === own || counts[ci] === 0) continue;
      const v = sums[ci]! / counts[ci]!;
      if (v < bi) bi = v;
    }
    const den = Math.max(ai, bi);
    if (den > 0 && bi < Infinity) total += (bi - ai) / den;
  }
  return total / m;
}

export interface ChosenK {
  result: KMeansResult;
  silhouette: number;
}

const SILHOUETTE_SAMPLE = 200;
const SELECTION_SAMPLE = 300;

/**
 * k from 1..kmax by the mean silhouette; one cluster when no k >= 2 reaches `minSilhouette`
 * (the silhouette is undefined for k = 1, so that threshold stands for "no structure"). Large
 * groups choose k on a sample and then run k-means on all rows from the sample's centroids.
 * `prefer` (last round's model) also seeds a run at its k, and that k wins when its silhouette
 * is within 0.05 of the best, so that noise and unlucky seeds do not make k (and with it cluster
 * ids) flap between rounds.
 */
export function chooseK(
  x: Float64Array,
  n: number,
  d: number,
  kmax: number,
  minSilhouette: number,
  rand: () => number,
  prefer?: { k: number; centroids: Float64Array },
): ChosenK {
  const preferK = prefer?.k ?? 0;
  const top = Math.min(kmax, n - 1, Math.floor(n / 2));
  if (top < 2) return { result: kmeans(x, n, d, 1, rand), silhouette: 0 };
  let xs = x;
  let ns = n;
  if (n > SELECTION_SAMPLE) {
    ns = SELECTION_SAMPLE;
    xs = new Float64Array(ns * d);
    const pick = spread(n, ns, rand);
    for (let i = 0; i < ns; i++) xs.set(x.subarray(pick[i]! * d, pick[i]! * d + d), i * d);
  }
  const sample = spread(ns, Math.min(ns, SILHOUETTE_SAMPLE), rand);
  const dist = sampleDistances(xs, d, sample);
  let best: KMeansResult | undefined;
  let bestScore = -Infinity;
  let worse = 0;
  let preferred: KMeansResult | undefined;
  let preferredScore = -Infinity;
  for (let k = 2; k <= top && (worse < 2 || k <= preferK); k++) {
    let r = kmeans(xs, ns, d, k, rand, undefined, 20);
    // a second seeding (or last round's centroids) guards against a poor local optimum
    const again = kmeans(xs, ns, d, k, rand, k === preferK ? prefer!.centroids : undefined, 20);
    if (again.inertia < r.inertia) r = again;
    if (r.k < 2) continue;
    const s = silhouette(dist, sample, r.assign, r.k);
    if (k === preferK) {
      preferred = r;
      preferredScore = s;
    }
    if (s > bestScore + 1e-9) {
      bestScore = s;
      best = r;
      worse = 0;
    } else worse++; // past the peak: larger k only splits real clusters
  }
  if (preferred && preferredScore >= minSilhouette && preferredScore >= bestScore - 0.05) {
    best = preferred;
    bestScore = preferredScore;
  }
  if (!best || bestScore < minSilhouette) return { result: kmeans(x, n, d, 1, rand), silhouette: Math.max(0, bestScore) };
  const result = xs === x ? best : kmeans(x, n, d, best.k, rand, best.centroids);
  return { result, silhouette: bestScore };
}

/** m distinct indices out of n, spread evenly with random offsets. */
function spread(n: number, m: number, rand: () => number): Int32Array {
  const out = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const lo = Math.floor((i * n) / m);
    const hi = Math.floor(((i + 1) * n) / m);
    out[i] = lo + Math.floor(rand() * (hi - lo));
  }
  return out;
}
