import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workers.js';
import { RING, type ForecastEngine } from './engine.js';
import { PendingWindows } from './lstm-pending.js';
import { LSTM } from './models.js';

/** Training pairs kept per group, and series per group that contribute pairs. */
const MAX_PAIRS = 1000;
const MIN_PAIRS = 200;
/**
 * A group's pair arrays start small and double as pairs arrive: every group may grow until it can
 * train (MIN_PAIRS), but past that only while all groups together hold at most PAIR_BUDGET pairs
 * (16 MiB of windows), so memory follows the data, not the number of groups times MAX_PAIRS.
 */
const INITIAL_PAIRS = 32;
const PAIR_BUDGET = 131_072;
const INITIAL_PENDING = 32;
/** New pairs that make a group train again (prediction runs every round). */
const RETRAIN_PAIRS = 200;
const SAMPLED_PER_GROUP = 64;
const MAX_PENDING = 4096;
/** Series handled between yields to the event loop. */
const CHUNK = 4096;
/** Windows per prediction call to the worker. */
const PREDICT_BATCH = 2048;
export const ROUND_MS = 60_000;
/**
 * Duty-cycle cap: LSTM training and prediction may use at most this share of one core. Each
 * round (every ROUND_MS) gets DUTY * ROUND_MS of worker time; a round that overruns (a long
 * training) makes the next rounds skip until the debt is paid. Prediction walks each group's
 * series from a cursor, so at large scale every series is refreshed every few rounds.
 */
export const DUTY = 0.1;
export const ROUND_BUDGET_S = (DUTY * ROUND_MS) / 1000;

interface GroupData {
  group: number;
  /**
   * Key of the group's model in the worker, never reused: a registry group id freed and given to
   * another pair must not train on, or predict with, the old pair's model.
   */
  model: number;
  /** Training pairs, in shared memory so that a training call copies nothing on the main thread. */
  x: Float32Array;
  y: Float32Array;
  count: number;
  next: number;
  fresh: number;
  trained: boolean;
  /** Trained in this round: every member is predicted again, its window changed or not. */
  retrained: boolean;
  /** Windows waiting for their targets (several per series, so small groups train too). */
  pending: PendingWindows;
  /** Index into the group's member list where the next prediction batch starts. */
  cursor: number;
  /** This round's members: memberIds[start, start + size), in id order; `seen` is the round. */
  start: number;
  size: number;
  filled: number;
  seen: number;
}

interface Reply {
  seq: number;
  ok: boolean;
  /** Worker time of the call. */
  seconds?: number;
  error?: string;
}

function sharedF32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * Float32Array.BYTES_PER_ELEMENT));
}

/**
 * Main-thread side of the LSTM: collects normalised windows of each series' recent buckets (the
 * input is the window minus its last value, divided by its standard deviation; the targets are the
 * changes to each horizon on the same scale), trains one model per peer group in a worker and
 * publishes the predicted changes into the engine's `lstmChange` arrays.
 */
export class LstmRunner {
  private worker: Worker | null = null;
  private seq = 0;
  private waiting = new Map<number, (r: Reply) => void>();
  private groups = new Map<number, GroupData>();
  private nextModel = 1;
  /** Models of dropped groups, disposed in the worker at the next round (see `dropGroup`). */
  private droppedModels: number[] = [];
  /** Pair slots allocated over all groups (see PAIR_BUDGET). */
  pairsAllocated = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly window = new Float32Array(RING);
  /**
   * Per-round scratch, reused: members of every group (grouped), the groups in first-seen order,
   * and one prediction batch. The batch's windows and outputs live in shared memory: the worker
   * reads and writes them in place while the round waits, so no message carries or copies them.
   */
  private memberIds = new Int32Array(0);
  /**
   * Per series id, its bucket count when its window last went to the pending pool: a window is
   * taken once per bucket, however many rounds pass before the next bucket closes.
   */
  private collectedAt = new Uint32Array(0);
  private readonly order: GroupData[] = [];
  private readonly batch = new Int32Array(PREDICT_BATCH);
  private readonly batchScale = new Float32Array(PREDICT_BATCH);
  private readonly batchAt = new Uint32Array(PREDICT_BATCH);
  private readonly batchX = sharedF32(PREDICT_BATCH * RING);
  private readonly batchY: Float32Array;
  /** Worker seconds spent beyond the budget of past rounds (paid back before new work). */
  private debt = 0;
  /** Totals for reporting: windows predicted, worker seconds predicting and training, rounds. */
  predictedWindows = 0;
  predictSeconds = 0;
  trainSeconds = 0;
  rounds = 0;
  /** Worker seconds used by the last round, and windows it predicted. */
  lastRoundSeconds = 0;
  lastRoundWindows = 0;

