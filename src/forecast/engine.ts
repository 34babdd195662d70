import { grown, resizeNow, type GrowSteps, type SeriesComponent } from '../series/component.js';
import { posMod } from '../util/modulo.js';
import type { ForecastConfig } from './config.js';
import { durationMs } from '../config/duration.js';
import { formatDurationMs } from './duration.js';
import { IntervalTable } from './intervals.js';
import {
  dampedSteps,
  HOLT,
  HOLT_SF,
  HOLT_TF,
  HW,
  HW_ALPHA,
  HW_BETA,
  HW_GAMMA,
  HW_PHI,
  LINEAR,
  LSTM,
  MODEL_COUNT,
  MODEL_NAMES,
  NAIVE,
  NO_MODEL,
  SES,
  SES_ALPHA,
  SNAIVE,
} from './models.js';
import {
  decideSeason,
  DAY_MS,
  foldSlot,
  LAG_COUNT,
  LAGS,
  SEASON_MIN_VISITS,
  SEASON_NONE,
  SEASON_UNDECIDED,
  SLOT_MS,
  SLOTS,
} from './season.js';
import type { LstmRunner } from './lstm-runner.js';

/** Width of one model step (bucket) unless the series is sampled more sparsely. */
export const BASE_STEP_MS = 300_000;
/** LSTM input window, in buckets (read from the day ring). */
export const RING = 16;
/** Day ring entries per series: one day of 5-minute buckets (fewer are used at coarser steps). */
export const DAY_BUCKETS = 288;
/** Day ring codes: 0..QMAX map linearly onto the series' range [qLo, qHi]; MISSING is unknown. */
const QMAX = 254;
const MISSING = 255;
/** Holt-Winters season coefficients are Int16 codes; a new scale is range / HW_Q. */
const HW_Q = 4096;
/** Samples used to learn the sampling interval before the models start. */
const WARM = 8;
/**
 * Samples counted exactly per bucket; past this the bucket value becomes a running mean (each
 * further sample moves it by 1/ACC_MAX of its distance), so it stays within the samples' range
 * however many arrive. Only sampling finer than 5 ms fills a 5-minute bucket.
 */
const ACC_MAX = 65535;
/**
 * The step is learnt from the first samples. A series whose step is at least 4 base steps (so
 * sampled sparsely at first) learns it again when its open bucket receives at least RELEARN_MIN
 * samples at a mean interval under step / RELEARN_RATIO: else a series scraped once a day at
 * first and every second later would be forecast from daily buckets.
 */
const RELEARN_MIN = 32;
const RELEARN_RATIO = 8;
/**
 * Model state is Float32, stored as offsets from a per-series Float64 anchor. The anchor moves to
 * the latest bucket value when that lies more than REANCHOR_NOISE running MAEs from it (Float32
 * rounding then stays under 3e-4 MAE), or, once a day, more than the last day's range.
 */
const REANCHOR_NOISE = 4096;
/** Missing buckets walked one by one after a gap; longer gaps are jumped. */
const MAX_GAP_BUCKETS = 64;
/** Running MAE weight once enough rolling-origin evaluations were made. */
const MAE_RATE = 0.05;
/**
 * Outliers are held back from the models. A closed bucket's value further from the previous
 * bucket's than OUTLIER_MAES running MAEs (of the first horizon's choice) and OUTLIER_RANGES times
 * the day ring's range (about the last day's extremes) is replaced by the previous value, for up
 * to MAX_HELD buckets in a row: a level shift gets in after them. If the latest sample is as far,
 * it is replaced too (it is the naive forecast) and the models are not scored against it. One 1e6
 * sample in a calm series then moves neither the models' state (levels, day ring range, season
 * statistics) nor their running MAEs, which choose the model: it took days to fade from either.
 * Clipping each error at 5 running MAEs before it enters the MAE (Huber-style) instead made NAB
 * MASE 7-13% worse (`npm run bench:forecast`): MASE is an MAE, rare large errors are what tells
 * models apart, and on noise-free series an MAE near 0 could hardly grow again.
 */
const OUTLIER_MAES = 8;
const OUTLIER_RANGES = 2;
const MAX_HELD = 2;
/** sinceShift of a series with no level shift in its last 65,534 buckets (227 days). */
const NO_SHIFT = 0xffff;
/** Evaluations before the choice leaves its default (simple exponential smoothing). */
const MIN_EVALS = 3;
/** A new model replaces the current choice only when its MAE is this much smaller. */
const SWITCH_MARGIN = 0.97;
/**
 * A shorter horizon's choice serves a longer unchecked one only when its error there is under
 * this share of SES's: a ramp (linear's error a fraction of SES's). Weaker evidence is a local
 * slope of a daily cycle as often as a trend: `bench/forecast-early.ts`, published 1h forecasts
 * over a series' first 4 hours, NAB 0.901 / generated seasonal 1.092 / steep 1.138 of naive
 * without borrowing, 0.899 / 1.089 / 0.960 at 0.2, 0.901 / 1.096 / 0.755 at 0.4, 0.937 / 1.110 /
 * 0.559 borrowing every choice.
 */
const BORROW_RATIO = 0.4;
/** Season slots per series for the Holt-Winters profile. */
const HW_SLOTS = SLOTS;
/** Step (model bucket width) for a sampling interval: the smallest divisor of a day >= it. */
export function stepFor(gapMs: number): number {
  if (!(gapMs > BASE_STEP_MS) || !Number.isFinite(gapMs)) return BASE_STEP_MS;
  for (let u = Math.ceil(gapMs / BASE_STEP_MS - 1e-9); u < DAY_BUCKETS; u++) {
    if (DAY_BUCKETS % u === 0) return u * BASE_STEP_MS;
  }
  return DAY_MS;
}
/** Points sampled along each horizon's stretch of the breach path (see updateBreach). */
const BREACH_POINTS = 24;
const SEASON_STATS = 2 + LAG_COUNT;

export interface ForecastPoint {
  t: number;
  value: number;
  lower: number;
  upper: number;
  /** Every configured level of the series' profile, the first being `lower`/`upper`. */
  intervals: { level: number; lower: number; upper: number }[];
}

interface Profile {
  enabled: boolean;
  /** Per engine horizon index: whether this profile forecasts it. */
  horizonOn: boolean[];
  /** Engine horizon indexes of this profile, shortest first. */
  horizons: number[];
  levels: number[];
  /** Per engine limit index (thresholds, then floors): whether this profile exposes it. */
  limitOn: boolean[];
  modelOn: boolean[];
  /**
   * Per engine horizon index, the model served until that horizon's choice has been checked
   * against MIN_EVALS outcomes: Holt (level and trend) up to HOLT_DEFAULT_MS when it is on, else SES.
   */
  defaultModel: number[];
  intervals: IntervalTable;
}

/**
 * Horizons up to which Holt is the default model. Over the first 2 hours of each series, Holt's
 * 5-minute-ahead errors were 0.955 / 0.848 / 0.387 of SES's (NAB, generated seasonal, generated
 * steep trends) and naive's 1.054 / 0.848 / 0.229; 1 hour ahead over the first 6 hours Holt's were
 * 1.030 / 0.970 / 0.926, and Holt is SES's worst long-horizon rival on NAB (4h MASE 3.1 against 2.0).
 * `node --import tsx bench/forecast-early.ts` prints these.
 */
const HOLT_DEFAULT_MS = 15 * 60_000;

/**
 * Forecasts every series at each configured horizon. Samples are aggregated into buckets of 5
 * minutes (or the series' sampling interval when coarser); each closed bucket updates the models,
 * makes a rolling-origin forecast every `horizon` to score every model, and refreshes the chosen
 * model's forecast and interval. All state lives in typed arrays indexed by series id.
 */
export class ForecastEngine implements SeriesComponent {
  readonly horizonMs: number[];
  readonly horizonLabels: string[];
  /** Upper limits (breach_thresholds), ascending: breachSeconds[0 .. thresholds.length). */
  readonly thresholds: number[];
  /** Lower limits (breach_floors), ascending: breachSeconds[thresholds.length + j]. */
  readonly floors: number[];
  readonly profiles: Profile[];
  /** Every limit, uppers then floors, and +1 for an upper limit, -1 for a floor. */
  private readonly limitAt: Float64Array;
  private readonly limitSign: Float64Array;

