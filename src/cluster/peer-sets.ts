import { growF64, grown, type GrowSteps } from '../series/component.js';
import { medianInPlace } from './robust.js';

/** Fewest peers with a value (the series included) for a robust median and scale to mean anything. */
export const MIN_PEERS = 3;

/** Fields of `PeerSets.stats`, STATS per set. */
export const MEDIAN = 0, INV_TOL = 1, PENDING = 2, SIZE = 3, STATS = 4;

/**
 * The peer sets of the MAD peer outlier score: the members of a peer group that agree on every
 * label but those that tell peers apart (`cluster.peer_labels`, e.g. `instance`). A group of
 * `node_cpu_seconds_total` holds every cpu and mode of every node; idle time is not an outlier
 * among user, system and iowait, it is compared with the idle time of the same cpu on the other
 * nodes.
 *
 * A sample writes its series' latest value (an array by series id: requests carry series in id
 * order, so these writes are dense) and counts towards its set's round; once per round, after as
 * many samples as the set has members, the set's median and robust scale are taken again from its
 * members' latest values. Sets are small (one per cpu and mode, bucket, status code), and a
 * per-set array of values would cost the sample path a scattered read per set.
 */
export class PeerSets {
  setOf = new Int32Array(0);
  private posInSet = new Int32Array(0);
  /** Each series' latest value, NaN before its first and after a stale marker. */
  private latestValue = new Float64Array(0);

  /**
   * Per set, side by side in one cache line: the median of its last complete round (MEDIAN),
   * 1 / (robust scale x tolerance) then (INV_TOL, 0 while it cannot be scored), samples since
   * (PENDING) and members (SIZE).
   */
  stats = new Float64Array(0);
  private members: Int32Array[] = [];
  private keys: (string | undefined)[] = [];
  private byKey = new Map<string, number>();
  private free: number[] = [];
  private scratch = new Float64Array(16);

  constructor(private readonly tolerance: number) {}

  *grow(capacity: number, used: () => number): GrowSteps {
    this.setOf = yield* grown(this.setOf, capacity, used);
    this.posInSet = yield* grown(this.posInSet, capacity, used);
    this.latestValue = yield* grown(this.latestValue, capacity, used);
  }

  initIds(from: number, to: number): void {
    this.setOf.fill(-1, from, to);
    this.posInSet.fill(-1, from, to);
    this.latestValue.fill(NaN, from, to);
  }

  /** Adds series `id` to the set of `key`, made when it is the first member. */
  add(id: number, key: string): void {
    let s = this.byKey.get(key);
    if (s === undefined) s = this.open(key);
    let members = this.members[s]!;
    const n = this.stats[s * STATS + SIZE]!;
    if (n === members.length) {
      const bigger = new Int32Array(Math.max(4, n * 2));
      bigger.set(members);
      this.members[s] = members = bigger;
    }
    members[n] = id;
    this.latestValue[id] = NaN;
    this.posInSet[id] = n;
    this.setOf[id] = s;
    this.stats[s * STATS + SIZE] = n + 1;
    if (this.scratch.length < n + 1) this.scratch = new Float64Array((n + 1) * 2);
  }

  remove(id: number): void {
    const s = this.setOf[id]!;
    if (s < 0) return;
    const members = this.members[s]!;
    const last = this.stats[s * STATS + SIZE]! - 1;
    const pos = this.posInSet[id]!;
    const moved = members[last]!;
    members[pos] = moved;
    this.posInSet[moved] = pos;
    this.stats[s * STATS + SIZE] = last;
    this.setOf[id] = -1;
    this.posInSet[id] = -1;
    if (last === 0) this.close(s);
    else if (last < MIN_PEERS) this.stats[s * STATS + INV_TOL] = 0;
  }

  /**
   * Records series `id`'s latest value; after as many samples as the set has members, its median
   * and scale are taken again.
   */
  set(id: number, s: number, x: number): void {
    this.latestValue[id] = x;
    const st = this.stats;
    const at = s * STATS;
    if (++st[at + PENDING]! >= st[at + SIZE]!) this.rescore(s);
  }

  /** Takes series `id`'s value out of its set's median until its next sample (a stale marker). */
  clear(id: number): void {
    this.latestValue[id] = NaN;
  }

  /** Members of series `id`'s set, itself included. */
  peers(id: number): number {
    const s = this.setOf[id]!;
    return s < 0 ? 0 : this.stats[s * STATS + SIZE]!;
  }

  /** The median series `id` is scored against, NaN while its set cannot be scored. */
  medianOf(id: number): number {
    const s = this.setOf[id]!;
    return s >= 0 && this.stats[s * STATS + INV_TOL]! > 0 ? this.stats[s * STATS + MEDIAN]! : NaN;
  }

  /** Series `id`'s latest value, NaN before its first and after a stale marker. */
  latest(id: number): number {
    return this.setOf[id]! < 0 ? NaN : this.latestValue[id]!;
  }

  private rescore(s: number): void {
    this.stats[s * STATS + PENDING] = 0;
    const members = this.members[s]!;
    const latest = this.latestValue;
    const n = this.stats[s * STATS + SIZE]!;
    const a = this.scratch;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = latest[members[i]!]!;
      if (v === v) a[m++] = v;
    }
    if (m < MIN_PEERS) {
      this.stats[s * STATS + INV_TOL] = 0;
      return;
    }
    const med = medianInPlace(a, m);
    let meanAD = 0;
    for (let i = 0; i < m; i++) {
      const dev = Math.abs(a[i]! - med);
      a[i] = dev;
      meanAD += dev;
    }
    let scale = 1.4826 * medianInPlace(a, m);
    if (!(scale > 0)) scale = 1.2533 * (meanAD / m);
    scale = Math.max(scale, 1e-9 * Math.max(1, Math.abs(med)));
    this.stats[s * STATS + MEDIAN] = med;
    this.stats[s * STATS + INV_TOL] = 1 / (scale * this.tolerance);
  }

  private open(key: string): number {
    let s = this.free.pop();
    if (s === undefined) {
      s = this.keys.length;
      if (this.stats.length < (s + 1) * STATS) this.stats = growF64(this.stats, Math.max(16, (s + 1) * 2) * STATS);
      this.keys.push(undefined);
      this.members.push(new Int32Array(0));
    }
    this.keys[s] = key;
    this.members[s] = new Int32Array(4);
    this.stats[s * STATS + SIZE] = 0;
    this.stats[s * STATS + PENDING] = 0;
    this.stats[s * STATS + MEDIAN] = NaN;
    this.stats[s * STATS + INV_TOL] = 0;
    this.byKey.set(key, s);
    return s;
  }

  private close(s: number): void {
    this.byKey.delete(this.keys[s]!);
    this.keys[s] = undefined;
    this.members[s] = new Int32Array(0);
    this.free.push(s);
  }

  /** Sets in use (for tests and the memory figures). */
  get count(): number {
    return this.byKey.size;
  }
}

/**
 * The key of a series' peer set within its group: the group's key and every other label but
 * `__name__` and the peer labels, as name=value pairs in name order.
 */
export function peerSetKey(groupKey: string, labels: Iterable<readonly [string, string]>, groupBy: readonly string[], peerLabels: readonly string[]): string {
  const rest: string[] = [];
  for (const [name, value] of labels) {
    if (name === '__name__' || groupBy.includes(name) || peerLabels.includes(name) || value === '') continue;
    rest.push(name + '\u0001' + value);
  }
  rest.sort();
  return groupKey + '\u0002' + rest.join('\u0000');
}
