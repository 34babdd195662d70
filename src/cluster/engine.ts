import type { Worker } from 'node:worker_threads';
import { posMod } from '../util/modulo.js';
import { durationMs } from '../config/duration.js';
import { copyRows, fillRows, growF64, growI32, grown, prepared, resizeNow, type GrowSteps, type SeriesComponent } from '../series/component.js';
import { startWorker } from '../workers.js';
import { clusterSchema, type ClusterConfig, type ClusterConfigInput } from './config.js';
import { SCALARS } from './features.js';
import { medianInPlace } from './robust.js';
import { INV_TOL, MEDIAN, PeerSets, STATS, peerSetKey } from './peer-sets.js';
import { clusterRound, transferables, type GroupResult, type RoundInput, type RoundOutput, type RoundState } from './round.js';

/** Buckets per window: each series keeps R bucket means of its recent window (R * 4 bytes). */
export const R = 32;
/** Smoothing of the instant MAD score, per group round: 1 - 0.7^7 > 0.9. */
const ALPHA = 0.3;
/** `flag` of a member whose last sample was a stale marker (0 and 1: anomalous or not). */
const STALE = 2;

export type Labels = ReadonlyMap<string, string> | readonly (readonly [string, string])[];
export type GroupFilter = (metric: string, labels: [string, string][]) => boolean;

export interface GroupSummary {
  metric: string;
  /** The group_by labels that are set, e.g. [['job', 'api']]. */
  labels: [string, string][];
  anomalyRatio: number;
  clusters: { id: number; size: number }[];
}

export interface ClusterReport {
  groups: {
    metric: string;
    labels: Record<string, string>;
    size: number;
    anomalyRatio: number;
    median: number | null;
    /** Unix seconds of the round that produced these clusters, null before the first. */
    reclusteredAt: number | null;
    silhouette: number;
    eps: number;
    clusters: {
      id: number;
      size: number;
      centroid: { level: number; spread: number; trend: number; seasonality: number; shape: number[] };
      /** At most `DescribeLimits.perList` members. */
      members: unknown[];
      /** Members of the cluster now, listed or not. */
      membersTotal: number;
      /** True when `members` leaves some out. */
      truncated: boolean;
    }[];
    /** The strongest outliers first, at most `DescribeLimits.perList`. */
    /** `peers`: the series' peer set (members agreeing on every label but the peer labels, itself
     * included); `peerMedian`: the median its MAD score compares it with, null when the set has too
     * few values to be scored. */
    outliers: { series: unknown; peerOutlierScore: number; madScore: number; densityScore: number; cluster: number; peers: number; peerMedian: number | null }[];
    /** Outliers of the group, listed or not. */
    outliersTotal: number;
    /** True when `outliers` or any cluster's `members` leaves some out. */
    truncated: boolean;
  }[];
  /** Groups that the filter accepted, described or not. */
  total: number;
  /** True when groups, members or outliers were left out. */
  truncated: boolean;
}

/** Bounds on what `describe` builds; series ids beyond them are only counted. */
export interface DescribeLimits {
  /** Groups described; default unbounded. */
  groups?: number;
  /** Members listed per cluster, and outliers per group; default unbounded. */
  perList?: number;
  /** Series listed (members and outliers) across the whole report; default unbounded. */
  series?: number;
}

interface GroupInfo {
  uid: number;
  key: string;
  metric: string;
  labels: [string, string][];
  nextId: number;
  result: GroupResult | null;
  reclusteredAt: number | null;
}

/**
 * Peer groups, behaviour clusters and peer outliers. `observe` is the per-sample hot path (O(1)
 * amortised, allocation-free); clustering runs in a worker thread every `recluster_interval`.
 * The public arrays are replaced when `resize` grows them: read them from the engine each time.
 */
export class PeerEngine implements SeriesComponent {
  readonly config: ClusterConfig;
  clusterId = new Int32Array(new SharedArrayBuffer(0));
  peerOutlierScore = new Float64Array(0);
  reclusterRuns = 0;
  clusterChanges = 0;
  lastReclusterSeconds = 0;
  lastReclusterTimestamp = 0;
  /** Event-loop time of the last round: copying windows out and applying results. */
  lastReclusterMainSeconds = 0;
  lastError: string | null = null;

