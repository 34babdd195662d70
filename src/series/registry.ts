import { LRUCache } from 'lru-cache';
import { IdentityTable } from './hashtable.js';
import { grown, runSteps, type GrowSteps, type SeriesComponent } from './component.js';
import { KIND_COUNTER, KIND_GAUGE, kindFromMetadata, kindFromSuffix, kindOfType } from './kind.js';
import { exposedLabelText, keepsNames, labelsFromExposedText, renamingLabelText } from './labels.js';
import { identityOf } from '../ingest/labelset.js';

export interface RegistryOptions {
  maxActive: number;
  stalenessMs: number;
  /** Work a background growth does per event-loop turn (tests set 0: one step per turn). */
  growSliceMs?: number;
}

const SEP = '\u0000';
/** Ids initialised at a time past `highWater` (see `initIds`): a few hundred KiB of state. */
const INIT_CHUNK = 256;
/** A growth starts in the background once this share of the capacity has been handed out. */
const GROW_AT = 0.5;
const GROW_SLICE_MS = 4;
/**
 * Growth work owed per id handed out while a growth runs: on a busy server the turns between
 * requests are too few to finish it, so the series being created pay for it as they come. A
 * growth costs about 4 µs per id in use on this machine (page faults, mostly), and as many ids
 * are left to hand out as are in use when it starts.
 */
const GROW_MS_PER_ID = 0.01;
/** Depths of `exported_` prefixes tried for a renamed series whose text another series has. */
const ESCAPE_TRIES = 8;

/**
 * A string built by concatenation is a tree of rope nodes in V8, several times the size of its
 * characters; a label string is kept for the life of its series, so it is copied flat once.
 */
function flatten(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

function sameLabels(a: [string, string][] | null, b: ReadonlyArray<readonly [string, string]>): boolean {
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}

/** Labels as one string: name, value, name, value... separated by NUL, with NUL and `\` escaped. */
export function packLabels(labels: ReadonlyArray<readonly [string, string]>): string {
  let s = '';
  for (let i = 0; i < labels.length; i++) {
    const [n, v] = labels[i]!;
    s += (i === 0 ? '' : SEP) + escapePacked(n) + SEP + escapePacked(v);
  }
  return s;
}

export function unpackLabels(s: string): [string, string][] {
  if (s === '') return [];
  const parts = s.split(SEP);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) out.push([unescapePacked(parts[i]!), unescapePacked(parts[i + 1]!)]);
  return out;
}

function escapePacked(s: string): string {
  return s.includes('\\') || s.includes(SEP) ? s.replace(/\\/g, '\\\\').replace(/\u0000/g, '\\0') : s;
}

function unescapePacked(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_m, c: string) => (c === '0' ? SEP : c)) : s;
}

const DERIVED_PREFIXES = ['augur_anomaly', 'augur_expected', 'augur_forecast', 'augur_cluster', 'augur_peer_outlier', 'augur_group_anomaly'];

/**
 * Augur's derived families, and recording rules over Augur's metrics (`level:augur_...:op`, as the
 * shipped rules and the README's relabelling name them): not scored again when sent back.
 */
