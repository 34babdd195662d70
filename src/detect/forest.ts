import { mulberry32 } from '../util/prng.js';
/**
 * A compact isolation forest over fixed-width feature rows, stored in flat typed arrays so that
 * scoring one row walks DEPTH nodes per tree without allocating, and so that a trained
 * forest can be moved between threads as two buffers. Trees are complete binary heaps of depth
 * DEPTH (children of node i at 2i+1 and 2i+2). Every walk takes exactly DEPTH steps: a node that
 * isolates its points early is padded, and every bottom node under it holds the same path length
 * (its depth plus the expected remaining depth of the points it still holds), so the walk has no
 * data-dependent loop exit and the direction taken below an early leaf does not matter. Splits,
 * features and path lengths are fixed point (int32), and the 2i+1 or 2i+2 choice is computed from
 * the sign of x - split, not branched on: scoring does not stall on mispredictions.
 */
export const FEATURES = 5;
/** A multiple of 4 (scoring walks four trees at a time). */
export const TREES = 12;
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
    /** Split values and, at the bottom level, path lengths, both in fixed point (Q_SCALE). */
    readonly split: Int32Array,
    /** Mean and spread of the training rows' anomaly scores, to turn a score into sigmas. */
    readonly mean: number,
    readonly spread: number,
  ) {}

  /** Isolation-forest anomaly score in (0, 1): about 0.5 for ordinary rows, near 1 for outliers. */
  score(row: Float64Array): number {
    const feat = this.feat;
    const split = this.split;
    const q = QROW;
    for (let k = 0; k < FEATURES; k++) q[k] = quantize(row[k]!);
    let h = 0;
    // Branch-free walk: (x - s) >> 31 is -1 exactly when x < s, else 0 (both are within ±2^26),
    // so no step depends on a prediction. Four trees are walked in lockstep: each walk is a chain
    // of dependent loads, and interleaving them lets the CPU overlap their latencies.
    for (let b0 = 0; b0 < TREES * NODES; b0 += 4 * NODES) {
      const b1 = b0 + NODES, b2 = b1 + NODES, b3 = b2 + NODES;
      let i0 = 0, i1 = 0, i2 = 0, i3 = 0;
      for (let d = 0; d < DEPTH; d++) {
        i0 = 2 * i0 + 2 + ((q[feat[b0 + i0]!]! - split[b0 + i0]!) >> 31);
        i1 = 2 * i1 + 2 + ((q[feat[b1 + i1]!]! - split[b1 + i1]!) >> 31);
        i2 = 2 * i2 + 2 + ((q[feat[b2 + i2]!]! - split[b2 + i2]!) >> 31);
        i3 = 2 * i3 + 2 + ((q[feat[b3 + i3]!]! - split[b3 + i3]!) >> 31);
      }
      h += split[b0 + i0]! + split[b1 + i1]! + split[b2 + i2]! + split[b3 + i3]!;
    }
    return Math.pow(2, -h * INV_NORM);
  }
}

/** Fixed-point scale of features, splits and leaf path lengths (features are clipped to ±8). */
const Q_SCALE = 1 << 20;
const Q_MAX = 64 * Q_SCALE;
const QROW = new Int32Array(FEATURES);
const INV_NORM = 1 / (Q_SCALE * TREES * avgPath(SUBSAMPLE));

function quantize(v: number): number {
  const x = v * Q_SCALE;
  return x > Q_MAX ? Q_MAX : x < -Q_MAX ? -Q_MAX : x | 0;
}


/** Trains a forest on `rows` rows of FEATURES values each (row-major). Off the hot path. */
export function trainForest(data: Float32Array, rows: number, seed: number): Forest {
  const feat = new Int8Array(TREES * NODES);
  const split = new Int32Array(TREES * NODES);
  const rand = mulberry32(seed); // reproducible training in backtests
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
  feat: Int8Array, split: Int32Array, rand: () => number,
): void {
  const n = hi - lo;
  if (depth >= DEPTH || n <= 1) {
    leaf(base, node, depth, depth + avgPath(n), feat, split);
    return;
  }
  // Pick a random feature that still varies among these rows.
  const start = Math.floor(rand() * FEATURES);
  for (let k = 0; k < FEATURES; k++) {
    const f = (start + k) % FEATURES;
    let mn = Infinity, mx = -Infinity;
    for (let i = lo; i < hi; i++) {
      const v = quantize(data[idx[i]! * FEATURES + f]!);
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (mx > mn) {
      const s = mn + Math.floor(rand() * (mx - mn)) + 1; // in (mn, mx]: both sides non-empty
      let a = lo, b = hi - 1;
      while (a <= b) {
        if (quantize(data[idx[a]! * FEATURES + f]!) < s) a++;
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
  leaf(base, node, depth, depth + avgPath(n), feat, split);
}

/** Makes `node` a leaf of path length `h`: every bottom node of its subtree holds h. */
function leaf(base: number, node: number, depth: number, h: number, feat: Int8Array, split: Int32Array): void {
  let lo = node, hi = node;
  for (let d = depth; d < DEPTH; d++) {
    for (let i = lo; i <= hi; i++) { feat[base + i] = 0; split[base + i] = 0; }
    lo = 2 * lo + 1;
    hi = 2 * hi + 2;
  }
  for (let i = lo; i <= hi; i++) { feat[base + i] = 0; split[base + i] = quantize(h); }
}