  private readonly bucketMs: number;
  private readonly intervalMs: number;
  private readonly fullIntervalMs: number;
  private readonly groupBy: string[];
  private readonly peerLabels: string[];

  private capacity = 0;
  // ring, lastBucket and clusterId live in shared memory: the worker reads them in place, so a
  // round costs the event loop no copy of the windows. Torn reads cannot happen (aligned
  // elements) and a window read while a bucket updates is as good as one read a moment earlier.
  // The ring has one row per bucket slot (series id's slot k at k * capacity + id): every series
  // writes the same slot at a given time, so a request's writes fall in one dense row.
  private ring = new Float32Array(new SharedArrayBuffer(0));
  private bucketSum = new Float64Array(0);
  private bucketCount = new Float32Array(0);
  private lastBucket = new Float64Array(new SharedArrayBuffer(0));
  private madScore = new Float32Array(0);
  private densityScore = new Float32Array(0);
  private flag = new Uint8Array(0);
  private groupOf = new Int32Array(0);
  private posInGroup = new Int32Array(0);
  private gen = new Uint32Array(0);

  private gSize = new Int32Array(0);
  private gAnomalous = new Int32Array(0);
  /** Members whose last sample was a stale marker: out of the ratio, sizes and median until their next sample. */
  private gStale = new Int32Array(0);
  private gMembers: Int32Array[] = [];
  private gInfo: (GroupInfo | undefined)[] = [];
  private freeGroups: number[] = [];
  private byKey = new Map<string, number>();
  private nextUid = 1;
  /** Within each group, the series the MAD score compares a series with. */
  private readonly sets: PeerSets;

  private worker: Worker | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private round = 0;
  private state: RoundState = new Map();
  private pendingReply: ((msg: { ok: boolean; out?: RoundOutput; error?: string }) => void) | undefined;

  constructor(options: ClusterConfigInput | ClusterConfig = {}) {
    this.config = clusterSchema.parse(options);
    this.bucketMs = durationMs(this.config.window) / R;
    this.intervalMs = durationMs(this.config.recluster_interval);
    this.fullIntervalMs = durationMs(this.config.full_recluster_interval);
    this.groupBy = this.config.group_by;
    this.peerLabels = this.config.peer_labels;
    this.sets = new PeerSets(this.config.tolerance);
  }

  /** Bytes of per-series state (the typed arrays above, group member lists included). */
  static bytesPerSeries(): number {
    // ...and the peer sets: set and position per series, a member list entry (the value moved there).
    return R * 4 + 8 + 4 + 8 + 8 + 4 + 4 + 1 + 4 + 4 + 4 + 4 + 8 + 4 + 4 + 4 + 4;
  }

  /** Grows at once, outside a registry. */
  resize(capacity: number): void {
    resizeNow(this, this.capacity, capacity);
  }

  *grow(capacity: number, used: () => number): GrowSteps {
    if (capacity <= this.capacity) return;
    const c = this.capacity;
    this.bucketSum = yield* grown(this.bucketSum, capacity, used);
    this.bucketCount = yield* grown(this.bucketCount, capacity, used);
    this.lastBucket = yield* grown(this.lastBucket, capacity, used, 1, shared(this.lastBucket));
    this.madScore = yield* grown(this.madScore, capacity, used);
    this.densityScore = yield* grown(this.densityScore, capacity, used);
    this.flag = yield* grown(this.flag, capacity, used);
    this.groupOf = yield* grown(this.groupOf, capacity, used);
    this.posInGroup = yield* grown(this.posInGroup, capacity, used);
    yield* this.sets.grow(capacity, used);
    this.gen = yield* grown(this.gen, capacity, used);
    this.clusterId = yield* grown(this.clusterId, capacity, used, 1, shared(this.clusterId));
    this.peerOutlierScore = yield* grown(this.peerOutlierScore, capacity, used);
    // The ring is laid out by `capacity` (see copyRows): swapped together with it.
    const ring = (yield* prepared(this.ring, R * capacity, R, capacity, () => Math.min(c, used()), shared(this.ring))).array;
    copyRows(this.ring, ring, c, capacity, R, used());
    this.ring = ring;
    this.capacity = capacity;
  }