  constructor(
    readonly engine: ForecastEngine,
    /** Worker seconds per round (DUTY of one core by default). */
    readonly budgetSeconds = ROUND_BUDGET_S,
    /** Training pair slots over all groups past what each needs to train (see PAIR_BUDGET). */
    readonly pairBudget = PAIR_BUDGET,
  ) {
    this.batchY = sharedF32(PREDICT_BATCH * engine.horizonMs.length);
  }

  /** Starts the worker, and with `timer` a round every ROUND_MS. */
  async start(timer = true): Promise<void> {
    const w = startWorker(import.meta.url, 'lstm-worker');
    w.unref();
    w.on('message', (r: Reply) => {
      const done = this.waiting.get(r.seq);
      this.waiting.delete(r.seq);
      done?.(r);
    });
    w.on('error', () => {
      this.engine.trainingErrors++;
      for (const done of this.waiting.values()) done({ seq: -1, ok: false });
      this.waiting.clear();
      this.worker = null;
    });
    this.worker = w;
    if (!timer) return;
    this.timer = setInterval(() => void this.round(), ROUND_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.running !== null) await this.running.catch(() => undefined);
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
  }

  /** One collection, training and prediction round; concurrent calls share the running one. */
  round(): Promise<void> {
    this.running ??= this.doRound().finally(() => {
      this.running = null;
      // Per-round scratch: it keeps no group's data (a dropped one's) alive past its round.
      this.order.length = 0;
    });
    return this.running;
  }

  /**
   * The registry freed peer group `group` (its last series went): its data goes now. A round in
   * progress skips it from its next step on and publishes nothing more of it. Its model is
   * disposed at the start of the next round, when no call to the worker is in flight that could
   * still create or use it.
   */
  dropGroup(group: number): void {
    const gd = this.groups.get(group);
    if (gd === undefined) return;
    this.groups.delete(group);
    this.pairsAllocated -= gd.x.length / RING;
    if (this.worker !== null) this.droppedModels.push(gd.model);
  }

  /** Group data held, for tests and reporting. */
  get groupCount(): number {
    return this.groups.size;
  }

  /** Whether `gd` still is the data of its group (not dropped meanwhile). */
  private current(gd: GroupData): boolean {
    return this.groups.get(gd.group) === gd;
  }