export function isDerivedFamily(name: string): boolean {
  if (name.includes(':')) return /(^|:)augur_/.test(name);
  if (!name.startsWith('augur_')) return false;
  for (const p of DERIVED_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}

export type RemoveReason = 'evicted' | 'stale';

export interface SeriesInfo {
  readonly id: number;
  readonly name: string;
  /** Sorted by name, `__name__` included. */
  readonly labels: ReadonlyArray<readonly [string, string]>;
}

/**
 * Series identity, kind and liveness. Ids are dense and reused; every per-series component is
 * resized and reset through the registry so that an id never carries a previous series' state.
 */
export class SeriesRegistry {
  capacity = 0;
  /** One past the highest id ever handed out; iterate `0..highWater` and test `alive`. */
  highWater = 0;
  hashLo = new Uint32Array(0);
  hashHi = new Uint32Array(0);
  keyLen = new Int32Array(0);
  alive = new Uint8Array(0);
  /** 1 while the series belongs in the output (cleared by a stale marker). */
  exposed = new Uint8Array(0);
  kind = new Uint8Array(0);
  /** 1 when the kind came from metadata, which outranks the name suffix. */
  kindFromMeta = new Uint8Array(0);
  metaGen = new Uint32Array(0);
  /** Last metric type a v2 series carried itself (0 none). */
  typeSeen = new Uint8Array(0);
  group = new Int32Array(0);
  /** 1 for Augur's own derived families sent back by Prometheus: never scored (no feedback loop). */
  ignored = new Uint8Array(0);
  lastSeenMs = new Float64Array(0);
  lastTimeMs = new Float64Array(0);
  labelText: string[] = [];
  names: string[] = [];
  /**
   * Original labels (see packLabels) of the few series whose exposed label text cannot give them
   * back (a label renamed or sanitised); every other series' labels are parsed from `labelText`.
   */
  private packed = new Map<number, string>();
  /**
   * Label text -> id of the series whose label names were changed on the way out (those `packed`
   * holds): a changed name must not make a series come out with another's labels.
   */
  private renamedText = new Map<string, number>();
  /** Series of the last restored snapshot over `max_active`, dropped (and counted as evicted). */
  droppedOnRestore = 0;

  readonly metadata = new Map<string, number>();
  metadataGeneration = 1;
  /** Peer group id -> `metric NUL job`; '' for a free id (a real key always holds the NUL). */
  readonly groupKeys: string[] = [];
  private readonly groupIndex = new Map<string, number>();
  /** Live series per group id; a group whose last member goes is freed and its id reused. */
  private groupSize = new Int32Array(16);
  private freeGroups: number[] = [];
  private readonly nameIntern = new Map<string, string>();

  /** Set while a snapshot is written (src/persist/): new series take new ids, none is reused. */
  holdFreeIds = false;
  created = 0;
  evicted = 0;
  staleRemoved = 0;

  private table: IdentityTable;
  private lru: LRUCache<number, number>;
  private freeIds: number[] = [];
  private readonly lruGranularitySec: number;
  /** Whole seconds since the epoch at which a series last moved in the LRU order. */
  lruMovedSec = new Uint32Array(0);
  private sweepFrom = 0;
  /**
   * Components' arrays hold their initial values for ids below this (at least `highWater`); ids
   * past it get them in chunks as they are first handed out, so that a doubled capacity commits
   * no memory for ids not in use yet (see SeriesComponent.grow).
   */
  private initializedTo = 0;
  /**
   * The growth in progress, if any. Doubling the capacity copies every id's state into fresh
   * memory, seconds of page faults at a million series; started when half the capacity is in
   * use, it runs a slice per event-loop turn between requests instead of inside one of them.
   */
  private growth: GrowSteps | null = null;
  private growthTimer: NodeJS.Immediate | undefined;
  private growthOwed = 0;
  private readonly components: SeriesComponent[] = [];
  private readonly createHooks: ((info: SeriesInfo) => void)[] = [];
  private readonly removeHooks: ((id: number, reason: RemoveReason) => void)[] = [];
  private readonly groupFreeHooks: ((group: number) => void)[] = [];

  constructor(readonly options: RegistryOptions) {
    this.table = new IdentityTable(() => this.hashHi, () => this.keyLen, undefined, options.maxActive);
    this.lru = new LRUCache<number, number>({ max: Math.max(1, options.maxActive) });
    this.lruGranularitySec = Math.floor(Math.min(60_000, options.stalenessMs / 5) / 1000);
    runSteps(this.growSteps(1024));
  }

  get active(): number {
    return this.table.count;
  }

  addComponent(c: SeriesComponent): void {
    this.completeGrowth();
    this.components.push(c);
    runSteps(c.grow(this.capacity, () => this.initializedTo));
    c.initIds?.(0, this.initializedTo);
  }

  onCreate(fn: (info: SeriesInfo) => void): void {
    this.createHooks.push(fn);
  }

  onRemove(fn: (id: number, reason: RemoveReason) => void): void {
    this.removeHooks.push(fn);
  }

  /**
   * Called when a peer group's last series went and its id was freed (after the series' remove
   * hooks): the id may name another (metric, job) pair from the next `create` on.
   */
  onGroupFree(fn: (group: number) => void): void {
    this.groupFreeHooks.push(fn);
  }

  /** Peer groups with at least one live series. */
  get liveGroups(): number {
    return this.groupKeys.length - this.freeGroups.length;
  }

  /** The original labels of a live series, sorted by name, `__name__` included. */
  labels(id: number): [string, string][] {
    if (this.alive[id] !== 1) return [];
    const p = this.packed.get(id);
    return p !== undefined ? unpackLabels(p) : (labelsFromExposedText(this.labelText[id]!) ?? []);
  }

  find(lo: number, hi: number, keyLen: number): number {
    return this.table.find(lo, hi, keyLen);
  }

  /**
   * `find`, given a guess from a decode worker (see `hintId`): the guess is taken when it is a
   * live series with exactly this identity, which spares the table probe.
   */
  findHinted(hint: number, lo: number, hi: number, keyLen: number): number {
    if (hint >= 0 && hint < this.highWater && this.alive[hint] === 1 && this.hashLo[hint] === lo && this.hashHi[hint] === hi && this.keyLen[hint] === keyLen) return hint;
    return this.table.find(lo, hi, keyLen);
  }

  /** The identity table's shared slots, for decode workers' hints; replaced when the table grows. */
  get identitySlots(): Int32Array {
    return this.table.shared;
  }

  /**
   * Marks a series as seen; the least recently used one is evicted at the limit. The LRU order is
   * kept to a granularity of a fifth of the staleness period, at most a minute: an update of the
   * list costs more than the rest of the lookup, and every sample would otherwise pay it.
   */
  touch(id: number, nowMs: number): void {
    this.lastSeenMs[id] = nowMs;
    const sec = Math.floor(nowMs / 1000);
    if (sec - this.lruMovedSec[id]! < this.lruGranularitySec) return;
    this.lruMovedSec[id] = sec;
    this.lru.get(id);
  }

  create(lo: number, hi: number, keyLen: number, labels: [string, string][], metricName: string, seriesType: number, nowMs: number): number {
    if (this.table.count >= this.options.maxActive) {
      const victim = this.lru.pop();
      if (victim !== undefined) this.remove(victim, 'evicted');
    }
    let id: number;
    if (this.freeIds.length > 0 && !this.holdFreeIds) id = this.freeIds.pop()!;
    else {
      id = this.highWater++;
      if (id >= this.capacity) this.completeGrowth(true);
      else if (this.growth !== null) {
        this.growthOwed += GROW_MS_PER_ID;
        if (this.growthOwed >= GROW_SLICE_MS) {
          this.growthOwed = 0;
          this.growFor(GROW_SLICE_MS);
        }
      } else if (id >= this.capacity * GROW_AT && this.capacity < this.options.maxActive) this.startGrowth();
      if (id >= this.initializedTo) this.initIds(id);
    }
    for (const c of this.components) c.reset(id);
    const name = this.intern(metricName);
    this.hashLo[id] = lo;
    this.hashHi[id] = hi;
    this.keyLen[id] = keyLen;
    this.alive[id] = 1;
    this.exposed[id] = 0;
    this.lastSeenMs[id] = nowMs;
    this.lruMovedSec[id] = Math.floor(nowMs / 1000);
    this.lastTimeMs[id] = -Infinity;
    this.names[id] = name;
    this.ignored[id] = isDerivedFamily(name) ? 1 : 0;
    const keeps = keepsNames(labels);
    let text = flatten(exposedLabelText(labels, keeps));
    if (!keeps && !sameLabels(labelsFromExposedText(text), labels)) {
      this.packed.set(id, packLabels(labels));
      if (this.textTaken(text)) text = this.escapedText(labels, text);
      this.renamedText.set(text, id);
    } else if (this.renamedText.size > 0) {
      const other = this.renamedText.get(text);
      if (other !== undefined) this.moveAside(other);
    }
    this.labelText[id] = text;
    let job = '';
    for (const [n, v] of labels) if (n === 'job') job = v;
    const g = this.groupOf(name, job);
    this.group[id] = g;
    this.groupSize[g]!++;
    this.kindFromMeta[id] = 0;
    this.typeSeen[id] = seriesType > 0 ? seriesType : 0;
    this.resolveKind(id, seriesType);
    this.table.insert(id, lo);
    this.lru.set(id, id);
    this.created++;
    const info: SeriesInfo = { id, name, labels };
    for (const fn of this.createHooks) fn(info);
    return id;
  }

  /**
   * Whether a live series already comes out with label text `text`: one whose names were changed
   * too, or one whose labels are exactly what `text` reads as.
   */
  private textTaken(text: string): boolean {
    if (this.renamedText.has(text)) return true;
    const labels = labelsFromExposedText(text);
    if (labels === null || !keepsNames(labels)) return false;
    const key = identityOf(labels);
    return key !== null && this.table.find(key.lo, key.hi, key.keyLen) >= 0;
  }

  /**
   * The text of a series whose renamed labels clash with another series' text: names escaped
   * injectively instead, and reserved names renamed with more `exported_` prefixes until the text
   * is free (a few tries: each clash needs a series sent with exactly that text).
   */
  private escapedText(labels: [string, string][], text: string): string {
    for (let depth = 1; depth <= ESCAPE_TRIES; depth++) {
      const escaped = flatten(renamingLabelText(labels, '', true, depth));
      if (escaped !== text && !this.textTaken(escaped)) return escaped;
    }
    return text;
  }

  /** A series with unchanged names arrived with the text a renamed series had: the renamed one moves. */
  private moveAside(id: number): void {
    const text = this.labelText[id]!;
    const escaped = this.escapedText(this.labels(id), text);
    if (escaped === text) return;
    this.renamedText.delete(text);
    this.renamedText.set(escaped, id);
    this.labelText[id] = escaped;
  }

  remove(id: number, reason: RemoveReason): void {
    if (this.alive[id] !== 1) return;
    this.table.remove(id, this.hashLo[id]!);
    this.lru.delete(id);
    this.alive[id] = 0;
    this.exposed[id] = 0;
    if (this.renamedText.get(this.labelText[id]!) === id) this.renamedText.delete(this.labelText[id]!);
    this.labelText[id] = '';
    this.packed.delete(id);
    this.freeIds.push(id);
    if (reason === 'evicted') this.evicted++;
    else this.staleRemoved++;
    const g = this.group[id]!;
    this.group[id] = -1;
    for (const fn of this.removeHooks) fn(id, reason);
    if (g >= 0 && --this.groupSize[g]! === 0) this.freeGroup(g);
  }

  private freeGroup(g: number): void {
    const key = this.groupKeys[g]!;
    if (this.groupIndex.get(key) === g) this.groupIndex.delete(key);
    this.groupKeys[g] = '';
    this.freeGroups.push(g);
    for (const fn of this.groupFreeHooks) fn(g);
  }

  /**
   * After a snapshot restored the per-series arrays (src/persist/): rebuilds the hash table, the
   * LRU list (in id order), the free ids, the group index, members and free groups, and the name
   * index from them.
   */
  rebuildIndexes(): void {
    this.table = new IdentityTable(() => this.hashHi, () => this.keyLen, undefined, this.options.maxActive);
    this.lru = new LRUCache<number, number>({ max: Math.max(1, this.options.maxActive) });
    this.freeIds = [];
    this.groupIndex.clear();
    this.freeGroups = [];
    this.groupSize = new Int32Array(Math.max(16, this.groupKeys.length));
    this.nameIntern.clear();
    this.renamedText.clear();
    const groups = this.groupKeys.length;
    const dead: number[] = [];
    for (let id = this.highWater - 1; id >= 0; id--) {
      if (this.alive[id] !== 1) {
        this.freeIds.push(id);
        dead.push(id);
      }
    }
    const dropped: number[] = [];
    let overLimit = 0;
    for (let id = 0; id < this.highWater; id++) {
      if (this.alive[id] !== 1) continue;
      // A series removed while the snapshot was written can be alive with its labels, or its
      // group (id or key, the group freed with its last member), cleared.
      const g = this.group[id]!;
      const whole = Boolean(this.labelText[id]) && this.names[id] !== undefined && g >= 0 && g < groups && this.groupKeys[g] !== '';
      const over = whole && this.table.count >= this.options.maxActive;
      // Over a lowered limit, or a duplicate identity from a snapshot taken while it changed.
      if (!whole || over || this.table.find(this.hashLo[id]!, this.hashHi[id]!, this.keyLen[id]!) >= 0) {
        if (over) overLimit++;
        this.alive[id] = 0;
        this.exposed[id] = 0;
        this.labelText[id] = '';
        this.packed.delete(id);
        this.freeIds.push(id);
        dropped.push(id);
        continue;
      }
      this.groupSize[g]!++;
      this.names[id] = this.intern(this.names[id]!);
      if (this.packed.has(id)) this.renamedText.set(this.labelText[id]!, id);
      this.table.insert(id, this.hashLo[id]!);
      this.lru.set(id, id);
    }
    this.initializedTo = this.highWater;
    for (const c of this.components) runSteps(c.grow(this.capacity, () => this.initializedTo));
    // Dead ids are reset when handed out again, but until then a model that walks every id (the
    // LSTM's rounds) would still count them in their old group, which may be freed below and
    // reused: an older snapshot, or one written while series went, has such ids.
    for (const id of dead) {
      this.group[id] = -1;
      for (const c of this.components) c.reset(id);
    }
    // The components were restored with these series in them (peer groups, say): take them out.
    for (const id of dropped) {
      this.group[id] = -1;
      for (const fn of this.removeHooks) fn(id, 'evicted');
    }
    // Lowest ids are handed out first. Groups without a live series (a snapshot by older code
    // kept every group ever seen) are freed.
    const freed: number[] = [];
    for (let g = groups - 1; g >= 0; g--) {
      const key = this.groupKeys[g]!;
      if (this.groupSize[g] === 0) {
        this.groupKeys[g] = '';
        this.freeGroups.push(g);
        if (key !== '') freed.push(g);
      } else if (!this.groupIndex.has(key)) this.groupIndex.set(key, g);
    }
    for (const g of freed) for (const fn of this.groupFreeHooks) fn(g);
    this.evicted += overLimit;
    this.droppedOnRestore = overLimit;
  }

  /** Removes series not seen for the staleness period. Returns how many went. */
  sweep(nowMs: number): number {
    this.sweepFrom = 0;
    const before = this.staleRemoved;
    while (!this.sweepSlice(nowMs, Infinity));
    return this.staleRemoved - before;
  }

  /**
   * One slice of a sweep: from where the previous slice stopped, until `budgetMs` of work is done.
   * Returns true when the pass reached the last id (the next call starts a new pass). A pass that
   * removes a whole departed target's series at once would otherwise hold the event loop.
   */
  sweepSlice(nowMs: number, budgetMs: number): boolean {
    const cutoff = nowMs - this.options.stalenessMs;
    const started = performance.now();
    let id = this.sweepFrom;
    for (let k = 0; id < this.highWater; id++) {
      if (this.alive[id] === 1 && this.lastSeenMs[id]! < cutoff) {
        this.remove(id, 'stale');
        k += 64;
      }
      if (++k >= 4096) {
        k = 0;
        if (performance.now() - started > budgetMs) {
          this.sweepFrom = id + 1;
          return false;
        }
      }
    }
    this.sweepFrom = 0;
    return true;
  }

  /** Records a metric family's type; returns true when it changed anything. */
  setMetadata(family: string, type: number): boolean {
    if (this.metadata.get(family) === type) return false;
    if (this.metadata.size >= 1_000_000 && !this.metadata.has(family)) return false;
    this.metadata.set(family, type);
    this.metadataGeneration++;
    return true;
  }

  /**
   * Re-resolves the kind when metadata changed since the series last looked. Returns true when
   * the kind changed, in which case the caller resets the series' models.
   */
  refreshKind(id: number, seriesType: number): boolean {
    if (this.metaGen[id] === this.metadataGeneration && (seriesType <= 0 || seriesType === this.typeSeen[id])) return false;
    if (seriesType > 0) this.typeSeen[id] = seriesType;
    const before = this.kind[id];
    this.resolveKind(id, seriesType);
    return this.kind[id] !== before;
  }

  private intern(s: string): string {
    let v = this.nameIntern.get(s);
    if (v === undefined) {
      v = s;
      if (this.nameIntern.size < 100_000) this.nameIntern.set(v, v);
    }
    return v;
  }

  /**
   * The peer group id of (metric, job), a free one for a new pair. Like series ids, freed group
   * ids are not reused while a snapshot is written: a series it records as alive, removed since,
   * must not be restored into another pair's group.
   */
  private groupOf(metric: string, job: string): number {
    const key = metric + '\u0000' + job;
    let g = this.groupIndex.get(key);
    if (g === undefined) {
      if (this.freeGroups.length > 0 && !this.holdFreeIds) {
        g = this.freeGroups.pop()!;
        this.groupKeys[g] = key;
      } else {
        g = this.groupKeys.length;
        this.groupKeys.push(key);
        if (g >= this.groupSize.length) {
          const grown = new Int32Array(this.groupSize.length * 2);
          grown.set(this.groupSize);
          this.groupSize = grown;
        }
      }
      this.groupIndex.set(key, g);
    }
    return g;
  }

  private resolveKind(id: number, seriesType: number): void {
    const name = this.names[id]!;
    this.metaGen[id] = this.metadataGeneration;
    if (seriesType > 0) {
      const k = kindOfType(seriesType, name.endsWith('_bucket') || name.endsWith('_count') || name.endsWith('_sum'));
      if (k >= 0) {
        this.kind[id] = k;
        this.kindFromMeta[id] = 1;
        return;
      }
    }
    const k = kindFromMetadata(name, this.metadata);
    if (k >= 0) {
      this.kind[id] = k;
      this.kindFromMeta[id] = 1;
      return;
    }
    if (this.typeSeen[id]! > 0 && this.kindFromMeta[id] === 1) return;
    this.kind[id] = kindFromSuffix(name) === KIND_COUNTER ? KIND_COUNTER : KIND_GAUGE;
    this.kindFromMeta[id] = 0;
  }

  /** Initialises the components' state for the chunk of ids from `initializedTo` that covers `id`. */
  private initIds(id: number): void {
    const from = this.initializedTo;
    const to = Math.min(this.capacity, Math.max(id + 1, from + INIT_CHUNK));
    for (const c of this.components) c.initIds?.(from, to);
    this.initializedTo = to;
  }

  /**
   * Takes the remaining steps of a growth in progress at once (before a snapshot records the
   * arrays, or when ids run out before it is done); with `orStart`, grows now if none is.
   */
  completeGrowth(orStart = false): void {
    if (this.growth === null) {
      if (!orStart) return;
      this.growth = this.growSteps(this.nextCapacity());
    }
    runSteps(this.growth);
    this.endGrowth();
  }

  private startGrowth(): void {
    this.growth = this.growSteps(this.nextCapacity());
    this.growthTimer = setImmediate(this.stepGrowth).unref();
  }

  private readonly stepGrowth = (): void => {
    if (this.growFor(this.options.growSliceMs ?? GROW_SLICE_MS)) this.growthTimer = setImmediate(this.stepGrowth).unref();
  };

  /**
   * Takes steps of the growth in progress for about `ms` (one at least). Returns whether any are
   * left. A step that throws (memory exhausted) drops the growth rather than throw from a timer or
   * from the request that paid for it: it is tried again later, at once when ids run out.
   */
  private growFor(ms: number): boolean {
    const g = this.growth;
    if (g === null) return false;
    const until = performance.now() + ms;
    try {
      do {
        if (g.next().done) {
          this.endGrowth();
          return false;
        }
      } while (performance.now() < until);
    } catch {
      this.endGrowth();
      return false;
    }
    return true;
  }

  private endGrowth(): void {
    this.growth = null;
    this.growthOwed = 0;
    if (this.growthTimer !== undefined) clearImmediate(this.growthTimer);
    this.growthTimer = undefined;
  }

  /** Doubles, but not past `maxActive` when below it: ids past it are only taken while a snapshot holds free ids back. */
  private nextCapacity(): number {
    const double = Math.max(1024, this.capacity * 2);
    return this.capacity < this.options.maxActive ? Math.min(double, Math.max(1024, this.options.maxActive)) : double;
  }

  /** The registry's arrays, then each component's, an array per step; the capacity changes at the end. */
  private *growSteps(capacity: number): GrowSteps {
    const used = (): number => this.initializedTo;
    this.hashLo = yield* grown(this.hashLo, capacity, used);
    this.hashHi = yield* grown(this.hashHi, capacity, used);
    this.keyLen = yield* grown(this.keyLen, capacity, used);
    this.alive = yield* grown(this.alive, capacity, used);
    this.exposed = yield* grown(this.exposed, capacity, used);
    this.kind = yield* grown(this.kind, capacity, used);
    this.kindFromMeta = yield* grown(this.kindFromMeta, capacity, used);
    this.metaGen = yield* grown(this.metaGen, capacity, used);
    this.typeSeen = yield* grown(this.typeSeen, capacity, used);
    this.group = yield* grown(this.group, capacity, used);
    this.ignored = yield* grown(this.ignored, capacity, used);
    this.lastSeenMs = yield* grown(this.lastSeenMs, capacity, used);
    this.lruMovedSec = yield* grown(this.lruMovedSec, capacity, used);
    this.lastTimeMs = yield* grown(this.lastTimeMs, capacity, used);
    for (const c of this.components) yield* c.grow(capacity, used);
    this.capacity = capacity;
  }
}