  initIds(from: number, to: number): void {
    fillRows(this.ring, this.capacity, R, from, to, NaN);
    this.lastBucket.fill(-Infinity, from, to);
    this.groupOf.fill(-1, from, to);
    this.posInGroup.fill(-1, from, to);
    this.sets.initIds(from, to);
    this.clusterId.fill(-1, from, to);
  }

  reset(id: number): void {
    if (id >= this.capacity) this.resize(Math.max(id + 1, this.capacity * 2));
    if (this.groupOf[id]! >= 0) this.removeSeries(id);
    for (let k = 0, c = this.capacity; k < R; k++) this.ring[k * c + id] = NaN;
    this.bucketSum[id] = 0;
    this.bucketCount[id] = 0;
    this.lastBucket[id] = -Infinity;
    this.madScore[id] = 0;
    this.densityScore[id] = 0;
    this.flag[id] = 0;
    this.clusterId[id] = -1;
    this.peerOutlierScore[id] = 0;
    this.gen[id] = (this.gen[id]! + 1) >>> 0;
  }

  addSeries(id: number, metricName: string, labels: Labels): void {
    this.reset(id);
    const values: string[] = [];
    const pairs: [string, string][] = [];
    for (const name of this.groupBy) {
      const v = labelValue(labels, name);
      values.push(v);
      if (v !== '') pairs.push([name, v]);
    }
    const key = metricName + '\u0000' + values.join('\u0000');
    let g = this.byKey.get(key);
    if (g === undefined) g = this.newGroup(key, metricName, pairs);
    let members = this.gMembers[g]!;
    const size = this.gSize[g]!;
    if (size === members.length) {
      const bigger = new Int32Array(Math.max(4, size * 2));
      bigger.set(members);
      this.gMembers[g] = members = bigger;
    }
    members[size] = id;
    this.posInGroup[id] = size;
    this.groupOf[id] = g;
    this.gSize[g] = size + 1;
    // Out of the group's ratio and sizes until its first sample, as after a stale marker: a series
    // that is never scored (histograms only, Augur's own output sent back) never shows a group.
    this.flag[id] = STALE;
    this.gStale[g]!++;
    this.sets.add(id, peerSetKey(key, labelPairs(labels), this.groupBy, this.peerLabels));
  }

  removeSeries(id: number): void {
    const g = this.groupOf[id]!;
    if (g < 0) return;
    const members = this.gMembers[g]!;
    const last = this.gSize[g]! - 1;
    const pos = this.posInGroup[id]!;
    const moved = members[last]!;
    members[pos] = moved;
    this.posInGroup[moved] = pos;
    this.gSize[g] = last;
    this.sets.remove(id);
    if (this.flag[id] === 1) this.gAnomalous[g]!--;
    else if (this.flag[id] === STALE) this.gStale[g]!--;
    this.flag[id] = 0;
    this.groupOf[id] = -1;
    this.posInGroup[id] = -1;
    this.clusterId[id] = -1;
    this.peerOutlierScore[id] = 0;
    this.gen[id] = (this.gen[id]! + 1) >>> 0;
    if (last === 0) this.dropGroup(g);
  }

