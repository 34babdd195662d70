/**
 * A compact isolation forest over fixed-width feature rows, stored in flat typed arrays so that
 * scoring one row walks at most `depth` nodes per tree without allocating, and so that a trained
 * forest can be moved between threads as two buffers. Trees are complete binary heaps (children of
 * node i at 2i+1 and 2i+2); a leaf has feature -1 and holds its path length (depth plus the
 * expected remaining depth of the points it still holds).
 */
export const FEATURES = 5;
export const TREES = 20;
export const SUBSAMPLE = 64;
export const DEPTH = Math.ceil(Math.log2(SUBSAMPLE));
export const NODES = (1 << (DEPTH + 1)) - 1;

/** Average path length of an unsuccessful BST search among n points (the forest's normaliser). */
export function avgPath(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n;
}

export class Forest {
  constructor(
    readonly feat: Int8Array,
    readonly split: Float32Array,
    /** Mean and spread of the training rows' anomaly scores, to turn a score into sigmas. */
    readonly mean: number,
    readonly spread: number,
  ) {}

  /** Isolation-forest anomaly score in (0, 1): about 0.5 for ordinary rows, near 1 for outliers. */
  score(row: Float64Array): number {
    const feat = this.feat;
    const split = this.split;
    let h = 0;
    for (let t = 0, base = 0; t < TREES; t++, base += NODES) {
      let i = 0;
      let f = feat[base]!;
      while (f >= 0) {
        i = row[f]! < split[base + i]! ? 2 * i + 1 : 2 * i + 2;
        f = feat[base + i]!;
      }
      h += split[base + i]!;
    }
    return Math.pow(2, -h / TREES / avgPath(SUBSAMPLE));
  }
}

/** Small deterministic PRNG (mulberry32) so training is reproducible in backtests. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Trains a forest on `rows` rows of FEATURES values each (row-major). Off the hot path. */
export function trainForest(data: Float32Array, rows: number, seed: number): Forest {
  const feat = new Int8Array(TREES * NODES).fill(-1);
  const split = new Float32Array(TREES * NODES);
  const rand = rng(seed);
  const idx = new Int32Array(SUBSAMPLE);
  const psi = Math.min(SUBSAMPLE, rows);
  for (let t = 0; t < TREES; t++) {
    // Sample without replacement (partial Fisher-Yates over an index permutation).
    const perm = new Int32Array(rows);
    for (let i = 0; i < rows; i++) perm[i] = i;
    for (let i = 0; i < psi; i++) {
      const j = i + Math.floor(rand() * (rows - i));
      const tmp = perm[i]!; perm[i] = perm[j]!; perm[j] = tmp;
      idx[i] = perm[i]!;
    }
    build(data, idx, 0, psi, t * NODES, 0, 0, feat, split, rand);
  }
  const probe = new Float64Array(FEATURES);
  const forest0 = new Forest(feat, split, 0, 1);
  let s1 = 0, s2 = 0;
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < FEATURES; f++) probe[f] = data[r * FEATURES + f]!;
    const s = forest0.score(probe);
    s1 += s;
    s2 += s * s;
  }
  const mean = s1 / rows;
  const spread = Math.sqrt(Math.max(s2 / rows - mean * mean, 0)) + 0.01;
  return new Forest(feat, split, mean, spread);
}

function build(
  data: Float32Array, idx: Int32Array, lo: number, hi: number, base: number, node: number, depth: number,
  feat: Int8Array, split: Float32Array, rand: () => number,
): void {
  const n = hi - lo;
  if (depth >= DEPTH || n <= 1) {
    feat[base + node] = -1;
    split[base + node] = depth + avgPath(n);
    return;
  }
  // Pick a random feature that still varies among these rows.
  const start = Math.floor(rand() * FEATURES);
  for (let k = 0; k < FEATURES; k++) {
    const f = (start + k) % FEATURES;
    let mn = Infinity, mx = -Infinity;
    for (let i = lo; i < hi; i++) {
      const v = data[idx[i]! * FEATURES + f]!;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (mx > mn) {
      const s = mn + rand() * (mx - mn);
      let a = lo, b = hi - 1;
      while (a <= b) {
        if (data[idx[a]! * FEATURES + f]! < s) a++;
        else { const tmp = idx[a]!; idx[a] = idx[b]!; idx[b] = tmp; b--; }
      }
      if (a === lo || a === hi) continue;
      feat[base + node] = f;
      split[base + node] = s;
      build(data, idx, lo, a, base, 2 * node + 1, depth + 1, feat, split, rand);
      build(data, idx, a, hi, base, 2 * node + 2, depth + 1, feat, split, rand);
      return;
    }
  }
  feat[base + node] = -1;
  split[base + node] = depth + avgPath(n);
}
