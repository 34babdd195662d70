import { medianInPlace } from './robust.js';
import { posMod } from '../util/modulo.js';

/** Scalar behaviour features appended to the normalised shape: level, spread, trend, seasonality. */
export const SCALARS = 4;

const W_LEVEL = 1;
const W_SPREAD = 0.5;
const W_TREND = 0.5;
const W_SEASONAL = 0.5;

/**
 * Behaviour features of one peer group. `x` holds `n` rows of `d = R + SCALARS` features for the
 * members with enough data (`index[i]` is the member's position within the group); `summary` holds
 * the same rows in the series' own units (filled window, level, spread, trend, seasonality), for
 * cluster centroids that a person can read.
 */
export interface GroupFeatures {
  n: number;
  d: number;
  x: Float64Array;
  summary: Float64Array;
  index: Int32Array;
}

/**
 * The group's members are series ids[start..end). `windows` holds, per series id, a ring of R
 * bucket means (slot = bucket number mod R, NaN where a bucket had no sample) laid out in R rows
 * of one entry per series (slot k of series id at k * windows.length / R + id); `lastBucket` is
 * each series' newest bucket. All members are aligned on the group's newest bucket so that
 * shapes compare at equal times.
 */
export function groupFeatures(
  windows: Float32Array,
  lastBucket: Float64Array,
  ids: Int32Array,
  start: number,
  end: number,
  R: number,
): GroupFeatures {
  const m = end - start;
  const d = R + SCALARS;
  const stride = windows.length / R;
  let ref = -Infinity;
  for (let p = start; p < end; p++) if (lastBucket[ids[p]!]! > ref) ref = lastBucket[ids[p]!]!;

  const summary = new Float64Array(m * d);
  const index = new Int32Array(m);
  const v = new Float64Array(R);
  let n = 0;
  for (let p = start; p < end; p++) {
    const id = ids[p]!;
    const lb = lastBucket[id]!;
    let valid = 0;
    for (let j = 0; j < R; j++) {
      const b = ref - (R - 1) + j;
      const ok = b <= lb && b > lb - R;
      const y = ok ? windows[posMod(b, R) * stride + id]! : NaN;
      v[j] = y;
      if (y === y) valid++;
    }
    if (valid < R / 2) continue;
    fillGaps(v, R);
    const row = summary.subarray(n * d, n * d + d);
    describeWindow(v, R, row);
    index[n++] = p - start;
  }

  const x = new Float64Array(n * d);
  if (n === 0) return { n, d, x, summary, index };

  // Group scale: typical spread of the members that move, so features are in units of "normal
  // wiggle". Flat members (idle handlers, empty buckets) are often most of a group; counted, they
  // would make the scale 0 and blow every mover's trend and level up to the floor's scale.
  const tmp = new Float64Array(n);
  let moving = 0;
  for (let i = 0; i < n; i++) {
    const spread = summary[i * d + R + 1]!;
    if (spread > 0) tmp[moving++] = spread;
  }
  let scale = moving > 0 ? medianInPlace(tmp, moving) : 0;
  for (let i = 0; i < n; i++) tmp[i] = summary[i * d + R]!;
  const medLevel = medianInPlace(tmp, n);
  scale = Math.max(scale, 1e-9 * Math.max(1, Math.abs(medLevel)), 1e-300);
  // Level and trend differences of a few percent are not different behaviour.
  const levelScale = Math.max(scale, 0.05 * Math.abs(medLevel));
  const invSqrtR = 1 / Math.sqrt(R);

  for (let i = 0; i < n; i++) {
    const s = i * d;
    const level = summary[s + R]!;
    const spread = summary[s + R + 1]!;
    const trend = summary[s + R + 2]!;
    const seasonal = summary[s + R + 3]!;
    // z-normalised shape, shrunk towards 0 for rough (noise-like) windows: otherwise noise alone
    // would put every steady series on the unit sphere, far from its steady siblings.
    const weight = spread > 0 ? smoothness(summary, s, R, level) / spread : 0;
    for (let j = 0; j < R; j++) x[s + j] = (summary[s + j]! - level) * weight * invSqrtR;
    x[s + R] = W_LEVEL * Math.asinh((level - medLevel) / levelScale);
    x[s + R + 1] = W_SPREAD * clamp(Math.log(Math.max(spread, 1e-300) / scale), -3, 3);
    x[s + R + 2] = W_TREND * Math.asinh(trend / levelScale);
    x[s + R + 3] = W_SEASONAL * seasonal;
  }
  return { n, d, x, summary, index };
}

/** 0 for white noise (lag-1 autocorrelation below 0.3), 1 for smooth windows (above 0.75). */
function smoothness(row: Float64Array, s: number, R: number, mean: number): number {
  let c = 0;
  let ss = 0;
  for (let j = 0; j < R; j++) {
    const a = row[s + j]! - mean;
    ss += a * a;
    if (j > 0) c += a * (row[s + j - 1]! - mean);
  }
  return ss > 0 ? clamp((c / ss - 0.3) / 0.45, 0, 1) : 0;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Linear interpolation inside, nearest value at the ends. Needs at least one finite value. */
function fillGaps(v: Float64Array, R: number): void {
  let prev = -1;
  for (let j = 0; j < R; j++) {
    if (v[j] !== v[j]) continue;
    if (prev < 0) for (let k = 0; k < j; k++) v[k] = v[j]!;
    else if (j - prev > 1) {
      const a = v[prev]!;
      const step = (v[j]! - a) / (j - prev);
      for (let k = prev + 1; k < j; k++) v[k] = a + step * (k - prev);
    }
    prev = j;
  }
  for (let k = prev + 1; k < R; k++) v[k] = v[prev]!;
}

/** Writes the window, then level, spread (std), trend (change over the window), seasonality. */
function describeWindow(v: Float64Array, R: number, row: Float64Array): void {
  let sum = 0;
  for (let j = 0; j < R; j++) sum += v[j]!;
  const mean = sum / R;
  const tMean = (R - 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let ss = 0;
  for (let j = 0; j < R; j++) {
    const dy = v[j]! - mean;
    const dt = j - tMean;
    sxy += dt * dy;
    sxx += dt * dt;
    ss += dy * dy;
    row[j] = v[j]!;
  }
  const slope = sxy / sxx;
  // Seasonality: strongest autocorrelation of the detrended window at lags 2..R/2.
  let rss = 0;
  for (let j = 0; j < R; j++) {
    const r = v[j]! - mean - slope * (j - tMean);
    rss += r * r;
  }
  let seasonal = 0;
  if (rss > 1e-12 * (ss + 1e-300)) {
    for (let lag = 2; lag <= R >> 1; lag++) {
      let c = 0;
      for (let j = lag; j < R; j++) {
        const a = v[j]! - mean - slope * (j - tMean);
        const b = v[j - lag]! - mean - slope * (j - lag - tMean);
        c += a * b;
      }
      const r = c / rss;
      if (r > seasonal) seasonal = r;
    }
  }
  // white noise reaches about 0.2 at some lag by chance
  seasonal = Math.max(0, (seasonal - 0.2) / 0.6);
  row[R] = mean;
  row[R + 1] = Math.sqrt(ss / R);
  row[R + 2] = slope * (R - 1);
  row[R + 3] = Math.min(1, seasonal);
}
