import { Worker } from 'node:worker_threads';
import { posMod } from '../util/modulo.js';
import { grown, type GrowSteps } from '../series/component.js';
import type { Detector, DetectorOutput } from './detector.js';
import { FEATURES, Forest, trainForest } from './forest.js';
import type { TrainJob, TrainResult } from './forest-worker.js';
import { scaleFloor } from './robust.js';

/** Feature rows kept per peer group for training (a ring, refreshed by strided sampling). */
export const ROWS = 256;
const FIRST_TRAIN_ROWS = 64;
const RETRAIN_ROWS = 256;
/** Forest slots; peer groups beyond this share slots (group index modulo MAX_SLOTS). */
const MAX_SLOTS = 4096;
const TICK_MS = 1000;
const JOBS_PER_TICK = 32;
const CLIP = 8;
/**
 * Rows whose features all lie within ±CORE of their usual values (the features are in sigmas)
 * sit in the dense core the forests are trained on, where isolation paths are long and the score
 * is at or under the training mean (raw 0): the tree walk is skipped for them. Most samples are
 * such rows, so this removes most of the forest's request-path cost.
 */
const CORE = 2;
/** Volatility ratios whose logarithm (feature 4) is surely inside ±CORE, rounding included. */
const CORE_RATIO_LO = Math.exp(-CORE + 0.01);
const CORE_RATIO_HI = Math.exp(CORE - 0.01);
/** Replay: sample time advancing over REPLAY_SPEED times faster than wall time, by more than
 * REPLAY_MIN_MS between two checks (see replaying). */
const REPLAY_SPEED = 30;
const REPLAY_MIN_MS = 30_000;
/** `moving` above which a drop in volatility counts as a flatline: more than half the samples move. */
const USUALLY_MOVES = 32768;

/**
 * Multivariate isolation forest per peer group. Each sample contributes a feature row (level z,
 * Holt-Winters z, seasonal z, first difference z, log short/long volatility); the scorer fills the
 * first three in `features`. Rows are sampled into a per-group ring; forests are trained on it
 * periodically, in a worker thread once `start()` was called, else inline (deterministic, for
 * backtests and tests). Scoring walks TREES small trees: a few hundred nanoseconds.
 */
export class ForestDetector implements Detector {
  readonly name = 'isolation_forest';
  /** Scratch row: the scorer writes features 0..2 before `update`. */
  readonly features = new Float64Array(FEATURES);
  /** ln(short / long volatility) of the last update (0 until known), also used for flatlines. */
  lastLogVolRatio = 0;
  slotOf = new Int32Array(0);
  prev = new Float64Array(0);
  volShort = new Float32Array(0);
  volLong = new Float32Array(0);
  /**
   * Share of recent samples that moved (changed by more than the noise floor), 0..65535, an EWMA
   * over about 128 samples: only a series that usually moves can flatline. A step gauge or an idle
   * counter that changed once is still flat afterwards, not flatlining.
   */
  moving = new Uint16Array(0);

  private forests: (Forest | undefined)[] = [];
  private bufs: (Float32Array | undefined)[] = [];
  /** Samples to pass over before the next row, rows written and rows written since the last
   * training, per slot. */
  private skip = new Int32Array(MAX_SLOTS);
  private rowsWritten = new Float64Array(MAX_SLOTS);
  private rowsNew = new Int32Array(MAX_SLOTS);
  private members = new Int32Array(MAX_SLOTS);
  private stride = new Int32Array(MAX_SLOTS);
  private pending = new Uint8Array(MAX_SLOTS);
  private worker: Worker | undefined;
  private timer: NodeJS.Timeout | undefined;
  private jobSeq = 0;
  private wall0 = 0;
  private sample0 = 0;
  private lastT = 0;
  private replay = false;

  trainingRuns = 0;
  trainingErrors = 0;
  trainingSeconds = 0;
  lastTrainingSeconds = 0;
  /** Message of the last training failure, for logs. */
  lastTrainingError = '';

  *grow(capacity: number, used: () => number): GrowSteps {
    this.slotOf = yield* grown(this.slotOf, capacity, used);
    this.prev = yield* grown(this.prev, capacity, used);
    this.volShort = yield* grown(this.volShort, capacity, used);
    this.volLong = yield* grown(this.volLong, capacity, used);
    this.moving = yield* grown(this.moving, capacity, used);
  }