  /**
   * Per sample, in time order per series, x finite. `resolution` is how finely x is known (a
   * counter's rate: timing jitter and one increment), added to its set's scale: one request in an
   * interval where its peers had none is not a departure.
   */
  observe(id: number, tMs: number, x: number, anomalous: 0 | 1, resolution = 0): void {
    const g = this.groupOf[id]!;
    if (g < 0) return;
    const b = Math.floor(tMs / this.bucketMs);
    const lb = this.lastBucket[id]!;
    if (b > lb) {
      if (b - lb > 1) this.fillGap(id, lb, b);
      this.lastBucket[id] = b;
      this.bucketSum[id] = x;
      this.bucketCount[id] = 1;
      this.ring[posMod(b, R) * this.capacity + id] = x;
    } else {
      const s = (this.bucketSum[id]! += x);
      const c = ++this.bucketCount[id]!;
      this.ring[posMod(lb, R) * this.capacity + id] = s / c;
    }
    // Peer outlier: robust z against the median and scale of the series' peer set in its last
    // complete round, mapped to 0..1 (z = tolerance gives 0.5) and smoothed so a single odd sample
    // does not flag a series. Without enough peers the MAD score fades out.
    const sets = this.sets;
    const set = sets.setOf[id]!;
    const stats = sets.stats;
    let invTol = stats[set * STATS + INV_TOL]!;
    if (resolution > 0 && invTol > 0) invTol /= 1 + resolution * this.config.tolerance * invTol;
    const mad = this.madScore[id]!;
    if (invTol > 0 || mad > 0) {
      let q = 0;
      if (invTol > 0) {
        const r = (x - stats[set * STATS + MEDIAN]!) * invTol;
        q = r * r * r * r;
        q = q / (1 + q);
      }
      const e = mad + ALPHA * (q - mad);
      this.madScore[id] = e;
      const dens = this.densityScore[id]!;
      this.peerOutlierScore[id] = e > dens ? e : dens;
    }
    sets.set(id, set, x);
    const was = this.flag[id]!;
    if (anomalous !== was) {
      this.flag[id] = anomalous;
      if (was === STALE) {
        this.gStale[g]!--;
        this.gAnomalous[g]! += anomalous;
      } else this.gAnomalous[g]! += anomalous ? 1 : -1;
    }
  }

  /**
   * The series' stale marker: it stays a member (its history is kept for when it returns) but
   * leaves the group's anomaly ratio, cluster sizes and median until its next sample.
   */
  stale(id: number): void {
    const g = this.groupOf[id]!;
    if (g < 0 || this.flag[id] === STALE) return;
    if (this.flag[id] === 1) this.gAnomalous[g]!--;
    this.flag[id] = STALE;
    this.gStale[g]!++;
    this.sets.clear(id);
    this.peerOutlierScore[id] = 0;
  }

  private fillGap(id: number, lb: number, b: number): void {
    const n = Math.min(b - lb - 1, R);
    for (let i = 1; i <= n; i++) this.ring[posMod(b - i, R) * this.capacity + id] = NaN;
  }

  private newGroup(key: string, metric: string, labels: [string, string][]): number {
    let g = this.freeGroups.pop();
    if (g === undefined) {
      g = this.gInfo.length;
      const cap = Math.max(16, g + 1);
      if (this.gSize.length < g + 1) {
        this.gSize = growI32(this.gSize, cap * 2);
        this.gAnomalous = growI32(this.gAnomalous, cap * 2);
        this.gStale = growI32(this.gStale, cap * 2);
      }
      this.gInfo.push(undefined);
      this.gMembers.push(new Int32Array(4));
    }
    this.gInfo[g] = { uid: this.nextUid++, key, metric, labels, nextId: 0, result: null, reclusteredAt: null };
    this.gMembers[g] = new Int32Array(4);
    this.gSize[g] = 0;
    this.gAnomalous[g] = 0;
    this.gStale[g] = 0;
    this.byKey.set(key, g);
    return g;
  }

  private dropGroup(g: number): void {
    this.byKey.delete(this.gInfo[g]!.key);
    this.gInfo[g] = undefined;
    this.gMembers[g] = new Int32Array(0);
    this.freeGroups.push(g);
  }

  /** For augur_group_anomaly_ratio{metric,job} and augur_cluster_size{metric,job,cluster}. */
  *groups(): Iterable<GroupSummary> {
    for (let g = 0; g < this.gInfo.length; g++) {
      const info = this.gInfo[g];
      if (!info) continue;
      const live = this.gSize[g]! - this.gStale[g]!;
      if (live <= 0) continue;
      const r = info.result;
      const clusters: { id: number; size: number }[] = [];
      if (r) for (let c = 0; c < r.k; c++) clusters.push({ id: r.ids[c]!, size: r.sizes[c]! });
      if (r && this.gStale[g]! > 0) this.withoutStale(g, clusters);
      yield { metric: info.metric, labels: info.labels, anomalyRatio: this.gAnomalous[g]! / live, clusters };
    }
  }