  /**
   * Outputs per horizon index: the forecast made now for now + horizon and its interval. Float64:
   * exposed as they are, and Float32 would round a timestamp gauge (1.7e9) to 128.
   */
  forecast: Float64Array[];
  lower: Float64Array[];
  upper: Float64Array[];
  /**
   * Per limit index (uppers then floors): seconds until the forecast path reaches it from the
   * series' side, 0 while the series is at or past it, +Inf when the path does not reach it (see
   * updateBreach).
   */
  breachSeconds: Float32Array[];

  trainingRuns = 0;
  trainingErrors = 0;
  lastTrainingSeconds = 0;

  private cap = 0;
  private profileOf = new Uint8Array(0);
  groupOf = new Int32Array(0);
  // sampling and buckets
  /**
   * Samples seen while learning the step (< WARM); then WARM, or WARM + k after k bucket values
   * in a row were held back as outliers.
   */
  private warm = new Uint8Array(0);
  /** Buckets closed since the last level shift (see closeBucket); NO_SHIFT when none is known. */
  private sinceShift = new Uint16Array(0);
  /** Bucket width; during warm-up, the smallest gap seen so far (0 = none). */
  stepMs = new Uint32Array(0);
  /** End time of the last closed bucket: the origin of the current forecasts. */
  bucketEnd = new Float64Array(0);
  private accSum = new Float64Array(0);
  private accCount = new Uint16Array(0);
  /**
   * Per-series origin of every level-like Float32 state (latest value, model levels, day ring
   * range, slot sums, pending forecasts): those hold value - anchor, so their rounding is relative
   * to the series' movement, not to its magnitude.
   */
  anchor = new Float64Array(0);
  /** Latest sample, as an offset from the anchor. */
  lastOff = new Float32Array(0);
  /** Quarter of the open bucket in which its forecast was last refreshed (0: at the bucket end). */
  refreshedQuarter = new Uint8Array(0);
  /** Buckets closed so far (1 = first). */
  buckets = new Uint32Array(0);
  /**
   * Day ring: the last day of bucket means, 8-bit codes over [qLo, qHi]; the bucket ending at E
   * sits at position floor((E mod day) / step). The range is refitted to the last day's extremes
   * once a day (so values at the extremes, such as both levels of a square wave, are exact) and
   * widened with headroom when a value falls outside it.
   */
  private dayRing = new Uint8Array(0);
  private qLo = new Float32Array(0);
  private qHi = new Float32Array(0);
  private dMin = new Float32Array(0);
  private dMax = new Float32Array(0);
  // models
  private sesL = new Float32Array(0);
  private holtS = new Float32Array(0);
  private holtB = new Float32Array(0);
  private hwL = new Float32Array(0);
  private hwB = new Float32Array(0);
  /** Time (Unix seconds) of Holt-Winters' last update; its season as Int16 codes of hwScale. */
  private hwT = new Uint32Array(0);
  private hwS = new Int16Array(0);
  private hwScale = new Float32Array(0);
  private season = new Uint8Array(0);
  private slotNow = new Int8Array(0);
  private slotSum = new Float32Array(0);
  private slotCount = new Uint8Array(0);
  /** Sum and count of yesterday's values at the positions of the current slot. */
  private slotPrevSum = new Float32Array(0);
  private slotPrevCount = new Uint8Array(0);
  private readonly lagVals = new Float64Array(LAG_COUNT);
  private readonly slotMeans = new Float64Array(SLOTS);
  /** Completed slot visits; past 252 it steps back by 126 (it only matters >= 96, mod 6). */
  private slotVisits = new Uint8Array(0);
  private seasonStats = new Float32Array(0);
  /** LSTM: predicted change to each horizon, and the bucket count when it was published. */
  lstmChange: Float32Array[];
  lstmAt = new Uint32Array(0);
  // choice, per horizon index
  private pend: Float32Array[];
  private pendDue: Uint32Array[];
  private mae: Float32Array[];
  private evals: Uint8Array[];
  private chosen: Uint8Array[];
  /** Scratch (not per series): model usage counted by `countUsage`, per horizon x model. */
  private usage: Float64Array;
  /** Scratch (not per series): the breach path's leads (ms) and values (offsets), see breachPath. */
  private readonly breachTau: Float64Array;
  private readonly breachVal: Float64Array;

  lstm: LstmRunner | null = null;
  private readonly configs: readonly ForecastConfig[];

