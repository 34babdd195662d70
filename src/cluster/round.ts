import { peerDensityOutliers } from './dbscan.js';
import { SCALARS, groupFeatures } from './features.js';
import { chooseK, kmeans, rng } from './kmeans.js';
import { matchIds } from './match.js';

/**
 * One reclustering round's input: the members of every peer group in CSR form (group g owns the
 * series ids[groupStart[g]..groupStart[g+1])), and the engine's per-series arrays indexed by
 * series id (ring windows, newest bucket, cluster id), which live in shared memory. The rest are
 * small typed arrays transferred to the worker.
 */
export interface RoundInput {
  round: number;
  nowMs: number;
  R: number;
  forceFull: boolean;
  maxClusters: number;
  minSilhouette: number;
  /** 0 for automatic. */
  eps: number;
  minPts: number;
  fullIntervalMs: number;
  groupUid: Float64Array;
  groupStart: Int32Array;
  ids: Int32Array;
  /** Per position: the member's peer set (density outliers are judged within it). */
  peerSet: Int32Array;
  nextId: Int32Array;
  windows: Float32Array;
  lastBucket: Float64Array;
  prevCluster: Int32Array;
}

export interface GroupResult {
  full: boolean;
  k: number;
  silhouette: number;
  eps: number;
  ids: Int32Array;
  sizes: Int32Array;
  /** k rows of R + 4: mean window in the series' units, then level, spread, trend, seasonality. */
  centroids: Float64Array;
}

export interface RoundOutput {
  round: number;
  /** Per position: cluster id, -1 when the member had too little data. */
  cluster: Int32Array;
  /** Per position: DBSCAN density outlier score, 0..1. */
  density: Float32Array;
  nextId: Int32Array;
  groups: GroupResult[];
  busyMs: number;
}

interface GroupModel {
  k: number;
  d: number;
  centroids: Float64Array;
  lastFullMs: number;
}

/** What a worker remembers between rounds: each group's centroids, for incremental rounds. */
export type RoundState = Map<number, GroupModel>;

export function transferables(x: RoundInput | RoundOutput): ArrayBuffer[] {
  const arrays =
    'windows' in x
      ? [x.groupUid, x.groupStart, x.ids, x.peerSet, x.nextId]
      : [x.cluster, x.density, x.nextId, ...x.groups.flatMap((g) => [g.ids, g.sizes, g.centroids])];
  return arrays.map((a) => a.buffer as ArrayBuffer);
}

export function clusterRound(input: RoundInput, state: RoundState): RoundOutput {
  const t0 = performance.now();
  const { R, groupStart, groupUid } = input;
  const G = groupUid.length;
  const total = groupStart[G]!;
  const cluster = new Int32Array(total).fill(-1);
  const density = new Float32Array(total);
  const nextId = input.nextId.slice();
  const groups: GroupResult[] = [];
  const live = new Set<number>();
  for (let g = 0; g < G; g++) {
    const uid = groupUid[g]!;
    live.add(uid);
    const s = groupStart[g]!;
    const e = groupStart[g + 1]!;
    const res = clusterGroup(input, state, uid, s, e, cluster, density, nextId, g);
    groups.push(res);
  }
  for (const uid of state.keys()) if (!live.has(uid)) state.delete(uid);
  return { round: input.round, cluster, density, nextId, groups, busyMs: performance.now() - t0 };
}

function clusterGroup(
  input: RoundInput,
  state: RoundState,
  uid: number,
  s: number,
  e: number,
  cluster: Int32Array,
  density: Float32Array,
  nextId: Int32Array,
  g: number,
): GroupResult {
  const { R } = input;
  const f = groupFeatures(input.windows, input.lastBucket, input.ids, s, e, R);
  const { n, d, x, index } = f;
  const empty: GroupResult = {
    full: false,
    k: 0,
    silhouette: 0,
    eps: 0,
    ids: new Int32Array(0),
    sizes: new Int32Array(0),
    centroids: new Float64Array(0),
  };
  if (n === 0) {
    state.delete(uid);
    return empty;
  }
  const rand = rng((uid * 2654435761) ^ input.round);

  let fresh = 0;
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    prev[i] = input.prevCluster[input.ids[s + index[i]!]!]!;
    if (prev[i]! < 0) fresh++;
  }
  const model = state.get(uid);
  const incremental =
    !input.forceFull &&
    model !== undefined &&
    model.d === d &&
    model.k <= n &&
    input.nowMs - model.lastFullMs < input.fullIntervalMs &&
    fresh <= n / 4;

  let result;
  let sil = 0;
  if (incremental) {
    result = kmeans(x, n, d, model.k, rand, model.centroids, 10);
  } else {
    const chosen = chooseK(x, n, d, input.maxClusters, input.minSilhouette, rand, model?.d === d ? model : undefined);
    result = chosen.result;
    sil = chosen.silhouette;
  }
  const { k, assign } = result;
  state.set(uid, {
    k,
    d,
    centroids: result.centroids,
    lastFullMs: incremental ? model!.lastFullMs : input.nowMs,
  });

  const part = new Int32Array(n);
  for (let i = 0; i < n; i++) part[i] = input.peerSet[s + index[i]!]!;
  const score = new Float64Array(n);
  const eps = peerDensityOutliers(x, n, d, part, input.eps, input.minPts, assign, k, rand, score);

  const matched = matchIds(prev, assign, n, k, nextId[g]!);
  nextId[g] = matched.nextId;

  const sizes = new Int32Array(k);
  const w = R + SCALARS;
  const centroids = new Float64Array(k * w);
  for (let i = 0; i < n; i++) {
    const c = assign[i]!;
    sizes[c]!++;
    for (let j = 0; j < w; j++) centroids[c * w + j]! += f.summary[i * d + j]!;
    const p = s + index[i]!;
    cluster[p] = matched.ids[c]!;
    density[p] = score[i]!;
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < w; j++) centroids[c * w + j]! /= sizes[c]!;
  return { full: !incremental, k, silhouette: sil, eps, ids: matched.ids, sizes, centroids };
}