  /** Cluster sizes counted again over the members that are not stale (a rare path: stale members). */
  private withoutStale(g: number, clusters: { id: number; size: number }[]): void {
    const members = this.gMembers[g]!;
    for (const c of clusters) c.size = 0;
    for (let p = 0; p < this.gSize[g]!; p++) {
      const id = members[p]!;
      if (this.flag[id] === STALE) continue;
      const c = clusters.find((x) => x.id === this.clusterId[id]);
      if (c !== undefined) c.size++;
    }
    for (let i = clusters.length - 1; i >= 0; i--) if (clusters[i]!.size === 0) clusters.splice(i, 1);
  }

  /**
   * GET /api/v1/clusters: the groups that `filter` accepts, with their clusters (centroid in the
   * series' own units, members) and outliers (peer outlier score >= 0.5). `member` turns a series
   * id into what the response shows for it (the lead's registry knows the labels). `limits` bound
   * what is built: only listed series are passed to `member`, the rest are counted, and every list
   * that leaves some out says so (`membersTotal`, `outliersTotal`, `truncated`).
   */
  describe(filter: GroupFilter = () => true, member: (id: number) => unknown = (id) => id, limits: DescribeLimits = {}): ClusterReport {
    const maxGroups = limits.groups ?? Infinity;
    const perList = limits.perList ?? Infinity;
    let budget = limits.series ?? Infinity;
    const out: ClusterReport = { groups: [], total: 0, truncated: false };
    for (let g = 0; g < this.gInfo.length; g++) {
      const info = this.gInfo[g];
      if (!info || !filter(info.metric, info.labels)) continue;
      out.total++;
      if (out.groups.length >= maxGroups) {
        out.truncated = true;
        continue;
      }
      const size = this.gSize[g]!;
      const members = this.gMembers[g]!.subarray(0, size);
      const r = info.result;
      // Counts and the outliers' ids first: typed-array work only, whatever the group's size.
      const counts = new Map<number, number>();
      if (r) for (let c = 0; c < r.k; c++) counts.set(r.ids[c]!, 0);
      const outlierIds: number[] = [];
      for (const id of members) {
        const c = this.clusterId[id]!;
        const n = counts.get(c);
        if (n !== undefined) counts.set(c, n + 1);
        if (this.peerOutlierScore[id]! >= 0.5) outlierIds.push(id);
      }
      outlierIds.sort((a, b) => this.peerOutlierScore[b]! - this.peerOutlierScore[a]!);
      const take = (want: number): number => {
        const n = Math.max(0, Math.min(want, perList, budget));
        budget -= n;
        return n;
      };
      const outliers: ClusterReport['groups'][number]['outliers'] = outlierIds.slice(0, take(outlierIds.length)).map((id) => ({
        series: member(id),
        peerOutlierScore: this.peerOutlierScore[id]!,
        madScore: this.madScore[id]!,
        densityScore: this.densityScore[id]!,
        cluster: this.clusterId[id]!,
        peers: this.sets.peers(id),
        peerMedian: nullIfNaN(this.sets.medianOf(id)),
      }));
      let truncated = outliers.length < outlierIds.length;
      const clusters: ClusterReport['groups'][number]['clusters'] = [];
      const byId = new Map<number, { list: unknown[]; room: number }>();
      if (r) {
        const w = R + SCALARS;
        for (let c = 0; c < r.k; c++) {
          const row = r.centroids.subarray(c * w, c * w + w);
          const membersTotal = counts.get(r.ids[c]!)!;
          const list: unknown[] = [];
          const room = take(membersTotal);
          if (room > 0) byId.set(r.ids[c]!, { list, room });
          if (room < membersTotal) truncated = true;
          clusters.push({
            id: r.ids[c]!,
            size: r.sizes[c]!,
            centroid: {
              level: row[R]!,
              spread: row[R + 1]!,
              trend: row[R + 2]!,
              seasonality: row[R + 3]!,
              shape: Array.from(row.subarray(0, R)),
            },
            members: list,
            membersTotal,
            truncated: room < membersTotal,
          });
        }
        if (byId.size > 0) {
          for (const id of members) {
            const slot = byId.get(this.clusterId[id]!);
            if (slot === undefined || slot.list.length >= slot.room) continue;
            slot.list.push(member(id));
          }
        }
      }
      if (truncated) out.truncated = true;
      const med = this.latestMedian(members);
      out.groups.push({
        metric: info.metric,
        labels: Object.fromEntries(info.labels),
        size,
        anomalyRatio: size > this.gStale[g]! ? this.gAnomalous[g]! / (size - this.gStale[g]!) : 0,
        median: Number.isFinite(med) ? med : null,
        reclusteredAt: info.reclusteredAt,
        silhouette: r?.silhouette ?? 0,
        eps: r?.eps ?? 0,
        clusters,
        outliers,
        outliersTotal: outlierIds.length,
        truncated,
      });
    }
    return out;
  }