  initIds(from: number, to: number): void {
    this.slotOf.fill(-1, from, to);
    this.prev.fill(NaN, from, to);
  }

  reset(id: number): void {
    const s = this.slotOf[id]!;
    if (s >= 0) this.members[s] = Math.max(0, this.members[s]! - 1);
    this.slotOf[id] = -1;
    this.prev[id] = NaN;
    this.volShort[id] = 0;
    this.volLong[id] = 0;
    this.moving[id] = 0;
  }

  setGroup(id: number, group: number): void {
    const old = this.slotOf[id]!;
    if (old >= 0) this.members[old] = Math.max(0, this.members[old]! - 1);
    const s = group < 0 ? 0 : group % MAX_SLOTS;
    this.slotOf[id] = s;
    this.members[s] = this.members[s]! + 1;
    // Each member contributes about every (members/2)-th of its samples, so the ring spans roughly
    // the last ROWS*2/members samples of every member.
    this.stride[s] = Math.max(1, (this.members[s]! + 1) >> 1);
  }

  /** Volatility features are updated here; x is the raw value. */
  update(id: number, tMs: number, x: number, out: DetectorOutput): void {
    out.expected = NaN;
    out.lower = NaN;
    out.upper = NaN;
    out.raw = 0;
    const fv = this.features;
    this.lastLogVolRatio = 0;
    const p = this.prev[id]!;
    this.prev[id] = x;
    if (p !== p) return; // first sample: no difference yet
    const d = x - p;
    const ad = d < 0 ? -d : d;
    const vs = this.volShort[id]! + 0.2 * (ad - this.volShort[id]!);
    const vl = this.volLong[id]! === 0 ? ad : this.volLong[id]! + 0.01 * (ad - this.volLong[id]!);
    this.volShort[id] = vs;
    this.volLong[id] = vl;
    const eps = scaleFloor(x);
    const m = this.moving[id]!;
    this.moving[id] = m + (((ad > eps ? 65535 : 0) - m) >> 7);
    fv[3] = clip(d / (vl * 1.2533 + eps));
    fv[0] = clip(fv[0]!);
    fv[1] = clip(fv[1]!);
    fv[2] = clip(fv[2]!);

    let s = this.slotOf[id]!;
    if (s < 0) { s = 0; this.setGroup(id, 0); }
    const ratio = (vs + eps) / (vl + eps);
    // The logarithm is skipped for most samples: a ratio well inside e^±2 keeps the row in the core
    // (no tree walk) when the other features are, and is far from a flatline (e^-3); only a row
    // that is scored or kept for training needs the exact value.
    if (ratio > CORE_RATIO_LO && ratio < CORE_RATIO_HI && this.skip[s] !== 0 && inCore(fv, FEATURES - 1)) {
      fv[4] = 0;
      this.sample(s, fv, tMs);
      return;
    }
    const lr = Math.log(ratio);
    fv[4] = lr > 4 ? 4 : lr < -4 ? -4 : lr;
    if (this.moving[id]! >= USUALLY_MOVES) this.lastLogVolRatio = fv[4]!;
    const f = this.forests[s];
    if (f !== undefined && !inCore(fv, FEATURES)) {
      const z = (f.score(fv) - f.mean) / f.spread;
      out.raw = z > 0 ? z : 0;
    }
    this.sample(s, fv, tMs);
  }

  /**
   * True when samples arrive far faster than their timestamps advance (a backtest or a bulk
   * backfill replaying history): forests then train inline, in sample time, so a replay is
   * deterministic and sees the forests it would have had live, instead of whatever the worker
   * finished while the replay raced ahead. Live traffic (sample time close to wall time) always
   * trains in the worker.
   */
  private replaying(tMs: number): boolean {
    // Judged over windows of at least a second of wall time (or as soon as sample time has clearly
    // raced ahead), so one old sample at startup or a short catch-up burst does not mark live
    // traffic as a replay for long, and every caller sees the same verdict.
    const now = performance.now();
    const dw = now - this.wall0;
    const ds = tMs - this.sample0;
    if (ds > REPLAY_SPEED * dw + REPLAY_MIN_MS) this.replay = true;
    else if (dw >= 1000) this.replay = false;
    else return this.replay;
    this.wall0 = now;
    this.sample0 = tMs;
    return this.replay;
  }

