import { copyRows, grown, prepared, type GrowSteps } from '../series/component.js';
import type { Detector, DetectorOutput } from './detector.js';
import { posMod } from '../util/modulo.js';
import { MAD_TO_SIGMA } from './normal.js';
import { scaleFloor } from './robust.js';

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;
/** Phase bins per period: 15-minute steps for a daily period. */
export const BINS = 96;

const LEVEL_RATE = 0.005;
/** Per-visit learning rate of a bin once the first periods have been averaged in. */
const BIN_RATE = 0.15;
const DOW_RATE = 0.01;
const MAE_RATE = 0.005;

/** Seasonal mode of a series. */
export const enum SeasonMode { None = 0, Profile = 1, Weekly = 2 }

/**
 * Seasonal profile: a slow deseasonalised level plus one value per phase bin of the period (and,
 * for a weekly pattern, one offset per day of the week on top of a daily profile). In `auto` the
 * period is chosen from the data: the profile is used once a period and a quarter has been seen and
 * its residuals are clearly smaller than a flat level's; day-of-week offsets are added once eight
 * days have been seen and they clearly help. A series without such a pattern keeps mode None and
 * this detector stays silent (raw 0, band NaN).
 */
export class Seasonal implements Detector {
  readonly name = 'seasonal';
  /** Configured period: -1 auto (daily, plus weekly offsets), 0 off, else the period in ms. */
  period = new Float64Array(0);
  mode = new Uint8Array(0);
  level = new Float64Array(0);
  /** Series per row of `bins` and `dow`. */
  capacity = 0;
  /**
   * The profile, as 16-bit multiples of the series' `binUnit`: half the memory of floats, and a
   * resolution of 1/32767 of the largest offset, far below any series' noise. One row per bin
   * (series `id`'s bin `b` at `b * capacity + id`; see copyRows), as `dow` has one per weekday.
   */
  bins = new Int16Array(0);
  binUnit = new Float32Array(0);
  dow = new Float32Array(0);
  t0 = new Float64Array(0);
  n = new Uint32Array(0);
  maeFlat = new Float32Array(0);
  maeProfile = new Float32Array(0);
  maeWeekly = new Float32Array(0);
  /** Seasonal component (expected minus level) of the last update, for the Holt-Winters stage. */
  lastComponent = 0;

  *grow(capacity: number, used: () => number): GrowSteps {
    this.period = yield* grown(this.period, capacity, used);
    this.mode = yield* grown(this.mode, capacity, used);
    this.level = yield* grown(this.level, capacity, used);
    if (capacity > this.capacity) {
      // Both tables are laid out by `capacity`: prepared apart, copied and swapped together.
      const c = this.capacity;
      const count = (): number => Math.min(c, used());
      const bins = yield* prepared(this.bins, BINS * capacity, BINS, capacity, count);
      const dow = yield* prepared(this.dow, 7 * capacity, 7, capacity, count);
      yield* bins.touchUpTo(count);
      copyRows(this.bins, bins.array, c, capacity, BINS, used());
      copyRows(this.dow, dow.array, c, capacity, 7, used());
      this.bins = bins.array;
      this.dow = dow.array;
      this.capacity = capacity;
    }
    this.binUnit = yield* grown(this.binUnit, capacity, used);
    this.t0 = yield* grown(this.t0, capacity, used);
    this.n = yield* grown(this.n, capacity, used);
    this.maeFlat = yield* grown(this.maeFlat, capacity, used);
    this.maeProfile = yield* grown(this.maeProfile, capacity, used);
    this.maeWeekly = yield* grown(this.maeWeekly, capacity, used);
  }

  /** `period`: the configured period new ids start with (see `period`); -1 auto. */
  initIds(from: number, to: number, period = -1): void {
    this.period.fill(period, from, to);
  }

  reset(id: number): void {
    this.mode[id] = SeasonMode.None;
    this.level[id] = 0;
    const c = this.capacity;
    for (let b = 0; b < BINS; b++) this.bins[b * c + id] = 0;
    this.binUnit[id] = 0;
    for (let d = 0; d < 7; d++) this.dow[d * c + id] = 0;
    this.t0[id] = 0;
    this.n[id] = 0;
    this.maeFlat[id] = 0;
    this.maeProfile[id] = 0;
    this.maeWeekly[id] = 0;
  }

  /** -1 auto, 0 none, else a period in ms. Restarts learning if it changes. */
  setPeriod(id: number, periodMs: number): void {
    if (this.period[id] === periodMs) return;
    this.reset(id);
    this.period[id] = periodMs;
  }