  constructor(configs: readonly ForecastConfig[]) {
    this.configs = configs;
    if (configs.length === 0) throw new Error('ForecastEngine needs at least one profile');
    const hset = new Set<number>();
    const tset = new Set<number>();
    const fset = new Set<number>();
    for (const c of configs) {
      for (const h of c.horizons) hset.add(durationMs(h));
      for (const t of c.breach_thresholds) tset.add(t);
      for (const t of c.breach_floors) fset.add(t);
    }
    this.horizonMs = [...hset].sort((a, b) => a - b);
    this.horizonLabels = this.horizonMs.map(formatDurationMs);
    this.thresholds = [...tset].sort((a, b) => a - b);
    this.floors = [...fset].sort((a, b) => a - b);
    this.limitAt = Float64Array.from([...this.thresholds, ...this.floors]);
    this.limitSign = Float64Array.from([...this.thresholds.map(() => 1), ...this.floors.map(() => -1)]);
    const nh = this.horizonMs.length;
    this.profiles = configs.map((c) => {
      const on = new Set(c.horizons.map(durationMs));
      const horizonOn = this.horizonMs.map((h) => on.has(h));
      const horizons = horizonOn.flatMap((o, i) => (o ? [i] : []));
      const ths = new Set(c.breach_thresholds);
      const fls = new Set(c.breach_floors);
      const m = c.models;
      return {
        enabled: c.enabled,
        horizonOn,
        horizons,
        levels: [...c.levels],
        limitOn: [...this.thresholds.map((t) => ths.has(t)), ...this.floors.map((t) => fls.has(t))],
        modelOn: [m.naive, m.ses, m.seasonal_naive, m.linear, m.holt, m.holt_winters, m.lstm],
        defaultModel: this.horizonMs.map((ms) => (m.holt && ms <= HOLT_DEFAULT_MS ? HOLT : SES)),
        intervals: new IntervalTable(MODEL_COUNT * nh, c.levels),
      };
    });
    const per = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);
    this.forecast = per(nh, () => new Float64Array(0));
    this.lower = per(nh, () => new Float64Array(0));
    this.upper = per(nh, () => new Float64Array(0));
    this.breachSeconds = per(this.limitAt.length, () => new Float32Array(0));
    this.lstmChange = per(nh, () => new Float32Array(0));
    this.pend = per(nh, () => new Float32Array(0));
    this.pendDue = per(nh, () => new Uint32Array(0));
    this.mae = per(nh, () => new Float32Array(0));
    this.evals = per(nh, () => new Uint8Array(0));
    this.chosen = per(nh, () => new Uint8Array(0));
    this.usage = new Float64Array(nh * MODEL_COUNT);
    this.breachTau = new Float64Array(nh * BREACH_POINTS);
    this.breachVal = new Float64Array(nh * BREACH_POINTS);
  }

  get capacity(): number {
    return this.cap;
  }

  /** Grows at once, outside a registry. */
  resize(capacity: number): void {
    resizeNow(this, this.cap, capacity);
  }

  *grow(capacity: number, used: () => number): GrowSteps {
    if (capacity <= this.cap) return;
    const n = capacity;
    this.profileOf = yield* grown(this.profileOf, n, used);
    this.groupOf = yield* grown(this.groupOf, n, used);
    this.warm = yield* grown(this.warm, n, used);
    this.sinceShift = yield* grown(this.sinceShift, n, used);
    this.stepMs = yield* grown(this.stepMs, n, used);
    this.bucketEnd = yield* grown(this.bucketEnd, n, used);
    this.accSum = yield* grown(this.accSum, n, used);
    this.accCount = yield* grown(this.accCount, n, used);
    this.anchor = yield* grown(this.anchor, n, used);
    this.lastOff = yield* grown(this.lastOff, n, used);
    this.refreshedQuarter = yield* grown(this.refreshedQuarter, n, used);
    this.buckets = yield* grown(this.buckets, n, used);
    this.dayRing = yield* grown(this.dayRing, n, used, DAY_BUCKETS);
    this.qLo = yield* grown(this.qLo, n, used);
    this.qHi = yield* grown(this.qHi, n, used);
    this.dMin = yield* grown(this.dMin, n, used);
    this.dMax = yield* grown(this.dMax, n, used);
    this.sesL = yield* grown(this.sesL, n, used);
    this.holtS = yield* grown(this.holtS, n, used);
    this.holtB = yield* grown(this.holtB, n, used);
    this.hwL = yield* grown(this.hwL, n, used);
    this.hwB = yield* grown(this.hwB, n, used);
    this.hwT = yield* grown(this.hwT, n, used);
    this.hwS = yield* grown(this.hwS, n, used, HW_SLOTS);
    this.hwScale = yield* grown(this.hwScale, n, used);
    this.season = yield* grown(this.season, n, used);
    this.slotNow = yield* grown(this.slotNow, n, used);
    this.slotSum = yield* grown(this.slotSum, n, used);
    this.slotCount = yield* grown(this.slotCount, n, used);
    this.slotPrevSum = yield* grown(this.slotPrevSum, n, used);
    this.slotPrevCount = yield* grown(this.slotPrevCount, n, used);
    this.slotVisits = yield* grown(this.slotVisits, n, used);
    this.seasonStats = yield* grown(this.seasonStats, n, used, SEASON_STATS);
    this.lstmAt = yield* grown(this.lstmAt, n, used);
    for (let h = 0; h < this.horizonMs.length; h++) {
      this.forecast[h] = yield* grown(this.forecast[h]!, n, used);
      this.lower[h] = yield* grown(this.lower[h]!, n, used);
      this.upper[h] = yield* grown(this.upper[h]!, n, used);
      this.lstmChange[h] = yield* grown(this.lstmChange[h]!, n, used);
      this.pend[h] = yield* grown(this.pend[h]!, n, used, MODEL_COUNT);
      this.pendDue[h] = yield* grown(this.pendDue[h]!, n, used);
      this.mae[h] = yield* grown(this.mae[h]!, n, used, MODEL_COUNT);
      this.evals[h] = yield* grown(this.evals[h]!, n, used);
      this.chosen[h] = yield* grown(this.chosen[h]!, n, used);
    }
    for (let t = 0; t < this.limitAt.length; t++) {
      this.breachSeconds[t] = yield* grown(this.breachSeconds[t]!, n, used);
    }
    this.cap = capacity;
  }

  initIds(from: number, to: number): void {
    this.groupOf.fill(-1, from, to);
    this.sinceShift.fill(NO_SHIFT, from, to);
    this.bucketEnd.fill(NaN, from, to);
    this.lastOff.fill(NaN, from, to);
    this.dayRing.fill(MISSING, from * DAY_BUCKETS, to * DAY_BUCKETS);
    this.qLo.fill(NaN, from, to);
    this.qHi.fill(NaN, from, to);
    this.dMin.fill(NaN, from, to);
    this.dMax.fill(NaN, from, to);
    this.sesL.fill(NaN, from, to);
    this.holtS.fill(NaN, from, to);
    this.hwL.fill(NaN, from, to);
    this.season.fill(SEASON_UNDECIDED, from, to);
    this.slotNow.fill(-1, from, to);
    for (let h = 0; h < this.horizonMs.length; h++) {
      this.forecast[h]!.fill(NaN, from, to);
      this.lower[h]!.fill(NaN, from, to);
      this.upper[h]!.fill(NaN, from, to);
      this.lstmChange[h]!.fill(NaN, from, to);
      this.pend[h]!.fill(NaN, from * MODEL_COUNT, to * MODEL_COUNT);
      this.mae[h]!.fill(NaN, from * MODEL_COUNT, to * MODEL_COUNT);
      this.chosen[h]!.fill(NO_MODEL, from, to);
    }
    for (let t = 0; t < this.limitAt.length; t++) this.breachSeconds[t]!.fill(NaN, from, to);
  }

  reset(id: number): void {
    for (let h = 0; h < this.horizonMs.length; h++) {
      this.forecast[h]![id] = NaN;
      this.lower[h]![id] = NaN;
      this.upper[h]![id] = NaN;
    }
    for (let t = 0; t < this.limitAt.length; t++) this.breachSeconds[t]![id] = NaN;
    this.profileOf[id] = 0;
    this.groupOf[id] = -1;
    this.clearState(id);
  }

  /**
   * The registry removed series `id` (its remove hook, see Pipeline): it leaves every output and
   * `modelUsage` at once, not when its id is handed out again, and leaves its group (the LSTM's
   * rounds walk every id). Its state is of no further use: a reused id is reset anyway.
   */
  remove(id: number): void {
    this.reset(id);
  }

  /** Forgets everything the series' models learnt; outputs, profile and group stay. */
  private clearState(id: number): void {
    for (let h = 0; h < this.horizonMs.length; h++) {
      this.chosen[h]![id] = NO_MODEL;
      this.lstmChange[h]![id] = NaN;
      this.pend[h]!.fill(NaN, id * MODEL_COUNT, (id + 1) * MODEL_COUNT);
      this.mae[h]!.fill(NaN, id * MODEL_COUNT, (id + 1) * MODEL_COUNT);
      this.pendDue[h]![id] = 0;
      this.evals[h]![id] = 0;
    }
    this.warm[id] = 0;
    this.sinceShift[id] = NO_SHIFT;
    this.stepMs[id] = 0;
    this.bucketEnd[id] = NaN;
    this.accSum[id] = 0;
    this.accCount[id] = 0;
    this.anchor[id] = 0;
    this.lastOff[id] = NaN;
    this.refreshedQuarter[id] = 0;
    this.buckets[id] = 0;
    this.dayRing.fill(MISSING, id * DAY_BUCKETS, (id + 1) * DAY_BUCKETS);
    this.qLo[id] = NaN;
    this.qHi[id] = NaN;
    this.dMin[id] = NaN;
    this.dMax[id] = NaN;
    this.sesL[id] = NaN;
    this.holtS[id] = NaN;
    this.holtB[id] = 0;
    this.hwL[id] = NaN;
    this.hwB[id] = 0;
    this.hwT[id] = 0;
    this.hwS.fill(0, id * HW_SLOTS, (id + 1) * HW_SLOTS);
    this.hwScale[id] = 0;
    this.season[id] = SEASON_UNDECIDED;
    this.slotNow[id] = -1;
    this.slotSum[id] = 0;
    this.slotCount[id] = 0;
    this.slotPrevSum[id] = 0;
    this.slotPrevCount[id] = 0;
    this.slotVisits[id] = 0;
    this.seasonStats.fill(0, id * SEASON_STATS, (id + 1) * SEASON_STATS);
    this.lstmAt[id] = 0;
  }

  setProfile(id: number, index: number): void {
    this.profileOf[id] = index < this.profiles.length ? index : 0;
  }

  setGroup(id: number, group: number): void {
    this.groupOf[id] = group;
  }

  profileIndex(id: number): number {
    return this.profileOf[id]!;
  }

  /** Feeds one sample; samples of a series arrive in time order, x finite. Allocation-free. */
  observe(id: number, tMs: number, x: number): void {
    const prof = this.profiles[this.profileOf[id]!]!;
    if (!prof.enabled) return;
    const w = this.warm[id]!;
    if (w < WARM) {
      this.warmUp(id, w, tMs, x);
      return;
    }
    const step = this.stepMs[id]!;
    let end = this.bucketEnd[id]! + step;
    if (tMs > end) {
      this.closeOpen(id, prof, end);
      let k = Math.ceil((tMs - end) / step) - 1;
      if (k > MAX_GAP_BUCKETS) {
        // Long silence: jump, keeping the bucket grid's phase.
        this.bucketEnd[id]! += (k - MAX_GAP_BUCKETS) * step;
        this.buckets[id]! += k - MAX_GAP_BUCKETS;
        k = MAX_GAP_BUCKETS;
      }
      for (; k > 0; k--) this.closeMissing(id, prof);
      end = this.bucketEnd[id]! + step;
      this.refreshedQuarter[id] = 0;
    }
    const cnt = this.accCount[id]!;
    if (cnt < ACC_MAX) {
      this.accSum[id]! += x;
      this.accCount[id] = cnt + 1;
    } else this.accSum[id]! += x - this.accSum[id]! / ACC_MAX;
    this.lastOff[id] = x - this.anchor[id]!;
    if (tMs === end) {
      this.closeOpen(id, prof, end);
      this.refreshedQuarter[id] = 0;
      return;
    }
    // The outputs follow the clock inside the open bucket in quarter-bucket steps: a prediction
    // per sample cost more than all the rest of forecasting, for a target one sample interval on.
    // The first quarter counts too (1..4; 0 = refreshed at the bucket end): left at the bucket
    // end's forecast, 1-minute samples' first minute got 0% 5m coverage on exponential growth.
    const age = tMs - this.bucketEnd[id]!;
    const quarter = Math.floor((age * 4) / step) + 1;
    if (quarter <= this.refreshedQuarter[id]!) {
      // Breached now or no longer is a matter of this sample, not of the grid: refreshed in steps,
      // a disk past its limit read a time to breach for minutes.
      if (this.limitAt.length > 0 && this.breachChanged(id, prof)) this.updateBreach(id, prof, age);
      return;
    }
    if (step >= 4 * BASE_STEP_MS && cnt >= RELEARN_MIN && age * RELEARN_RATIO < cnt * step) {
      // Sampled far more densely than the step learnt from the first samples: learn it again.
      this.clearState(id);
      this.warmUp(id, 0, tMs, x);
      return;
    }
    this.refreshedQuarter[id] = quarter;
    this.refreshOpen(id, prof, age);
    if (this.limitAt.length > 0) this.updateBreach(id, prof, age);
  }

  /**
   * A sample inside the open bucket: the outputs become the forecast made now for now + horizon
   * (the models' state is still that of the last bucket end, `age` ms ago), and the interval
   * widens as for a forecast `age` further ahead. Not for naive and the LSTM, which start from the
   * latest sample (their lead is still the horizon), nor for seasonal naive, whose error (this
   * time one season ago against now) does not grow with the lead: widening those scaled their
   * bias too, and on a sawtooth the 5m interval missed 60% of outcomes late in the bucket.
   */
  private refreshOpen(id: number, prof: Profile, age: number): void {
    const nh = this.horizonMs.length;
    for (const h of prof.horizons) {
      const hMs = this.horizonMs[h]!;
      let c = this.serving(id, prof, h);
      let f = this.predictOff(id, c, hMs, hMs + age);
      if (f !== f) {
        c = SES;
        f = this.predictOff(id, SES, hMs, hMs + age);
      }
      if (f !== f) continue;
      const a = this.mae[h]![id * MODEL_COUNT + c]!;
      const fresh = c === NAIVE || c === LSTM || c === SNAIVE;
      this.publish(id, prof, h, c * nh + h, f, fresh ? a : a * Math.sqrt(1 + age / hMs));
    }
  }

  private warmUp(id: number, w: number, tMs: number, x: number): void {
    if (w > 0) {
      const gap = Math.min(tMs - this.bucketEnd[id]!, 0xffffffff);
      const g = this.stepMs[id]!;
      if (gap > 0 && (g === 0 || gap < g)) this.stepMs[id] = gap;
    } else this.anchor[id] = x;
    this.bucketEnd[id] = tMs;
    this.lastOff[id] = x - this.anchor[id]!;
    this.warm[id] = w + 1;
    if (w + 1 < WARM) return;
    const g = this.stepMs[id]!;
    const step = stepFor(g === 0 ? Infinity : g);
    this.stepMs[id] = step;
    // The warm-up's last sample becomes the first bucket, ending at its own time.
    this.accSum[id] = x;
    this.accCount[id] = 1;
    this.bucketEnd[id] = tMs - step;
    this.closeOpen(id, this.profiles[this.profileOf[id]!]!, tMs);
  }

  private closeOpen(id: number, prof: Profile, end: number): void {
    const c = this.accCount[id]!;
    if (c === 0) {
      this.closeMissing(id, prof);
      return;
    }
    this.bucketEnd[id] = end;
    const y = this.accSum[id]! / c;
    this.accSum[id] = 0;
    this.accCount[id] = 0;
    this.closeBucket(id, prof, y, end);
  }

  private closeMissing(id: number, prof: Profile): void {
    const step = this.stepMs[id]!;
    const end = this.bucketEnd[id]! + step;
    this.bucketEnd[id] = end;
    const n = ++this.buckets[id]!;
    const p = dayPos(end, step);
    if (p === 0) this.refit(id, step);
    // A missing bucket repeats the previous one.
    const base = id * DAY_BUCKETS;
    this.dayRing[base + p] = this.dayRing[base + (p === 0 ? DAY_MS / step - 1 : p - 1)]!;
    for (const h of prof.horizons) {
      const due = this.pendDue[h]!;
      if (due[id] !== 0 && due[id]! <= n) due[id] = 0;
    }
  }

  /** Closes a bucket whose samples' mean is `value`. */
  private closeBucket(id: number, prof: Profile, value: number, end: number): void {
    const n = ++this.buckets[id]!;
    const step = this.stepMs[id]!;
    const p = dayPos(end, step);
    if (p === 0) this.refit(id, step);
    let y = value - this.anchor[id]!;
    const h0 = prof.horizons[0]!;
    const c = this.chosen[h0]![id]!;
    const noise = this.mae[h0]![id * MODEL_COUNT + (c === NO_MODEL ? prof.defaultModel[h0]! : c)]!;
    // Outliers are held back (see OUTLIER_MAES): the bucket value and the latest sample are
    // compared with the previous bucket value.
    let scored = true;
    const held = this.warm[id]! - WARM;
    this.warm[id] = WARM;
    const since = this.sinceShift[id]!;
    if (since < NO_SHIFT) this.sinceShift[id] = since + 1;
    if (noise === noise) {
      const prev = this.decode(id, this.dayRing[id * DAY_BUCKETS + (p === 0 ? DAY_MS / step - 1 : p - 1)]!);
      const range = OUTLIER_RANGES * (this.qHi[id]! - this.qLo[id]!);
      const w = OUTLIER_MAES * noise > range ? OUTLIER_MAES * noise : range;
      if (Math.abs(y - prev) > w) {
        if (held < MAX_HELD) {
          y = prev;
          value = this.anchor[id]! + prev;
          this.warm[id] = WARM + held + 1;
          // The latest sample is held back only with its bucket: samples scatter more than bucket
          // means, and targets held back by the MAE they would raise would keep it too small.
          if (Math.abs(this.lastOff[id]! - prev) > w) {
            this.lastOff[id] = prev;
            scored = false;
          }
        } else {
          // Still as far after MAX_HELD buckets: a level shift. The models' levels move with it
          // and the linear fit starts after it, so that trend models do not read the step as a
          // slope (a disk cleaned up from 95% to 50% was forecast at -0.3 an hour later). Moving
          // the whole history with it too made NAB MASE 50% worse: what is held that long is as
          // often an excursion that ends.
          const shift = y - prev;
          this.sesL[id]! += shift;
          this.holtS[id]! += shift;
          this.hwL[id]! += shift;
          this.sinceShift[id] = 0;
        }
      }
    }
    const d = Math.abs(y);
    if (d > 0) {
      if (d > REANCHOR_NOISE * noise || (p === 0 && d > this.qHi[id]! - this.qLo[id]!)) {
        this.reanchor(id, value, y);
        y = 0;
      }
    }
    const old = this.decode(id, this.dayRing[id * DAY_BUCKETS + p]!);
    this.store(id, p, y, step);
    this.updateModels(id, y);
    this.updateDay(id, y, old, p, step, end);
    // Forecasts target the value at a time, so they are scored against the latest sample.
    const target = this.lastOff[id]!;
    for (const h of prof.horizons) this.scoreAndForecast(id, prof, h, n, target, scored);
    if (this.limitAt.length > 0) this.updateBreach(id, prof, 0);
  }

  /** Moves the anchor of series id to `to`, `delta` from the old one, keeping every value. */
  private reanchor(id: number, to: number, delta: number): void {
    this.anchor[id] = to;
    this.lastOff[id]! -= delta;
    this.qLo[id]! -= delta;
    this.qHi[id]! -= delta;
    this.dMin[id]! -= delta;
    this.dMax[id]! -= delta;
    this.sesL[id]! -= delta;
    this.holtS[id]! -= delta;
    this.hwL[id]! -= delta;
    this.slotSum[id]! -= delta * this.slotCount[id]!;
    this.slotPrevSum[id]! -= delta * this.slotPrevCount[id]!;
    this.seasonStats[id * SEASON_STATS]! -= delta;
    for (let h = 0; h < this.horizonMs.length; h++) {
      const pend = this.pend[h]!;
      for (let i = id * MODEL_COUNT; i < (id + 1) * MODEL_COUNT; i++) pend[i]! -= delta;
    }
  }

  /** Day ring code c as an offset from the anchor. */
  private decode(id: number, c: number): number {
    if (c === MISSING) return NaN;
    if (c === QMAX) return this.qHi[id]!;
    const lo = this.qLo[id]!;
    return lo + (c * (this.qHi[id]! - lo)) / QMAX;
  }

  /**
   * Writes y at day ring position p, widening the range first when y falls outside it. y is
   * compared as the Float32 the range edges hold: a day's extreme seen again must not widen them.
   */
  private store(id: number, p: number, value: number, step: number): void {
    const y = Math.fround(value);
    let lo = this.qLo[id]!;
    let hi = this.qHi[id]!;
    if (lo !== lo) {
      this.qLo[id] = y;
      this.qHi[id] = y;
    } else if (y < lo || y > hi) {
      const nlo = y < lo ? y : lo;
      const nhi = y > hi ? y : hi;
      const pad = (nhi - nlo) / 8;
      this.recode(id, y < lo ? nlo - pad : lo, y > hi ? nhi + pad : hi, step);
    }
    const m = this.dMin[id]!;
    if (!(m <= y)) this.dMin[id] = y;
    const M = this.dMax[id]!;
    if (!(M >= y)) this.dMax[id] = y;
    lo = this.qLo[id]!;
    hi = this.qHi[id]!;
    let c = hi > lo ? Math.round(((y - lo) / (hi - lo)) * QMAX) : 0;
    if (c < 0) c = 0;
    else if (c > QMAX) c = QMAX;
    this.dayRing[id * DAY_BUCKETS + p] = c;
  }

  /** Once a day (at position 0): the range becomes the extremes written over the last day. */
  private refit(id: number, step: number): void {
    const lo = this.dMin[id]!;
    const hi = this.dMax[id]!;
    if (lo !== lo) return;
    if (lo !== this.qLo[id] || hi !== this.qHi[id]) this.recode(id, lo, hi, step);
    this.dMin[id] = NaN;
    this.dMax[id] = NaN;
  }

  /** Re-encodes the day ring for the range [lo, hi]. */
  private recode(id: number, lo: number, hi: number, step: number): void {
    const olo = this.qLo[id]!;
    const ohi = this.qHi[id]!;
    this.qLo[id] = lo;
    this.qHi[id] = hi;
    const nlo = this.qLo[id]!;
    const nhi = this.qHi[id]!;
    const ow = (ohi - olo) / QMAX;
    const k = nhi > nlo ? QMAX / (nhi - nlo) : 0;
    const base = id * DAY_BUCKETS;
    const P = DAY_MS / step;
    for (let i = base; i < base + P; i++) {
      const c = this.dayRing[i]!;
      if (c === MISSING) continue;
      const v = c === QMAX ? ohi : olo + c * ow;
      let d = Math.round((v - nlo) * k);
      if (d < 0) d = 0;
      else if (d > QMAX) d = QMAX;
      this.dayRing[i] = d;
    }
  }

  /** The bucket value `ago` buckets before the latest (0 = latest, < a day); NaN if unknown. */
  recent(id: number, ago: number): number {
    return this.anchor[id]! + this.recentOff(id, ago);
  }

  private recentOff(id: number, ago: number): number {
    const step = this.stepMs[id]!;
    if (step === 0 || this.buckets[id] === 0) return NaN;
    const P = DAY_MS / step;
    if (ago < 0 || ago >= P) return NaN;
    let q = dayPos(this.bucketEnd[id]!, step) - ago;
    if (q < 0) q += P;
    return this.decode(id, this.dayRing[id * DAY_BUCKETS + q]!);
  }

  private updateModels(id: number, y: number): void {
    const s = this.sesL[id]!;
    if (s !== s) {
      this.sesL[id] = y;
      this.holtS[id] = y;
      this.holtB[id] = 0;
    } else {
      this.sesL[id] = s + SES_ALPHA * (y - s);
      const hs = this.holtS[id]!;
      const hb = this.holtB[id]!;
      const ns = HOLT_SF * y + (1 - HOLT_SF) * (hs + hb);
      this.holtS[id] = ns;
      this.holtB[id] = HOLT_TF * (ns - hs) + (1 - HOLT_TF) * hb;
    }
  }

  /**
   * 30-minute slots: the mean of each slot visit (from the buckets at its ring positions) feeds
   * season detection and Holt-Winters. `old` is yesterday's value at position p.
   */
  private updateDay(id: number, y: number, old: number, p: number, step: number, end: number): void {
    const j = Math.floor((p * step) / SLOT_MS);
    const cur = this.slotNow[id]!;
    if (j !== cur) {
      if (cur >= 0 && this.slotCount[id]! > 0) this.completeSlot(id, cur, end);
      this.slotNow[id] = j;
      this.slotSum[id] = 0;
      this.slotCount[id] = 0;
      this.slotPrevSum[id] = 0;
      this.slotPrevCount[id] = 0;
    }
    this.slotSum[id]! += y;
    if (this.slotCount[id]! < 255) this.slotCount[id]! += 1;
    if (old === old) {
      this.slotPrevSum[id]! += old;
      if (this.slotPrevCount[id]! < 255) this.slotPrevCount[id]! += 1;
    }
  }

  private completeSlot(id: number, cur: number, end: number): void {
    const v = this.slotSum[id]! / this.slotCount[id]!;
    const visits = this.slotVisits[id]!;
    const lag = this.lagVals;
    for (let k = 0; k < LAG_COUNT; k++) {
      const L = LAGS[k]!;
      if (L === SLOTS) {
        const c = this.slotPrevCount[id]!;
        lag[k] = c > 0 ? this.slotPrevSum[id]! / c : NaN;
      } else lag[k] = this.slotMean(id, (cur - L + SLOTS) % SLOTS);
    }
    foldSlot(v, lag, this.seasonStats, id * SEASON_STATS, visits === 0);
    this.updateHoltWinters(id, v, cur, end - posMod(end - (cur + 0.5) * SLOT_MS, DAY_MS));
    this.slotVisits[id] = visits + 1 >= 252 ? visits + 1 - 126 : visits + 1;
    if (visits + 1 === SLOTS && this.season[id] === SEASON_UNDECIDED) this.initSeason(id, DAY_MS);
    if (visits + 1 >= SEASON_MIN_VISITS && (visits + 1) % 6 === 0) {
      const p = decideSeason(this.seasonStats, id * SEASON_STATS);
      const old = this.season[id]!;
      if (p !== old) {
        this.season[id] = p;
        // The undecided state already models a daily season: keep what it learned.
        if (!(old === SEASON_UNDECIDED && p * SLOT_MS === DAY_MS)) this.initSeason(id, this.seasonPeriodMs(id));
      }
    }
  }

  /** Mean of the day ring values of slot j (NaN when none is known). */
  private slotMean(id: number, j: number): number {
    const step = this.stepMs[id]!;
    const P = DAY_MS / step;
    const from = Math.ceil((j * SLOT_MS) / step);
    const to = Math.min(P, Math.ceil(((j + 1) * SLOT_MS) / step));
    const base = id * DAY_BUCKETS;
    let sum = 0;
    let n = 0;
    for (let q = from; q < to; q++) {
      const v = this.decode(id, this.dayRing[base + q]!);
      if (v === v) {
        sum += v;
        n++;
      }
    }
    return n > 0 ? sum / n : NaN;
  }

  /**
   * Additive Holt-Winters with damped trend on the 30-minute slot series: one update per completed
   * slot visit, so a season of P has P / 30m coefficients updated once per season.
   */
  private updateHoltWinters(id: number, y: number, slot: number, tCenter: number): void {
    const l = this.hwL[id]!;
    this.hwT[id] = Math.max(0, Math.round(tCenter / 1000));
    if (l !== l) {
      this.hwL[id] = y;
      this.hwB[id] = 0;
      return;
    }
    const b = this.hwB[id]!;
    const p = this.seasonPeriodMs(id);
    let si = -1;
    let sv = 0;
    if (p > 0) {
      si = id * HW_SLOTS + (slot % (p / SLOT_MS));
      sv = this.hwS[si]! * this.hwScale[id]!;
    }
    const nl = HW_ALPHA * (y - sv) + (1 - HW_ALPHA) * (l + HW_PHI * b);
    this.hwL[id] = nl;
    this.hwB[id] = HW_BETA * (nl - l) + (1 - HW_BETA) * HW_PHI * b;
    if (si >= 0) this.setSeason(id, si, HW_GAMMA * (y - nl) + (1 - HW_GAMMA) * sv);
  }

  /** Stores a Holt-Winters season coefficient, coarsening the series' code scale if needed. */
  private setSeason(id: number, i: number, v: number): void {
    let sc = this.hwScale[id]!;
    if (!(sc > 0)) {
      sc = Math.max(Math.abs(v), this.qHi[id]! - this.qLo[id]!, 1e-30) / HW_Q;
      if (!(sc > 0)) sc = 1e-30;
      this.hwScale[id] = sc;
      sc = this.hwScale[id]!;
    }
    let c = Math.round(v / sc);
    while (c > 32767 || c < -32767) {
      const base = id * HW_SLOTS;
      for (let k = base; k < base + HW_SLOTS; k++) this.hwS[k] = Math.round(this.hwS[k]! / 2);
      this.hwScale[id] = sc * 2;
      sc = this.hwScale[id]!;
      c = Math.round(v / sc);
    }
    this.hwS[i] = c;
  }

  /**
   * Starts Holt-Winters' season from the slot means of the day ring (zero-started coefficients take
   * many seasons to converge because the level absorbs the season meanwhile).
   */
  private initSeason(id: number, periodMs: number): void {
    const base = id * HW_SLOTS;
    this.hwS.fill(0, base, base + HW_SLOTS);
    this.hwScale[id] = 0;
    if (periodMs === 0) return;
    const ps = periodMs / SLOT_MS;
    const means = this.slotMeans;
    let total = 0;
    let n = 0;
    for (let k = 0; k < ps; k++) {
      let sum = 0;
      let c = 0;
      for (let j = k; j < SLOTS; j += ps) {
        const v = this.slotMean(id, j);
        if (v === v) {
          sum += v;
          c++;
        }
      }
      means[k] = c > 0 ? sum / c : NaN;
      if (c > 0) {
        total += sum / c;
        n++;
      }
    }
    if (n === 0) return;
    const mean = total / n;
    let spread = 0;
    for (let k = 0; k < ps; k++) {
      const v = means[k]!;
      if (v === v) spread = Math.max(spread, Math.abs(v - mean));
    }
    this.hwScale[id] = Math.max(spread, this.qHi[id]! - this.qLo[id]!, 1e-30) / HW_Q;
    for (let k = 0; k < ps; k++) {
      const v = means[k]!;
      this.setSeason(id, base + k, v === v ? v - mean : 0);
    }
    this.hwL[id] = mean;
    this.hwB[id] = 0;
  }

  /** Season length used by Holt-Winters: the detected one, a day until decided, 0 for none. */
  private seasonPeriodMs(id: number): number {
    const s = this.season[id]!;
    if (s === SEASON_NONE) return 0;
    if (s === SEASON_UNDECIDED) return DAY_MS;
    return s * SLOT_MS;
  }

  private scoreAndForecast(id: number, prof: Profile, h: number, n: number, y: number, scored: boolean): void {
    const due = this.pendDue[h]!;
    const base = id * MODEL_COUNT;
    const pend = this.pend[h]!;
    const mae = this.mae[h]!;
    const nh = this.horizonMs.length;
    const hMs = this.horizonMs[h]!;
    const ahead = Math.max(1, Math.round(hMs / this.stepMs[id]!));
    let d = due[id]!;
    if (d >= WAIT && d - WAIT <= n) d = due[id] = 0;
    if (d === n) {
      const table = prof.intervals;
      for (let m = 0; scored && m < MODEL_COUNT; m++) {
        const f = pend[base + m]!;
        if (f !== f) continue;
        const e = y - f;
        const a = mae[base + m]!;
        if (a === a) {
          if (a > 0) table.record(m * nh + h, e / a);
          mae[base + m] = a + MAE_RATE * (Math.abs(e) - a);
        } else {
          // A model that starts late (the LSTM) has to earn its place against the current choice.
          const c = this.chosen[h]![id]!;
          const incumbent = c === NO_MODEL || m !== LSTM ? NaN : mae[base + c]!;
          mae[base + m] = incumbent > Math.abs(e) ? incumbent : Math.abs(e);
        }
      }
      const ev = this.evals[h]!;
      if (ev[id]! < 255) ev[id]! += 1;
      // The next origin waits so that the origins' stride is co-prime with the day: origins then
      // visit every time of day in turn instead of the same few (a 1h stride on 5-minute
      // buckets would only ever test 24 times of day).
      const stride = coprimeStride(ahead, DAY_MS / this.stepMs[id]!);
      d = due[id] = stride > ahead ? WAIT + n + stride - ahead : 0;
      this.choose(id, prof, h);
    } else if (d !== 0 && d < WAIT && d < n) {
      d = due[id] = 0;
    }
    let c = this.serving(id, prof, h);
    let f: number;
    if (d === 0) {
      for (let m = 0; m < MODEL_COUNT; m++) {
        pend[base + m] = prof.modelOn[m] ? this.predictOff(id, m, hMs, hMs) : NaN;
      }
      due[id] = n + ahead;
      f = pend[base + c]!;
    } else {
      f = this.predictOff(id, c, hMs, hMs);
    }
    if (f !== f) {
      c = SES;
      f = this.predictOff(id, SES, hMs, hMs);
    }
    this.publish(id, prof, h, c * nh + h, f, mae[base + c]!);
  }

  /**
   * Writes the outputs of horizon h from a model's forecast f (fOff from the anchor) and its error
   * scale a (the running MAE, widened for a forecast made inside the open bucket). The interval is
   * f plus the cell's quantiles of scaled error, and the point forecast is f plus their median: a
   * model that lags a trend (or misses a sawtooth's drop) is biased, and its interval lies to one
   * side of f. The median-corrected point lies inside every interval and minimises the expected
   * absolute error under the same error distribution. Errors are recorded against the
   * uncorrected f, so the correction does not feed back into itself. The LSTM is not corrected
   * (see `correction`): its interval is widened to take its point instead.
   */
  private publish(id: number, prof: Profile, h: number, cell: number, fOff: number, errorScale: number): void {
    const t = prof.intervals;
    // One or two outcomes say little about the error: no interval (nor correction) until three.
    const n = this.evals[h]![id]!;
    const a = n >= MIN_EVALS ? errorScale : NaN;
    const f = this.anchor[id]! + fOff;
    const point = a === a ? f + this.correction(prof, cell) * a : f;
    const w = a * fewChecksWidening(n);
    const lo = f + t.lowerQ(cell, 0) * w;
    const hi = f + t.upperQ(cell, 0) * w;
    this.forecast[h]![id] = point;
    this.lower[h]![id] = point < lo ? point : lo;
    this.upper[h]![id] = point > hi ? point : hi;
  }

  /**
   * The median scaled error of a cell (model x horizon), by which its forecasts are corrected. None
   * for the LSTM: it retrains between rounds, so its past bias says little about its next one
   * (correcting it cost 2% MASE at 4h on NAB, `npm run bench:forecast`).
   */
  private correction(prof: Profile, cell: number): number {
    return Math.floor(cell / this.horizonMs.length) === LSTM ? 0 : prof.intervals.medianQ(cell);
  }

  /**
   * The model serving horizon h: its own choice once checked MIN_EVALS times; before, a shorter
   * horizon's (see `borrowed`), else the profile's default.
   */
  private serving(id: number, prof: Profile, h: number): number {
    const c = this.chosen[h]![id]!;
    if (c !== NO_MODEL && this.evals[h]![id]! >= MIN_EVALS) return c;
    const b = this.borrowed(id, prof, h);
    return b !== NO_MODEL ? b : prof.defaultModel[h]!;
  }

  /**
   * For an unchecked horizon h, the choice of the longest shorter horizon that has been checked,
   * when it beats SES there by BORROW_RATIO: a ramp found at 5m is forecast as a ramp at 1h while
   * the 1h choice trains, for hours. NO_MODEL otherwise.
   */
  private borrowed(id: number, prof: Profile, h: number): number {
    for (let k = h - 1; k >= 0; k--) {
      if (!prof.horizonOn[k] || this.evals[k]![id]! < MIN_EVALS) continue;
      const b = this.chosen[k]![id]!;
      const mae = this.mae[k]!;
      return b !== NO_MODEL && mae[id * MODEL_COUNT + b]! < BORROW_RATIO * mae[id * MODEL_COUNT + SES]! ? b : NO_MODEL;
    }
    return NO_MODEL;
  }

  /** Rolling-origin choice: lowest running MAE (equivalently MASE against seasonal naive). */
  private choose(id: number, prof: Profile, h: number): void {
    const chosen = this.chosen[h]!;
    const cur = chosen[id]!;
    if (this.evals[h]![id]! < MIN_EVALS) {
      if (cur === NO_MODEL) chosen[id] = prof.defaultModel[h]!;
      return;
    }
    const mae = this.mae[h]!;
    const base = id * MODEL_COUNT;
    let best = NO_MODEL;
    let bestMae = Infinity;
    for (let m = 0; m < MODEL_COUNT; m++) {
      if (!prof.modelOn[m]) continue;
      const a = mae[base + m]!;
      if (a < bestMae) {
        bestMae = a;
        best = m;
      }
    }
    if (best === NO_MODEL || best === cur) return;
    if (cur !== NO_MODEL && prof.modelOn[cur] && !(bestMae < SWITCH_MARGIN * mae[base + cur]!)) return;
    chosen[id] = best;
  }

  /**
   * Model m's forecast, made at the last bucket end, for `tauMs` later. `windowMs` is the
   * predict_linear window (the horizon being served). NaN when the model cannot forecast yet.
   */
  predict(id: number, m: number, windowMs: number, tauMs: number): number {
    return this.anchor[id]! + this.predictOff(id, m, windowMs, tauMs);
  }

  /** predict() as an offset from the series' anchor. */
  private predictOff(id: number, m: number, windowMs: number, tauMs: number): number {
    const step = this.stepMs[id]!;
    switch (m) {
      case NAIVE:
        return this.lastOff[id]!;
      case SES:
        return this.sesL[id]!;
      case SNAIVE:
        return this.seasonalNaive(id, tauMs);
      case LINEAR:
        return this.linear(id, windowMs, tauMs);
      case HOLT:
        return this.holtS[id]! + (tauMs / step) * this.holtB[id]!;
      case HW: {
        const p = this.seasonPeriodMs(id);
        const t = this.bucketEnd[id]! + tauMs;
        let v = this.hwL[id]! + dampedSteps(HW_PHI, (t - this.hwT[id]! * 1000) / SLOT_MS) * this.hwB[id]!;
        if (p > 0) v += this.hwSeasonAt(id, t, p);
        return v;
      }
      case LSTM: {
        const at = this.lstmAt[id]!;
        if (at === 0 || this.buckets[id]! - at > 2 * RING) return NaN;
        let h = 0;
        while (h < this.horizonMs.length - 1 && this.horizonMs[h]! < windowMs) h++;
        const change = this.lstmChange[h]![id]!;
        return this.lastOff[id]! + change * Math.min(1, tauMs / this.horizonMs[h]!);
      }
      default:
        return NaN;
    }
  }

  private hwSeasonAt(id: number, t: number, p: number): number {
    const slots = p / SLOT_MS;
    const u = posMod(t, p) / SLOT_MS - 0.5;
    const i0 = Math.floor(u);
    const f = u - i0;
    // u lies in [-0.5, slots - 0.5), so i0 in [-1, slots - 1]: wrap by comparison, not `%`.
    const a = this.hwS[id * HW_SLOTS + (i0 < 0 ? i0 + slots : i0)]!;
    const b = this.hwS[id * HW_SLOTS + (i0 + 1 >= slots ? 0 : i0 + 1)]!;
    return (a + (b - a) * f) * this.hwScale[id]!;
  }

  /**
   * Seasonal naive at bucket resolution: the day ring value one season (or k seasons) before the
   * target time, interpolated when the target falls between bucket ends.
   */
  private seasonalNaive(id: number, tauMs: number): number {
    let p = this.seasonPeriodMs(id);
    if (p === 0) p = DAY_MS;
    const step = this.stepMs[id]!;
    const P = DAY_MS / step;
    const k = Math.max(1, Math.ceil(tauMs / p - 1e-9));
    const o = (tauMs - k * p) / step;
    const i0 = Math.floor(o + 1e-9);
    const f = o - i0;
    const a = i0 > -P ? this.recentOff(id, -i0) : NaN;
    if (!(f > 1e-9)) return a;
    const b = this.recentOff(id, -i0 - 1);
    if (a !== a) return b;
    if (b !== b) return a;
    return a + (b - a) * f;
  }

  /** PromQL predict_linear: least squares over the trailing window, evaluated at now + tau. */
  private linear(id: number, windowMs: number, tauMs: number): number {
    const step = this.stepMs[id]!;
    if (step === 0 || this.buckets[id] === 0) return NaN;
    const P = DAY_MS / step;
    let k = Math.min(P, Math.max(2, Math.round(windowMs / step)));
    // After a level shift, only the buckets since: once they are half the window.
    const post = this.sinceShift[id]! + 1;
    if (post < k) {
      if (2 * post < k) return NaN;
      k = post;
    }
    const p0 = dayPos(this.bucketEnd[id]!, step);
    const base = id * DAY_BUCKETS;
    const lo = this.qLo[id]!;
    const hi = this.qHi[id]!;
    const w = (hi - lo) / QMAX;
    let n = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    for (let i = 0; i < k; i++) {
      const q = p0 - i;
      const c = this.dayRing[base + (q < 0 ? q + P : q)]!;
      if (c === MISSING) continue;
      const yv = c === QMAX ? hi : lo + c * w;
      n++;
      sx -= i;
      sy += yv;
      sxx += i * i;
      sxy -= i * yv;
    }
    if (n < 2) return NaN;
    const d = n * sxx - sx * sx;
    if (!(d > 0)) return sy / n;
    const slope = (n * sxy - sx * sy) / d;
    return (sy - slope * sx) / n + slope * (tauMs / step);
  }

  /**
   * Time to breach of each limit. A threshold is an upper limit (a full disk, an exhausted quota
   * or pool), a floor a lower one (free bytes, remaining budget): only reaching it from its safe
   * side counts. For a threshold (a floor is the mirror image):
   * - the latest sample at or above it: 0, breached now (the alert stays firing while the series
   *   is past the limit, and a series coming down towards it from above is not forecast to
   *   "breach" it: it is past it until it is below, then it moves away, +Inf);
   * - below it: the lead (seconds) at which the forecast path first rises to it, interpolated
   *   between path points, from the latest sample at lead 0; +Inf when the path stays below.
   * Compared in mirrored offsets from the anchor: sign * (value - anchor).
   */
  private updateBreach(id: number, prof: Profile, age: number): void {
    const x0 = this.lastOff[id]!;
    let n = -1;
    for (let t = 0; t < this.limitAt.length; t++) {
      const out = this.breachSeconds[t]!;
      if (!prof.limitOn[t]) {
        out[id] = NaN;
        continue;
      }
      const sign = this.limitSign[t]!;
      const th = sign * (this.limitAt[t]! - this.anchor[id]!);
      const x = sign * x0;
      if (x >= th) {
        out[id] = 0;
        continue;
      }
      if (n < 0) n = this.breachPath(id, prof, age);
      const tau = this.breachTau;
      const val = this.breachVal;
      let prevV = x;
      let prevT = 0;
      let res = Infinity;
      for (let i = 0; i < n; i++) {
        const v = sign * val[i]!;
        if (v >= th) {
          // prevV < th <= v.
          res = (prevT + ((th - prevV) / (v - prevV)) * (tau[i]! - prevT)) / 1000;
          break;
        }
        prevV = v;
        prevT = tau[i]!;
      }
      out[id] = res;
    }
  }

  /** Whether the latest sample crossed a limit the published breach does not yet say. */
  private breachChanged(id: number, prof: Profile): boolean {
    const x0 = this.lastOff[id]!;
    for (let t = 0; t < this.limitAt.length; t++) {
      if (!prof.limitOn[t]) continue;
      const sign = this.limitSign[t]!;
      if (sign * x0 >= sign * (this.limitAt[t]! - this.anchor[id]!) !== (this.breachSeconds[t]![id] === 0)) return true;
    }
    return false;
  }

  /**
   * Fills breachTau/breachVal with the forecast path used for breaches and returns its length.
   * Leads count from now, `age` ms after the last bucket end the models' state is that of.
   * It is piecewise over the profile's horizons, shortest first: from the previous horizon (or
   * now) up to horizon h, BREACH_POINTS points of horizon h's chosen model, so each lead is
   * forecast by the model chosen at the shortest horizon reaching it, and never past that model's
   * own horizon. Only horizons whose choice has been checked MIN_EVALS times, or that serve a
   * shorter horizon's choice (`borrowed`), take part: an untrained longer horizon's flat default
   * would hide the trend a trained shorter one sees (a 24h choice takes more than 3 days to
   * train), and the path then ends at the last horizon taking part. While no horizon is trained, all of them take part on the default model.
   * Points carry the point forecast's bias correction, scaled with tau like the interval.
   */
  private breachPath(id: number, prof: Profile, age: number): number {
    let trained = false;
    for (const h of prof.horizons) if (this.evals[h]![id]! >= MIN_EVALS) trained = true;
    let n = 0;
    let from = 0;
    for (const h of prof.horizons) {
      if (trained && this.evals[h]![id]! < MIN_EVALS && this.borrowed(id, prof, h) === NO_MODEL) continue;
      const hMs = this.horizonMs[h]!;
      const c = this.serving(id, prof, h);
      const bias = this.biasAt(id, prof, h, c);
      const sesBias = this.biasAt(id, prof, h, SES);
      // Naive and the LSTM start from the latest sample; the others from the last bucket end.
      const shift = c === NAIVE || c === LSTM ? 0 : age;
      for (let i = 1; i <= BREACH_POINTS; i++) {
        const tau = from + ((hMs - from) * i) / BREACH_POINTS;
        let v = this.predictOff(id, c, hMs, tau + shift);
        let b = bias;
        let lead = tau + shift;
        if (v !== v) {
          v = this.predictOff(id, SES, hMs, tau + age);
          b = sesBias;
          lead = tau + age;
        }
        if (v !== v) continue;
        if (b !== 0) v += b * Math.sqrt(lead / hMs);
        this.breachTau[n] = tau;
        this.breachVal[n] = v;
        n++;
      }
      from = hMs;
    }
    return n;
  }

  /** Bias correction of model m's forecast at horizon index h: median scaled error times MAE. */
  private biasAt(id: number, prof: Profile, h: number, m: number): number {
    const a = this.mae[h]![id * MODEL_COUNT + m]!;
    return a === a ? this.correction(prof, m * this.horizonMs.length + h) * a : 0;
  }

  /** Name of the model serving series `id` at horizon index `h` ('none' before the first bucket). */
  chosenModel(id: number, h: number): string {
    const c = this.chosen[h]?.[id];
    if (c === undefined || (c === NO_MODEL && this.buckets[id] === 0)) return 'none';
    return MODEL_NAMES[this.serving(id, this.profiles[this.profileOf[id]!]!, h)]!;
  }

  /** Running MAE of each model for series id at horizon h (NaN before its first evaluation). */
  modelErrors(id: number, h: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (let m = 0; m < MODEL_COUNT; m++) out[MODEL_NAMES[m]!] = this.mae[h]![id * MODEL_COUNT + m]!;
    return out;
  }

  /**
   * Counts, per horizon and model, the series with a published forecast at that horizon (a series
   * still on the default counts under its profile's default, as `chosenModel` names it); removed series have none
   * (see `remove`). Counted from the state on each call rather than kept up to date, so it cannot
   * drift (a restored snapshot, a series relearning its step). O(ids x horizons): once a scrape.
   */
  private countUsage(): Float64Array {
    const u = this.usage;
    u.fill(0);
    const n = this.cap;
    for (let h = 0; h < this.horizonMs.length; h++) {
      const f = this.forecast[h]!;
      const row = h * MODEL_COUNT;
      for (let id = 0; id < n; id++) {
        // Ids not handed out yet hold zeros, not NaN: they have no bucket.
        if (this.buckets[id] === 0 || f[id] !== f[id]) continue;
        u[row + this.serving(id, this.profiles[this.profileOf[id]!]!, h)]! += 1;
      }
    }
    return u;
  }

  /** How many (series, horizon) pairs each model serves, summed over horizons (see countUsage). */
  modelUsage(): Record<string, number> {
    const u = this.countUsage();
    const out: Record<string, number> = {};
    for (let m = 0; m < MODEL_COUNT; m++) {
      let s = 0;
      for (let h = 0; h < this.horizonMs.length; h++) s += u[h * MODEL_COUNT + m]!;
      out[MODEL_NAMES[m]!] = s;
    }
    return out;
  }

  /** Per horizon label, how many series with a published forecast each model serves (see countUsage). */
  modelUsageByHorizon(): Record<string, Record<string, number>> {
    const u = this.countUsage();
    const out: Record<string, Record<string, number>> = {};
    for (let h = 0; h < this.horizonMs.length; h++) {
      const row: Record<string, number> = {};
      for (let m = 0; m < MODEL_COUNT; m++) row[MODEL_NAMES[m]!] = u[h * MODEL_COUNT + m]!;
      out[this.horizonLabels[h]!] = row;
    }
    return out;
  }

  /**
   * The forecast path of series `id` to horizon index `h` in `steps` equal steps, from the last
   * bucket end. Intervals at intermediate steps scale the horizon's error with sqrt(tau / h).
   */
  path(id: number, h: number, steps: number): ForecastPoint[] {
    const out: ForecastPoint[] = [];
    if (h < 0 || h >= this.horizonMs.length || id < 0 || id >= this.cap) return out;
    const prof = this.profiles[this.profileOf[id]!]!;
    if (!prof.horizonOn[h] || this.buckets[id]! === 0) return out;
    const hMs = this.horizonMs[h]!;
    const c = this.serving(id, prof, h);
    const checks = this.evals[h]![id]!;
    const a = checks >= MIN_EVALS ? this.mae[h]![id * MODEL_COUNT + c]! : NaN;
    const widen = fewChecksWidening(checks);
    const cell = c * this.horizonMs.length + h;
    const n = Math.max(1, Math.floor(steps));
    for (let i = 1; i <= n; i++) {
      const tau = (hMs * i) / n;
      let v = this.predict(id, c, hMs, tau);
      if (v !== v) v = this.predict(id, SES, hMs, tau);
      const s = a * Math.sqrt(tau / hMs);
      // The point is bias-corrected as the exposed forecast is, and lies in every interval (see publish).
      const value = s === s ? v + this.correction(prof, cell) * s : v;
      const intervals = prof.levels.map((level, l) => ({
        level,
        lower: Math.min(value, v + prof.intervals.lowerQ(cell, l) * s * widen),
        upper: Math.max(value, v + prof.intervals.upperQ(cell, l) * s * widen),
      }));
      out.push({ t: this.bucketEnd[id]! + tau, value, lower: intervals[0]!.lower, upper: intervals[0]!.upper, intervals });
    }
    return out;
  }

  /** Bytes of per-series state at the current configuration (every per-series typed array). */
  bytesPerSeries(): number {
    if (this.cap === 0) {
      const t = new ForecastEngine(this.configs);
      t.resize(64);
      return t.bytesPerSeries();
    }
    let bytes = 0;
    for (const [k, v] of Object.entries(this)) {
      if (k === 'usage' || k === 'lagVals' || k === 'slotMeans' || k === 'breachTau' || k === 'breachVal') continue;
      if (ArrayBuffer.isView(v)) bytes += v.byteLength;
      else if (Array.isArray(v)) for (const a of v) if (ArrayBuffer.isView(a)) bytes += a.byteLength;
    }
    return bytes / this.cap;
  }

  /**
   * Starts the LSTM's worker. With `sampleTime`, no timer runs its rounds and no time budget cuts
   * them: the caller runs them with `flushBackground` (backtests, which are then reproducible).
   */
  async start(sampleTime = false): Promise<void> {
    if (this.lstm !== null || !this.profiles.some((p) => p.enabled && p.modelOn[LSTM])) return;
    const { LstmRunner, ROUND_BUDGET_S } = await import('./lstm-runner.js');
    this.lstm = new LstmRunner(this, sampleTime ? Infinity : ROUND_BUDGET_S);
    await this.lstm.start(!sampleTime);
  }

  async stop(): Promise<void> {
    const l = this.lstm;
    this.lstm = null;
    if (l !== null) await l.stop();
  }

  /** Runs one LSTM training and prediction round now and waits for it (backtests, tests). */
  async flushBackground(): Promise<void> {
    if (this.lstm !== null) await this.lstm.round();
  }
}

/** Marks a pendDue value as "no pending forecast; next origin at (value - WAIT)". */
const WAIT = 0x80000000;

/** The smallest stride >= s sharing no factor with the day's bucket count p. */
export function coprimeStride(s: number, p: number): number {
  for (let t = s; ; t++) if (gcd(t, p) === 1) return t;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/** Day ring position of the bucket ending at `end`. */
function dayPos(end: number, step: number): number {
  return Math.floor(posMod(end, DAY_MS) / step);
}

/**
 * An error scale from a few checks is itself uncertain: the interval widens as a Student t
 * quantile does over the normal one with n - 1 degrees of freedom (about 1.4 at 3 checks, 1.1 at
 * 10), and tends to 1 as checks accumulate.
 */
export function fewChecksWidening(n: number): number {
  return n > 1 ? Math.sqrt(1 + 2 / (n - 1)) : 1;
}