  private call(msg: object): Promise<Reply> {
    const w = this.worker;
    if (w === null) return Promise.resolve({ seq: -1, ok: false });
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      w.postMessage({ ...msg, seq });
    });
  }

  /** Normalised window of series id into this.window; returns the scale, or 0 if unusable. */
  private readWindow(id: number): number {
    const e = this.engine;
    if (e.buckets[id]! < RING) return 0;
    const last = e.recent(id, 0);
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < RING; i++) {
      const v = e.recent(id, RING - 1 - i);
      if (v !== v) return 0;
      this.window[i] = v;
      s += v;
      s2 += v * v;
    }
    const mean = s / RING;
    let sd = Math.sqrt(Math.max(0, s2 / RING - mean * mean));
    sd = Math.max(sd, 1e-3 * Math.abs(mean), 1e-9);
    for (let i = 0; i < RING; i++) this.window[i] = (this.window[i]! - last) / sd;
    return sd;
  }

  private async doRound(): Promise<void> {
    const e = this.engine;
    if (this.worker === null) return;
    if (this.droppedModels.length > 0) {
      this.worker.postMessage({ kind: 'drop', models: this.droppedModels });
      this.droppedModels = [];
    }
    this.rounds++;
    // Pay back an overrun first: this keeps the long-run share at DUTY.
    let left = this.budgetSeconds - this.debt;
    this.debt = Math.max(0, -left);
    this.lastRoundSeconds = 0;
    this.lastRoundWindows = 0;
    if (left <= 0) return;
    const nh = e.horizonMs.length;
    const round = this.rounds;
    const order = this.order;
    order.length = 0;
    // Two passes over the series (count, then place), yielding every CHUNK: no per-round lists.
    for (let id = 0; id < e.capacity; id++) {
      if (id % CHUNK === CHUNK - 1) await new Promise((r) => setImmediate(r));
      const gd = this.memberGroup(id, round, nh);
      if (gd === undefined) continue;
      if (gd.seen !== round) {
        gd.seen = round;
        gd.size = 0;
        order.push(gd);
      }
      gd.size++;
    }
    let total = 0;
    for (const gd of order) {
      gd.start = total;
      gd.filled = 0;
      total += gd.size;
    }
    if (this.memberIds.length < total) this.memberIds = new Int32Array(Math.max(total, 2 * this.memberIds.length));
    const ids = this.memberIds;
    for (let id = 0; id < e.capacity; id++) {
      if (id % CHUNK === CHUNK - 1) await new Promise((r) => setImmediate(r));
      const gd = this.memberGroup(id, round, nh);
      // Series that joined a group between the passes wait for the next round.
      if (gd === undefined || gd.seen !== round || gd.filled === gd.size) continue;
      ids[gd.start + gd.filled++] = id;
    }
    const spend = (seconds: number): void => {
      this.lastRoundSeconds += seconds;
    };
    if (this.collectedAt.length < e.capacity) {
      const grown = new Uint32Array(e.capacity);
      grown.set(this.collectedAt);
      this.collectedAt = grown;
    }
    for (const gd of order) {
      gd.size = gd.filled;
      gd.retrained = false;
      // A group dropped during the round's awaits: its members' ids may be other series now.
      if (gd.size === 0 || !this.current(gd)) continue;
      this.collectPairs(gd, ids);
      // Collection is main-thread work: yield between groups so a round never holds the loop.
      await new Promise((r) => setImmediate(r));
      if (!this.current(gd)) continue;
      if (left > 0 && gd.count >= MIN_PAIRS && (gd.fresh >= RETRAIN_PAIRS || !gd.trained)) {
        gd.fresh = 0;
        const r = await this.call({ kind: 'train', group: gd.model, x: gd.x, y: gd.y, n: gd.count, steps: RING, outputs: nh });
        if (r.ok) {
          gd.retrained = true;
          e.trainingRuns++;
          e.lastTrainingSeconds = r.seconds ?? 0;
          this.trainSeconds += r.seconds ?? 0;
          spend(r.seconds ?? 0);
          left -= r.seconds ?? 0;
          gd.trained = true;
        } else {
          e.trainingErrors++;
          continue;
        }
      }
      if (gd.trained && left > 0 && this.current(gd)) left = await this.predictGroup(gd, ids, left, spend);
    }
    if (left < 0) this.debt += -left;
  }

  /** The group data of series id if it takes part in this round (created on first sight). */
  private memberGroup(id: number, round: number, nh: number): GroupData | undefined {
    const e = this.engine;
    const g = e.groupOf[id]!;
    // -1: a series removed (the pipeline clears its group), whose id is not reused yet.
    if (g < 0 || e.buckets[id]! < RING) return undefined;
    const prof = e.profiles[e.profileIndex(id)]!;
    if (!prof.enabled || !prof.modelOn[LSTM]) return undefined;
    let gd = this.groups.get(g);
    if (gd === undefined) {
      gd = {
        group: g,
        model: this.nextModel++,
        x: sharedF32(INITIAL_PAIRS * RING),
        y: sharedF32(INITIAL_PAIRS * nh),
        count: 0,
        next: 0,
        fresh: 0,
        trained: false,
        retrained: false,
        pending: new PendingWindows(RING + 1, nh, MAX_PENDING, INITIAL_PENDING),
        cursor: 0,
        start: 0,
        size: 0,
        filled: 0,
        seen: round - 1,
      };
      this.groups.set(g, gd);
      this.pairsAllocated += INITIAL_PAIRS;
    }
    return gd;
  }

  /** Doubles a group's pair arrays (see PAIR_BUDGET); false when it may not grow. */
  private growPairs(gd: GroupData, nh: number): boolean {
    const cap = gd.x.length / RING;
    const next = Math.min(MAX_PAIRS, cap * 2);
    if (next === cap || (cap >= MIN_PAIRS && this.pairsAllocated + next - cap > this.pairBudget)) return false;
    const x = sharedF32(next * RING);
    x.set(gd.x);
    const y = sharedF32(next * nh);
    y.set(gd.y);
    gd.x = x;
    gd.y = y;
    this.pairsAllocated += next - cap;
    return true;
  }

  /** Turns snapshots whose horizons have all come to pass into training pairs, takes new ones. */
  private collectPairs(gd: GroupData, ids: Int32Array): void {
    const e = this.engine;
    const nh = e.horizonMs.length;
    const p = gd.pending;
    const W = RING + 1;
    let keep = 0;
    for (let k = 0; k < p.count; k++) {
      const id = p.id[k]!;
      const sn = p.n[k]!;
      const n = e.buckets[id]!;
      const step = e.stepMs[id]!;
      let complete = true;
      let lost = false;
      for (let h = 0; h < nh; h++) {
        const gi = k * nh + h;
        if (p.got[gi]) continue;
        const target = sn + Math.max(1, Math.round(e.horizonMs[h]! / step));
        if (target > n) complete = false;
        else {
          // The day ring keeps a day of buckets: a target older than that (or a series reset
          // meanwhile) loses the window.
          const v = n < sn ? NaN : e.recent(id, n - target);
          if (v !== v) lost = true;
          else {
            p.y[gi] = (v - p.y[gi]!) / p.x[k * W + RING]!;
            p.got[gi] = 1;
          }
        }
      }
      if (lost) continue;
      if (!complete) {
        p.move(k, keep++);
        continue;
      }
      let i = gd.next;
      // Full at its size and not allowed to grow: the oldest pair makes room.
      if (i * RING === gd.x.length && !this.growPairs(gd, nh)) i = 0;
      gd.x.set(p.x.subarray(k * W, k * W + RING), i * RING);
      for (let h = 0; h < nh; h++) gd.y[i * nh + h] = Math.max(-10, Math.min(10, p.y[k * nh + h]!));
      gd.next = i + 1;
      gd.count = Math.min(gd.x.length / RING, gd.count + 1);
      gd.fresh++;
    }
    p.count = keep;
    const stride = Math.max(1, Math.floor(gd.size / SAMPLED_PER_GROUP));
    for (let k = 0; k < gd.size; k += stride) {
      const id = ids[gd.start + k]!;
      if (p.full) break;
      const n = e.buckets[id]!;
      if (this.collectedAt[id] === n) continue;
      const sd = this.readWindow(id);
      if (sd === 0) continue;
      this.collectedAt[id] = n;
      const r = p.push(id, n);
      p.x.set(this.window, r * W);
      p.x[r * W + RING] = sd;
      // y holds the last value until each target arrives, then the normalised change.
      p.y.fill(e.recent(id, 0), r * nh, r * nh + nh);
    }
  }

  /**
   * Predicts the group's series in batches from its cursor while worker time is left; returns
   * the time left. A series whose prediction is of its latest bucket is skipped unless the model
   * was retrained this round: its window has not changed. The batch size follows the measured
   * cost per window so a round overruns its budget by at most one small batch.
   */
  private async predictGroup(gd: GroupData, ids: Int32Array, left: number, spend: (s: number) => void): Promise<number> {
    const e = this.engine;
    const g = gd.group;
    const nh = e.horizonMs.length;
    const len = gd.size;
    const batch = this.batch;
    const scale = this.batchScale;
    const at = this.batchAt;
    const x = this.batchX;
    const y = this.batchY;
    let visited = 0;
    if (gd.cursor >= len) gd.cursor = 0;
    while (visited < len && left > 0) {
      const perWindow = this.predictedWindows > 0 ? this.predictSeconds / this.predictedWindows : 0;
      let size = PREDICT_BATCH;
      if (perWindow > 0) size = Math.max(1, Math.min(size, Math.ceil(left / perWindow)));
      let n = 0;
      while (n < size && visited < len) {
        const id = ids[gd.start + gd.cursor]!;
        gd.cursor = gd.cursor + 1 === len ? 0 : gd.cursor + 1;
        visited++;
        const b = e.buckets[id]!;
        if (!gd.retrained && e.lstmAt[id] === Math.max(1, b)) continue;
        const sd = this.readWindow(id);
        if (sd === 0) continue;
        batch[n] = id;
        scale[n] = sd;
        at[n] = b;
        x.set(this.window, n * RING);
        n++;
      }
      if (n === 0) break;
      await new Promise((r) => setImmediate(r));
      const r = await this.call({ kind: 'predict', group: gd.model, x, y, n, steps: RING });
      if (!r.ok) return left;
      const sec = r.seconds ?? 0;
      this.predictSeconds += sec;
      this.predictedWindows += n;
      this.lastRoundWindows += n;
      spend(sec);
      left -= sec;
      // Dropped while the worker predicted, its id maybe another pair's group already: the
      // batch's series may be that group's now, and the predictions are not theirs.
      if (!this.current(gd)) return left;
      for (let k = 0; k < n; k++) {
        const id = batch[k]!;
        // A series reset or moved to another group meanwhile keeps no stale prediction.
        if (e.groupOf[id] !== g || e.buckets[id]! < at[k]!) continue;
        for (let h = 0; h < nh; h++) e.lstmChange[h]![id] = y[k * nh + h]! * scale[k]!;
        e.lstmAt[id] = Math.max(1, at[k]!);
      }
    }
    return left;
  }

}