  update(id: number, tMs: number, x: number, out: DetectorOutput): void {
    this.lastComponent = 0;
    out.raw = 0;
    out.expected = NaN;
    out.lower = NaN;
    out.upper = NaN;
    const cfg = this.period[id]!;
    if (cfg === 0) return;
    const P = cfg < 0 ? DAY_MS : cfg;
    const n = this.n[id]!;
    if (n === 0) {
      this.t0[id] = tMs;
      this.level[id] = x;
      this.n[id] = 1;
      return;
    }
    const elapsed = tMs - this.t0[id]!;
    const c = this.capacity;
    const bi = Math.min(BINS - 1, (posMod(tMs, P) * BINS / P) | 0) * c + id;
    const di = posMod(Math.floor(tMs / DAY_MS), 7) * c + id;

    const L = this.level[id]!;
    const S = this.bins[bi]! * this.binUnit[id]!;
    const W = this.dow[di]!;
    const eFlat = x - L;
    const eProf = eFlat - S;
    const eWeek = eProf - W;

    let mode = this.mode[id]!;
    const seen = elapsed >= 1.25 * P;
    if (cfg < 0) {
      const mf = this.maeFlat[id]!, mp = this.maeProfile[id]!, mw = this.maeWeekly[id]!;
      if (!seen) mode = SeasonMode.None;
      else if (mode === SeasonMode.None) { if (mp < 0.6 * mf) mode = SeasonMode.Profile; }
      else if (mp > 0.75 * mf) mode = SeasonMode.None;
      if (mode !== SeasonMode.None && elapsed >= 8 * DAY_MS) {
        if (mode === SeasonMode.Profile && mw < 0.8 * mp) mode = SeasonMode.Weekly;
        else if (mode === SeasonMode.Weekly && mw > 0.9 * mp) mode = SeasonMode.Profile;
      }
    } else {
      mode = seen ? (cfg === WEEK_MS ? SeasonMode.Weekly : SeasonMode.Profile) : SeasonMode.None;
    }
    this.mode[id] = mode;

    if (mode !== SeasonMode.None) {
      const weekly = mode === SeasonMode.Weekly && elapsed >= 8 * DAY_MS;
      const comp = weekly ? S + W : S;
      const mae = weekly ? this.maeWeekly[id]! : this.maeProfile[id]!;
      const sd = MAD_TO_SIGMA * mae + scaleFloor(L);
      const e = weekly ? eWeek : eProf;
      out.raw = (e < 0 ? -e : e) / sd;
      out.expected = L + comp;
      out.lower = out.expected - 3 * sd;
      out.upper = out.expected + 3 * sd;
      this.lastComponent = comp;
    }

    // Learn. Residuals are clipped at 4 sigma once warmed up so one outlier moves little.
    const periods = elapsed / P;
    const warm = periods < 2;
    const aBin = warm ? Math.max(BIN_RATE, 1 / (1 + periods)) : BIN_RATE;
    const aLev = Math.max(LEVEL_RATE, 1 / (n + 1));
    const aMae = Math.max(MAE_RATE, 1 / (n + 1));
    const lim = warm ? Infinity : 4 * (MAD_TO_SIGMA * this.maeProfile[id]! + scaleFloor(L));
    this.level[id] = L + aLev * clip(x - S - L, lim);
    this.storeBin(id, bi, S + aBin * clip(eProf, lim));
    this.dow[di] = W + DOW_RATE * clip(eWeek, lim);
    this.maeFlat[id] = this.maeFlat[id]! + aMae * (Math.abs(clip(eFlat, lim)) - this.maeFlat[id]!);
    this.maeProfile[id] = this.maeProfile[id]! + aMae * (Math.abs(clip(eProf, lim)) - this.maeProfile[id]!);
    this.maeWeekly[id] = this.maeWeekly[id]! + aMae * (Math.abs(clip(eWeek, lim)) - this.maeWeekly[id]!);
    this.n[id] = n + 1;
  }

  private storeBin(id: number, bi: number, v: number): void {
    let unit = this.binUnit[id]!;
    if (unit === 0) {
      if (v === 0 || v !== v) return;
      // Room for the offsets to grow 8-fold before the first rescale.
      unit = Math.fround(Math.abs(v) / 4096);
      if (unit === 0 || unit === Infinity) return;
      this.binUnit[id] = unit;
    }
    let q = Math.round(v / unit);
    if (q > 32767 || q < -32767) {
      if (q !== q) return;
      let f = 2;
      while (Math.abs(v / (unit * f)) > 32767) f *= 2;
      unit = Math.fround(unit * f);
      if (unit === Infinity) return;
      this.binUnit[id] = unit;
      const c = this.capacity;
      for (let k = id; k < BINS * c; k += c) this.bins[k] = Math.round(this.bins[k]! / f);
      q = Math.round(v / unit);
    }
    this.bins[bi] = q;
  }

  /** Re-baseline after a lasting change: move the level by `delta`. */
  shift(id: number, delta: number): void {
    this.level[id] = this.level[id]! + delta;
  }
}

function clip(v: number, lim: number): number {
  return v > lim ? lim : v < -lim ? -lim : v;
}