  /** The median of the members' latest values (off the sample path). */
  private latestMedian(members: Int32Array): number {
    const a = new Float64Array(members.length);
    let m = 0;
    for (const id of members) {
      const v = this.sets.latest(id);
      if (v === v) a[m++] = v;
    }
    return m > 0 ? medianInPlace(a, m) : NaN;
  }

  /** Starts the worker and the recluster timer. */
  start(): void {
    if (!this.config.enabled || this.timer) return;
    this.spawn();
    this.timer = setInterval(() => {
      void this.recluster().catch((err: unknown) => {
        this.lastError = String(err);
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inflight?.catch(() => undefined);
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  /**
   * One round now: in the worker when started, else inline (tests, backtests). Concurrent calls
   * share the round in flight. `forceFull` chooses k anew instead of updating the last centroids.
   */
  recluster(opts: { forceFull?: boolean; nowMs?: number } = {}): Promise<void> {
    if (this.inflight) return this.inflight;
    const p = this.runRound(opts).finally(() => {
      this.inflight = undefined;
    });
    this.inflight = p;
    return p;
  }

  private async runRound(opts: { forceFull?: boolean; nowMs?: number }): Promise<void> {
    const t0 = performance.now();
    const snap = this.snapshot(opts.forceFull ?? false, opts.nowMs ?? Date.now());
    let mainMs = performance.now() - t0;
    let out: RoundOutput;
    if (this.timer && !this.worker) this.spawn();
    if (this.worker) {
      const w = this.worker;
      const reply = new Promise<{ ok: boolean; out?: RoundOutput; error?: string }>((resolve) => {
        this.pendingReply = resolve;
      });
      w.ref(); // keep the process alive while a round is in flight
      w.postMessage(snap.input, transferables(snap.input));
      const msg = await reply;
      w.unref();
      if (!msg.ok || !msg.out) throw new Error(`cluster worker: ${msg.error ?? 'no result'}`);
      out = msg.out;
    } else {
      out = clusterRound(snap.input, this.state);
    }
    const t1 = performance.now();
    this.apply(snap, out);
    mainMs += performance.now() - t1;
    this.lastReclusterMainSeconds = mainMs / 1000;
  }

  private spawn(): void {
    const w = startWorker(import.meta.url, 'worker');
    w.unref();
    w.on('message', (msg: { ok: boolean; out?: RoundOutput; error?: string }) => {
      const resolve = this.pendingReply;
      this.pendingReply = undefined;
      resolve?.(msg);
    });
    const fail = (err: unknown) => {
      this.lastError = String(err);
      if (this.worker === w) this.worker = undefined;
      const resolve = this.pendingReply;
      this.pendingReply = undefined;
      resolve?.({ ok: false, error: String(err) });
      // the next round starts a new worker (no respawn here: a worker that cannot load would spin)
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (this.worker === w) fail(new Error(`worker exited with code ${code}`));
    });
    this.worker = w;
  }

  private snapshot(forceFull: boolean, nowMs: number) {
    const groups: number[] = [];
    let total = 0;
    for (let g = 0; g < this.gInfo.length; g++) {
      if (!this.gInfo[g] || this.gSize[g] === 0) continue;
      groups.push(g);
      total += this.gSize[g]!;
    }
    const G = groups.length;
    const groupUid = new Float64Array(G);
    const groupStart = new Int32Array(G + 1);
    const nextId = new Int32Array(G);
    const ids = new Int32Array(total);
    let p = 0;
    for (let j = 0; j < G; j++) {
      const g = groups[j]!;
      const info = this.gInfo[g]!;
      groupUid[j] = info.uid;
      nextId[j] = info.nextId;
      groupStart[j] = p;
      const n = this.gSize[g]!;
      ids.set(this.gMembers[g]!.subarray(0, n), p);
      p += n;
    }
    groupStart[G] = p;
    const peerSet = new Int32Array(total);
    const setOf = this.sets.setOf;
    for (let q = 0; q < total; q++) peerSet[q] = setOf[ids[q]!]!;
    const dbscan = this.config.dbscan;
    const input: RoundInput = {
      round: ++this.round,
      nowMs,
      R,
      forceFull,
      maxClusters: this.config.max_clusters,
      minSilhouette: this.config.min_silhouette,
      eps: dbscan.eps === 'auto' ? 0 : dbscan.eps,
      minPts: dbscan.min_pts,
      fullIntervalMs: this.fullIntervalMs,
      groupUid,
      groupStart,
      ids,
      peerSet,
      nextId,
      windows: this.ring,
      lastBucket: this.lastBucket,
      prevCluster: this.clusterId,
    };
    return { input, ids: ids.slice(), gens: this.gen.slice(), groupUid: groupUid.slice(), groupStart: groupStart.slice() };
  }

  private apply(snap: ReturnType<PeerEngine['snapshot']>, out: RoundOutput): void {
    const uidToGroup = new Map<number, number>();
    for (let g = 0; g < this.gInfo.length; g++) {
      const info = this.gInfo[g];
      if (info) uidToGroup.set(info.uid, g);
    }
    const at = Date.now() / 1000;
    let changes = 0;
    for (let j = 0; j < snap.groupUid.length; j++) {
      const g = uidToGroup.get(snap.groupUid[j]!);
      if (g === undefined) continue;
      const info = this.gInfo[g]!;
      info.nextId = out.nextId[j]!;
      info.result = out.groups[j]!;
      info.reclusteredAt = at;
      for (let p = snap.groupStart[j]!; p < snap.groupStart[j + 1]!; p++) {
        const id = snap.ids[p]!;
        if (this.gen[id] !== snap.gens[id] || this.groupOf[id] !== g) continue;
        const c = out.cluster[p]!;
        const before = this.clusterId[id]!;
        if (before >= 0 && c >= 0 && c !== before) changes++;
        this.clusterId[id] = c;
        const dens = out.density[p]!;
        this.densityScore[id] = dens;
        const e = this.madScore[id]!;
        this.peerOutlierScore[id] = e > dens ? e : dens;
      }
    }
    this.reclusterRuns++;
    this.clusterChanges += changes;
    this.lastReclusterSeconds = out.busyMs / 1000;
    this.lastReclusterTimestamp = at;
  }
}

type SharedArray = Float32Array | Float64Array | Int32Array;

/** Makes arrays like `a` in shared memory (the round worker reads them). */
function shared<T extends SharedArray>(a: T): (length: number) => T {
  const Ctor = a.constructor as { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
  return (length) => new Ctor(new SharedArrayBuffer(length * Ctor.BYTES_PER_ELEMENT));
}

function nullIfNaN(v: number): number | null {
  return v === v ? v : null;
}

function labelPairs(labels: Labels): Iterable<readonly [string, string]> {
  return labels instanceof Map ? (labels as ReadonlyMap<string, string>).entries() : (labels as readonly (readonly [string, string])[]);
}

function labelValue(labels: Labels, name: string): string {
  if (labels instanceof Map) return (labels as ReadonlyMap<string, string>).get(name) ?? '';
  for (const [k, v] of labels as readonly (readonly [string, string])[]) if (k === name) return v;
  return '';
}