  private sample(s: number, fv: Float64Array, tMs: number): void {
    if (this.wall0 === 0) { this.wall0 = performance.now(); this.sample0 = tMs; }
    this.lastT = tMs;
    const skip = this.skip[s]!;
    if (skip > 0) {
      this.skip[s] = skip - 1;
      return;
    }
    this.skip[s] = this.stride[s]! - 1;
    let buf = this.bufs[s];
    if (buf === undefined) {
      buf = new Float32Array(ROWS * FEATURES); // once per group
      this.bufs[s] = buf;
    }
    const row = posMod(this.rowsWritten[s]!, ROWS);
    this.rowsWritten[s] = this.rowsWritten[s]! + 1;
    for (let k = 0; k < FEATURES; k++) buf[row * FEATURES + k] = fv[k]!;
    const n = ++this.rowsNew[s]!;
    if (this.pending[s] === 0) {
      const trained = this.forests[s] !== undefined;
      if (((!trained && n >= FIRST_TRAIN_ROWS) || n >= RETRAIN_ROWS) &&
        (this.worker === undefined || this.replaying(tMs))) this.trainInline(s);
    }
  }

  private held(s: number): number {
    const total = this.rowsWritten[s]!;
    return total > ROWS ? ROWS : total;
  }

  private trainInline(s: number): void {
    const t0 = performance.now();
    const rows = this.held(s);
    this.forests[s] = trainForest(this.bufs[s]!, rows, 0x9e3779b9 ^ (s * 7919 + this.trainingRuns));
    this.finishRun(s, (performance.now() - t0) / 1000);
  }

  private finishRun(s: number, seconds: number): void {
    this.rowsNew[s] = 0;
    this.trainingRuns++;
    this.lastTrainingSeconds = seconds;
    this.trainingSeconds += seconds;
  }

  start(): void {
    if (this.worker !== undefined) return;
    // Under tsx (tests, benches) this module is the .ts source; built, it is .js.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const url = new URL('./forest-worker' + ext, import.meta.url);
    const w = ext === '.js'
      ? new Worker(url)
      : new Worker(`import('tsx/esm/api').then((t) => t.register()).then(() => import(${JSON.stringify(url.href)}))`, { eval: true });
    w.on('message', (r: TrainResult) => this.onResult(r));
    w.on('error', (e) => { this.trainingErrors++; this.lastTrainingError = String(e); });
    w.unref();
    this.worker = w;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const w = this.worker;
    this.worker = undefined;
    this.pending.fill(0);
    if (w !== undefined) await w.terminate();
  }

  /** Queues training for groups with enough new rows (called from the timer). */
  tick(): void {
    const w = this.worker;
    if (w === undefined || (this.wall0 !== 0 && this.replaying(this.lastT))) return;
    let jobs = 0;
    for (let s = 0; s < MAX_SLOTS && jobs < JOBS_PER_TICK; s++) {
      const n = this.rowsNew[s]!;
      if (this.pending[s] !== 0 || n === 0) continue;
      if (!(this.forests[s] === undefined ? n >= FIRST_TRAIN_ROWS : n >= RETRAIN_ROWS)) continue;
      const rows = this.held(s);
      const data = this.bufs[s]!.slice(0, rows * FEATURES);
      const job: TrainJob = { job: ++this.jobSeq, slot: s, data, rows, seed: 0x9e3779b9 ^ (s * 7919 + this.trainingRuns) };
      this.pending[s] = 1;
      this.rowsNew[s] = 0;
      w.postMessage(job, [data.buffer as ArrayBuffer]);
      jobs++;
    }
  }

  private onResult(r: TrainResult): void {
    this.pending[r.slot] = 0;
    if (r.error !== undefined || r.feat === undefined || r.split === undefined) {
      this.trainingErrors++;
      this.lastTrainingError = r.error ?? 'empty result';
      return;
    }
    this.forests[r.slot] = new Forest(r.feat, r.split, r.mean!, r.spread!);
    this.trainingRuns++;
    this.lastTrainingSeconds = r.seconds;
    this.trainingSeconds += r.seconds;
  }
}

/** True when features 0..n-1 of the row all lie within ±CORE. */
function inCore(fv: Float64Array, n: number): boolean {
  for (let k = 0; k < n; k++) {
    const v = fv[k]!;
    if (v > CORE || v < -CORE) return false;
  }
  return true;
}

function clip(v: number): number {
  return v > CLIP ? CLIP : v < -CLIP ? -CLIP : v;
}
