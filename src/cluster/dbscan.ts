import { sqDist } from './kmeans.js';
import { medianInPlace, quantileInPlace } from './robust.js';

const EPS_SAMPLE = 64;

/**
 * Automatic eps: 3 times the upper quartile of the minPts-distance (distance to the
 * (minPts-1)-th nearest other point) of a sample measured against all points. Outliers sit far
 * out in that distribution, so the upper quartile still describes ordinary members.
 */
export function autoEps(x: Float64Array, n: number, d: number, minPts: number, rand: () => number): number {
  const kth = Math.min(minPts - 1, n - 1);
  if (kth < 1) return Infinity;
  const m = Math.min(n, EPS_SAMPLE);
  const kd = new Float64Array(m);
  const near = new Float64Array(kth);
  for (let s = 0; s < m; s++) {
    const i = m === n ? s : Math.floor(rand() * n);
    near.fill(Infinity);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      insertSmallest(near, kth, sqDist(x, i * d, x, j * d, d));
    }
    kd[s] = Math.sqrt(near[kth - 1]!);
  }
  const q = quantileInPlace(kd, m, 0.75);
  const med = medianInPlace(kd, m);
  return Math.max(3 * q, med, EPS_FLOOR);
}

/**
 * Below this, a difference in features is not a difference in behaviour (features are in units of
 * the group's normal wiggle): peers that are identical (idle, flat at zero) would otherwise make
 * any sibling with the slightest movement a density outlier.
 */
const EPS_FLOOR = 0.1;

/**
 * Density outliers judged among peers: row i is compared only with the rows of its peer set
 * (`part[i]`), with an eps of the set's own (from its k-distances when `eps` is 0). A set with
 * fewer than minPts rows has no density to depart from: its rows score 0. Returns the median of
 * the sets' eps, 0 when no set has minPts rows.
 */
export function peerDensityOutliers(
  x: Float64Array,
  n: number,
  d: number,
  part: Int32Array,
  eps: number,
  minPts: number,
  assign: Int32Array,
  k: number,
  rand: () => number,
  score: Float64Array,
): number {
  score.fill(0, 0, n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => part[a]! - part[b]! || a - b);
  const epsOfSets: number[] = [];
  for (let s = 0; s < n; ) {
    let e = s + 1;
    while (e < n && part[order[e]!] === part[order[s]!]) e++;
    const m = e - s;
    if (m >= minPts) {
      const sub = new Float64Array(m * d);
      const subAssign = new Int32Array(m);
      for (let r = 0; r < m; r++) {
        const i = order[s + r]!;
        sub.set(x.subarray(i * d, i * d + d), r * d);
        subAssign[r] = assign[i]!;
      }
      const setEps = eps > 0 ? eps : autoEps(sub, m, d, minPts, rand);
      epsOfSets.push(setEps);
      const subScore = new Float64Array(m);
      densityOutliers(sub, m, d, setEps, minPts, subAssign, k, subScore);
      for (let r = 0; r < m; r++) score[order[s + r]!] = subScore[r]!;
    }
    s = e;
  }
  if (epsOfSets.length === 0) return 0;
  return medianInPlace(Float64Array.from(epsOfSets), epsOfSets.length);
}

function insertSmallest(near: Float64Array, k: number, v: number): void {
  if (v >= near[k - 1]!) return;
  let j = k - 1;
  while (j > 0 && near[j - 1]! > v) {
    near[j] = near[j - 1]!;
    j--;
  }
  near[j] = v;
}

/**
 * DBSCAN noise points: neither core (at least minPts points, itself included, within eps) nor
 * within eps of a core point. Writes a density outlier score per row into `score`: 0 for
 * clustered rows, for noise rows how far beyond eps their minPts-distance lies (eps -> 0,
 * 2 eps -> 0.5, 3 eps -> 1). The k-means assignment orders the search so that ordinary points
 * find their neighbours in their own cluster first and stop early. Returns the noise count.
 */
export function densityOutliers(
  x: Float64Array,
  n: number,
  d: number,
  eps: number,
  minPts: number,
  assign: Int32Array,
  k: number,
  score: Float64Array,
): number {
  score.fill(0, 0, n);
  if (n < minPts) return 0;
  const eps2 = eps * eps;
  // rows grouped by k-means cluster
  const start = new Int32Array(k + 1);
  for (let i = 0; i < n; i++) start[assign[i]! + 1]!++;
  for (let c = 0; c < k; c++) start[c + 1]! += start[c]!;
  const byCluster = new Int32Array(n);
  const fill = start.slice(0, k);
  for (let i = 0; i < n; i++) byCluster[fill[assign[i]!]!++] = i;

  const core = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let count = 1;
    const own = assign[i]!;
    for (let t = 0; t < k && count < minPts; t++) {
      const c = t === 0 ? own : t <= own ? t - 1 : t;
      for (let p = start[c]!; p < start[c + 1]! && count < minPts; p++) {
        const j = byCluster[p]!;
        if (j !== i && sqDist(x, i * d, x, j * d, d) <= eps2) count++;
      }
    }
    if (count >= minPts) core[i] = 1;
  }

  let noise = 0;
  const kth = minPts - 1;
  const near = new Float64Array(kth);
  for (let i = 0; i < n; i++) {
    if (core[i]) continue;
    let border = false;
    near.fill(Infinity);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dd = sqDist(x, i * d, x, j * d, d);
      if (core[j] && dd <= eps2) {
        border = true;
        break;
      }
      insertSmallest(near, kth, dd);
    }
    if (border) continue;
    noise++;
    const kd = Math.sqrt(near[kth - 1]!);
    score[i] = Math.min(1, Math.max(0, (kd / eps - 1) / 2));
  }
  return noise;
}
