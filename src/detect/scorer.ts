import { grown, resizeNow, type GrowSteps, type SeriesComponent } from '../series/component.js';
import { DetectorOutput } from './detector.js';
import { DriftDetector } from './drift.js';
import { ForestDetector } from './forest-detector.js';
import { HoltWinters } from './holt-winters.js';
import { Likelihood } from './likelihood.js';
import { logUpperTail, upperTailInverse } from './normal.js';
import { DETECTOR_NAMES, parseDurationMs, seasonPeriodMs, type ScoringProfile } from './profile.js';
import { Recurrence } from './recurrence.js';
import { RobustLevel, setResolution } from './robust.js';
import { Seasonal, SeasonMode } from './seasonal.js';

const D_ROBUST = 0, D_SEASONAL = 1, D_HW = 2, D_FOREST = 3;
const ND = 4;
/** Weights of the detectors in the combined raw score (robust's weight goes to seasonal when a
 * seasonal pattern is in use, since a flat level is then the wrong baseline). */
const W = [1, 1, 1, 1];
/** Weight of the drift test's evidence (Page-Hinkley statistic) added to the combined raw score:
 * a small lasting shift builds evidence sample by sample before any single sample looks odd. */
const W_DRIFT = 0.3;
/** Weight of a collapse in short-term volatility (a flatline, a stuck exporter) below a twentieth
 * (e^-3) of the long-term volatility. */
const W_FLAT = 1;
const FLAT_LOG_RATIO = 3;
/** Sigmas from some detector's expectation below which an anomaly does not start (see observe). */
const MIN_RAW_DECISION = 3;
/**
 * Exponent of the score's tail-probability mapping: score = 1 - Q(level)^SCORE_POWER, Q the normal
 * upper tail of the calibrated level. At 0.03 a score of 0.5 is a tail probability of about 1e-10
 * (level 6.4), where the NAB corpus threshold lands.
 */
const SCORE_POWER = 0.03;
/** Calibration of novelty against the series' own positive novelty (EW RMS over CAL_N samples). */
const CAL_N = 1000;
const CAL_WARM = 5;
const CAL_CLIP = 4;
const CAL_FLOOR = 0.01;
/** Samples scored 0 novelty after a score past SUPPRESS_LEVEL (the calibrated level of score 0.5). */
const SUPPRESS_SAMPLES = 60;
const SUPPRESS_LEVEL = 6.4;
/** Samples, in warm-ups, before a lasting level shift is held anomalous (see `holdShiftOf`). */
const HOLD_AFTER_WARMUPS = 4;

/** scoreOf(level) = 1 - Q(level)^SCORE_POWER, tabulated (linear interpolation) to spare a log and
 * an exp per sample; exact outside the table. */
const TAB_LO = -8, TAB_HI = 24, TAB_STEP = 32;
const TAB = new Float64Array((TAB_HI - TAB_LO) * TAB_STEP + 2);
for (let i = 0; i < TAB.length; i++) TAB[i] = exactScore(TAB_LO + i / TAB_STEP);
function exactScore(level: number): number {
  return 1 - Math.exp(SCORE_POWER * logUpperTail(level));
}
export function scoreOf(level: number): number {
  if (level > TAB_LO && level < TAB_HI) {
    const x = (level - TAB_LO) * TAB_STEP;
    const i = x | 0;
    const f = x - i;
    return TAB[i]! + f * (TAB[i + 1]! - TAB[i]!);
  }
  return level >= TAB_HI ? exactScore(level) : TAB[0]!;
}

/** z with a normal upper tail of p (p >= 1: -Infinity, any z qualifies). */
function zOfTail(p: number): number {
  return p >= 1 ? -Infinity : upperTailInverse(p);
}

export interface Contribution { detector: string; contribution: number }

/**
 * The per-sample scoring ensemble: robust level, seasonal profile, Holt-Winters and a per-group
 * isolation forest, combined, calibrated against each series' own score history (anomaly
 * likelihood), thresholded per the series' profile, with Page-Hinkley re-baselining.
 *
 * `score`: the likelihood's novelty (calibrated level not already reported by a recent larger
 * excursion), divided by the series' own RMS positive novelty, with recurring events and the
 * samples right after a high score zeroed, mapped to 1 - Q^SCORE_POWER: it peaks at the onset of
 * an event; 0.5 is the corpus-wide NAB threshold. `anomaly`/`severity`: the calibrated level
 * (instant or short-run) against the profile's sensitivity, with hysteresis and min_duration.
 */
export class Scorer implements SeriesComponent {
  score = new Float64Array(0);
  anomaly = new Uint8Array(0);
  severity = new Uint8Array(0);
  expected = new Float64Array(0);
  lower = new Float64Array(0);
  upper = new Float64Array(0);
  anomalySince = new Float64Array(0);

  /** Total re-baselines after a lasting change (concept drift). */
  driftEvents = 0;
  /** Series whose models overflowed and started again (see `restart`). */
  overflowRestarts = 0;

  readonly robust = new RobustLevel();
  readonly seasonal = new Seasonal();
  readonly hw = new HoltWinters();
  readonly forest = new ForestDetector();
  readonly drift = new DriftDetector();
  readonly likelihood = new Likelihood();
  readonly recurrence = new Recurrence();
  /** Recurrence of high-scoring events (calibrated level past SUPPRESS_LEVEL). */
  readonly highRecurrence = new Recurrence();
  /**
   * Recurrence of events at the decision level (zDecision, which counts a lone spike in full where
   * the score's `z` halves it). Driving the score's recurrence by it instead cost NAB 12 points.
   */
  readonly flagRecurrence = new Recurrence();

  private profileOf = new Uint16Array(0);
  private n = new Uint32Array(0);
  private lastT = new Float64Array(0);
  private dt = new Float32Array(0);
  private over = new Uint16Array(0);
  /** EW mean square of positive novelty (second calibration). */
  private calM2 = new Float32Array(0);
  /** Samples still to score low after a score past SUPPRESS_LEVEL. */
  private suppress = new Uint16Array(0);
  /** Last raw score per detector, for explain(). */
  private lastRaw = new Float32Array(0);
  /** Level-shift hold: until when (sample time), the shift held (value units), its severity. */
  private holdUntil = new Float64Array(0);
  private holdShift = new Float32Array(0);
  private holdSev = new Uint8Array(0);

  // Per-profile constants, resolved once.
  private readonly pEnabled: Uint8Array;
  private readonly pWarmup: Uint16Array;
  private readonly pMinDur: Uint16Array;
  /** Per profile: z thresholds of the decision (tail = sensitivity, 10x sensitivity) and of
   * severities 2, 3, 4 (tail = sensitivity^1.5, ^2, ^3). */
  private readonly pZ: Float64Array;
  private readonly pBandK: Float64Array;
  private readonly pPeriod: Float64Array;
  private readonly pHoldMs: Float64Array;

  private readonly oR = new DetectorOutput();
  private readonly oS = new DetectorOutput();
  private readonly oH = new DetectorOutput();
  private readonly oF = new DetectorOutput();
  private capacity = 0;

  constructor(readonly profiles: ScoringProfile[]) {
    if (profiles.length === 0) throw new Error('Scorer needs at least one profile');
    const k = profiles.length;
    this.pEnabled = new Uint8Array(k * ND);
    this.pWarmup = new Uint16Array(k);
    this.pMinDur = new Uint16Array(k);
    this.pZ = new Float64Array(k * 5);
    this.pBandK = new Float64Array(k);
    this.pPeriod = new Float64Array(k);
    this.pHoldMs = new Float64Array(k);
    profiles.forEach((p, i) => {
      DETECTOR_NAMES.forEach((name, d) => { this.pEnabled[i * ND + d] = p.detectors[name] ? 1 : 0; });
      this.pWarmup[i] = p.warmup_samples;
      this.pMinDur[i] = p.min_duration;
      const sens = p.sensitivity;
      this.pZ[i * 5] = zOfTail(sens);
      this.pZ[i * 5 + 1] = zOfTail(10 * sens);
      this.pZ[i * 5 + 2] = zOfTail(Math.pow(sens, 1.5));
      this.pZ[i * 5 + 3] = zOfTail(Math.pow(sens, 2));
      this.pZ[i * 5 + 4] = zOfTail(Math.pow(sens, 3));
      this.pBandK[i] = upperTailInverse(p.sensitivity / 2);
      this.pPeriod[i] = p.detectors.seasonal ? seasonPeriodMs(p) : 0;
      this.pHoldMs[i] = parseDurationMs(p.level_shift_hold);
    });
  }

  get trainingRuns(): number { return this.forest.trainingRuns; }
  get trainingErrors(): number { return this.forest.trainingErrors; }
  get trainingSeconds(): number { return this.forest.trainingSeconds; }
  get lastTrainingSeconds(): number { return this.forest.lastTrainingSeconds; }

  /** Grows at once, outside a registry. */
  resize(capacity: number): void {
    resizeNow(this, this.capacity, capacity);
  }

  *grow(capacity: number, used: () => number): GrowSteps {
    if (capacity <= this.capacity) return;
    this.score = yield* grown(this.score, capacity, used);
    this.anomaly = yield* grown(this.anomaly, capacity, used);
    this.severity = yield* grown(this.severity, capacity, used);
    this.expected = yield* grown(this.expected, capacity, used);
    this.lower = yield* grown(this.lower, capacity, used);
    this.upper = yield* grown(this.upper, capacity, used);
    this.anomalySince = yield* grown(this.anomalySince, capacity, used);
    this.profileOf = yield* grown(this.profileOf, capacity, used);
    this.n = yield* grown(this.n, capacity, used);
    this.lastT = yield* grown(this.lastT, capacity, used);
    this.dt = yield* grown(this.dt, capacity, used);
    yield* this.recurrence.grow(capacity, used);
    yield* this.highRecurrence.grow(capacity, used);
    yield* this.flagRecurrence.grow(capacity, used);
    this.over = yield* grown(this.over, capacity, used);
    this.calM2 = yield* grown(this.calM2, capacity, used);
    this.suppress = yield* grown(this.suppress, capacity, used);
    this.lastRaw = yield* grown(this.lastRaw, capacity, used, ND);
    this.holdUntil = yield* grown(this.holdUntil, capacity, used);
    this.holdShift = yield* grown(this.holdShift, capacity, used);
    this.holdSev = yield* grown(this.holdSev, capacity, used);
    yield* this.robust.grow(capacity, used);
    yield* this.seasonal.grow(capacity, used);
    yield* this.hw.grow(capacity, used);
    yield* this.forest.grow(capacity, used);
    yield* this.drift.grow(capacity, used);
    yield* this.likelihood.grow(capacity, used);
    this.capacity = capacity;
  }

  initIds(from: number, to: number): void {
    this.expected.fill(NaN, from, to);
    this.lower.fill(NaN, from, to);
    this.upper.fill(NaN, from, to);
    // The default profile's period, as `reset` sets it.
    this.seasonal.initIds(from, to, this.pPeriod[0]!);
    this.forest.initIds(from, to);
  }

  reset(id: number): void {
    this.score[id] = 0;
    this.anomaly[id] = 0;
    this.severity[id] = 0;
    this.expected[id] = NaN;
    this.lower[id] = NaN;
    this.upper[id] = NaN;
    this.anomalySince[id] = 0;
    this.profileOf[id] = 0;
    this.n[id] = 0;
    this.lastT[id] = 0;
    this.dt[id] = 0;
    this.recurrence.reset(id);
    this.highRecurrence.reset(id);
    this.flagRecurrence.reset(id);
    this.over[id] = 0;
    this.calM2[id] = 0;
    this.suppress[id] = 0;
    this.lastRaw.fill(0, id * ND, id * ND + ND);
    this.holdUntil[id] = 0;
    this.holdShift[id] = 0;
    this.holdSev[id] = 0;
    this.robust.reset(id);
    this.seasonal.reset(id);
    this.seasonal.period[id] = this.pPeriod[0]!;
    this.hw.reset(id);
    this.forest.reset(id);
    this.drift.reset(id);
    this.likelihood.reset(id);
  }

  /** `reset`, keeping the series' profile and forest group. */
  private restart(id: number, profileIndex: number): void {
    const slot = this.forest.slotOf[id]!;
    this.reset(id);
    this.setProfile(id, profileIndex);
    if (slot >= 0) this.forest.setGroup(id, slot);
    this.overflowRestarts++;
  }

  setProfile(id: number, profileIndex: number): void {
    const p = profileIndex >= 0 && profileIndex < this.profiles.length ? profileIndex : 0;
    this.profileOf[id] = p;
    this.seasonal.setPeriod(id, this.pPeriod[p]!);
  }

  /** Peer group (same metric name and job) whose isolation forest scores this series. */
  setGroup(id: number, groupIndex: number): void {
    this.forest.setGroup(id, groupIndex);
  }

  start(): void { this.forest.start(); }
  stop(): Promise<void> { return this.forest.stop(); }

  /**
   * `resolution`: how finely x is known (a counter's rate: timing jitter, one increment), 0 for
   * exact. `quantum`: the smallest step x takes (an integer gauge's unit), which a level shift must
   * be large against to be held; the scores do not use it (NAB unchanged).
   */
  observe(id: number, tMs: number, x: number, resolution = 0, quantum = 0): void {
    if (!(x - x === 0)) return; // NaN or infinite never reaches state
    setResolution(resolution);
    const p = this.profileOf[id]!;
    const en = p * ND;
    const useSeasonal = this.pEnabled[en + D_SEASONAL] === 1;
    const useHw = this.pEnabled[en + D_HW] === 1;
    const useForest = this.pEnabled[en + D_FOREST] === 1;
    const useRobust = this.pEnabled[en + D_ROBUST] === 1;

    const oR = this.oR, oS = this.oS, oH = this.oH, oF = this.oF;
    this.robust.update(id, tMs, x, oR);
    oS.raw = 0; oS.expected = NaN; oS.lower = NaN; oS.upper = NaN;
    let comp = 0;
    let seasonalOn = false;
    if (useSeasonal) {
      this.seasonal.update(id, tMs, x, oS);
      comp = this.seasonal.lastComponent;
      seasonalOn = this.seasonal.mode[id] !== SeasonMode.None && oS.expected === oS.expected;
    }
    oH.raw = 0; oH.expected = NaN; oH.lower = NaN; oH.upper = NaN;
    if (useHw) {
      this.hw.update(id, tMs, x - comp, oH);
      oH.expected += comp; oH.lower += comp; oH.upper += comp;
    }
    oF.raw = 0;
    this.forest.lastLogVolRatio = 0;
    if (useForest) {
      const fv = this.forest.features;
      fv[0] = x >= oR.expected ? oR.raw : -oR.raw;
      fv[1] = this.hw.lastZ;
      fv[2] = seasonalOn ? (x >= oS.expected ? oS.raw : -oS.raw) : 0;
      if (!(oR.expected === oR.expected)) fv[0] = 0;
      this.forest.update(id, tMs, x, oF);
    }

    // Lasting change: re-baseline the level models.
    const n = this.n[id]! + 1;
    this.n[id] = n;
    const base = seasonalOn ? oS : oR;
    let shift = 0, phEvidence = 0;
    if (n > 2 && base.expected === base.expected) {
      const sd = (base.upper - base.expected) / 3;
      shift = this.drift.update(id, x - base.expected, sd);
      phEvidence = this.drift.lastEvidence;
      if (shift !== 0) {
        this.robust.shift(id, shift);
        this.seasonal.shift(id, shift);
        this.hw.shift(id, shift);
        this.driftEvents++;
        // Only a series whose models have settled (HOLD_AFTER_WARMUPS warm-ups) holds a shift: in its
        // first minutes a series' scale is still being learned, and a process that just started
        // steps its own gauges (threads, memory) as it settles.
        if (n > HOLD_AFTER_WARMUPS * this.pWarmup[p]!) this.holdShiftOf(id, p, tMs, shift, sd + quantum);
      }
    }

    // Combine.
    const rr = useRobust && !seasonalOn ? oR.raw : 0;
    const rs = seasonalOn ? oS.raw : 0;
    const wR = useRobust && !seasonalOn ? W[D_ROBUST]! : 0;
    const wS = seasonalOn ? W[D_SEASONAL]! : 0;
    const wH = useHw ? W[D_HW]! : 0;
    const wF = useForest ? W[D_FOREST]! : 0;
    const wsum = wR + wS + wH + wF;
    const cR = cap(rr), cS = cap(rs), cH = cap(oH.raw), cF = cap(oF.raw);
    let raw = wsum > 0 ? (wR * cR + wS * cS + wH * cH + wF * cF) / wsum : 0;
    raw += W_DRIFT * phEvidence;
    const flat = -this.forest.lastLogVolRatio - FLAT_LOG_RATIO;
    if (flat > 0) raw += W_FLAT * flat;
    const lr = id * ND;
    this.lastRaw[lr + D_ROBUST] = wR * cR;
    this.lastRaw[lr + D_SEASONAL] = wS * cS;
    this.lastRaw[lr + D_HW] = wH * cH;
    this.lastRaw[lr + D_FOREST] = wF * cF;

    const L = this.likelihood;
    L.update(id, raw);
    // The detectors' first samples measure deviations against a scale they barely know yet (a
    // flat start makes any change look like thousands of sigmas): excursions seen during warm-up
    // are forgotten when it ends, so that they do not mute the first real anomaly.
    const warmup = this.pWarmup[p]!;
    if (n === warmup) L.clearPeak(id);
    const lt = this.lastT[id]!;
    if (lt !== 0) this.dt[id] = this.dt[id] === 0 ? tMs - lt : this.dt[id]! + 0.05 * (tMs - lt - this.dt[id]!);
    this.lastT[id] = tMs;
    const rec = this.recurrence;
    const recurring = rec.engaged(id, L.z) ? rec.update(id, tMs, L.z, this.dt[id]!) : 0;

    // Band: Holt-Winters' one-step forecast when it has one, else the seasonal or flat baseline.
    const k = this.pBandK[p]!;
    const band = useHw && oH.expected === oH.expected ? oH : seasonalOn ? oS : oR;
    if (band.expected === band.expected) {
      if (band.expected - band.expected !== 0) {
        // A level model overflowed (values near the float32 limit): start the series' models again
        // rather than keep an infinite expectation.
        this.restart(id, p);
        return;
      }
      const sd = (band.upper - band.expected) / 3;
      this.expected[id] = band.expected;
      this.lower[id] = band.expected - k * sd;
      this.upper[id] = band.expected + k * sd;
    }

    if (n <= warmup) {
      this.score[id] = 0;
      this.anomaly[id] = 0;
      this.severity[id] = 0;
      this.anomalySince[id] = 0;
      return;
    }
    // A recurring event (same interval as the previous pair, or same time yesterday) is expected:
    // it adds no novelty.
    const nov = recurring === 1 ? 0 : L.novelty;
    // Second calibration: novelty in units of this series' own typical positive novelty (EW root
    // mean square), so a series that keeps surprising its models (bursty, spiky) needs a larger
    // surprise than a calm one to reach the same score.
    const cn = n - warmup - 1;
    const m2 = this.calM2[id]!;
    let nv = cn < CAL_WARM ? nov : nov / Math.sqrt(m2 + CAL_FLOOR);
    const pos = nov > 0 ? (nov > CAL_CLIP ? CAL_CLIP : nov) : 0;
    const ca = cn < CAL_N ? 1 / (cn + 1) : 1 / CAL_N;
    this.calM2[id] = m2 + ca * (pos * pos - m2);
    // A score-worthy event that recurs (same interval as an earlier pair, or the same time of day
    // as one a day or two ago) is expected: it scores nothing.
    const high = this.highRecurrence;
    if (high.engaged(id, nv, SUPPRESS_LEVEL) && high.update(id, tMs, nv, this.dt[id]!, SUPPRESS_LEVEL) === 1) nv = 0;
    // After a high score, the next samples of the same event add nothing new: score them low so the
    // onset stands out (and one event raises the score once). The anomaly flag is not affected.
    const left = this.suppress[id]!;
    if (left > 0) { this.suppress[id] = left - 1; nv = 0; }
    else if (nv > SUPPRESS_LEVEL) this.suppress[id] = SUPPRESS_SAMPLES;
    this.score[id] = scoreOf(nv);

    const zd = L.zDecision;
    const pz = p * 5;
    const wasAnomalous = this.anomaly[id] === 1;
    // Hysteresis: once anomalous, stay so while the tail probability is under 10x the target.
    // Or: both the baseline and the one-step predictor put the sample past the band (normal tail at
    // the target rate), while the calibrated level is at least unusual. (Tail probabilities are
    // compared as z thresholds resolved per profile: no logarithm per sample.)
    const zb = seasonalOn ? oS.raw : oR.raw;
    const zh = useHw ? oH.raw : zb;
    const zmin = zb < zh ? zb : zh;
    // A recurring event is the series' normal (a batch every 2 minutes, a nightly job): it scores
    // nothing, and is not flagged either, or its alert would fire at every occurrence.
    const fr = this.flagRecurrence;
    const expectedEvent = fr.engaged(id, zd) ? fr.update(id, tMs, zd, this.dt[id]!) : 0;
    // And an anomaly does not start on a sample that no detector puts MIN_RAW_DECISION sigmas
    // (resolution included) from what it expected, however calm the series had been: the
    // calibrated level alone made one connection in 20 minutes, on a counter that had never moved,
    // critical.
    const past =
      expectedEvent === 0 &&
      (zd > this.pZ[pz + (wasAnomalous ? 1 : 0)]! || (zmin > k && zd > 2)) &&
      (wasAnomalous || Math.max(rr, rs, useHw ? oH.raw : 0, useForest ? oF.raw : 0) >= MIN_RAW_DECISION);
    const over = past ? Math.min(this.over[id]! + 1, 65535) : 0;
    this.over[id] = over;
    const held = this.holdUntil[id]! > tMs ? this.holdSev[id]! : 0;
    if ((past && over >= this.pMinDur[p]!) || held > 0) {
      if (!wasAnomalous) this.anomalySince[id] = tMs;
      this.anomaly[id] = 1;
      const sev = past ? this.severityOf(pz, zd) : 0;
      this.severity[id] = sev > held ? sev : held;
    } else {
      this.anomaly[id] = 0;
      this.severity[id] = 0;
      this.anomalySince[id] = 0;
    }
  }

  private severityOf(pz: number, z: number): number {
    return z <= this.pZ[pz + 2]! ? 1 : z <= this.pZ[pz + 3]! ? 2 : z <= this.pZ[pz + 4]! ? 3 : 4;
  }

  /**
   * A confirmed lasting shift: held anomalous for the profile's level_shift_hold when the level
   * moved past the band (in sigmas of the baseline before the shift, as a sample there would be
   * judged). Shifts inside a hold add up, so that a return to the old level ends it.
   */
  private holdShiftOf(id: number, p: number, tMs: number, shift: number, sd: number): void {
    const holdMs = this.pHoldMs[p]!;
    if (!(holdMs > 0 && sd > 0)) return;
    const total = this.holdUntil[id]! > tMs ? this.holdShift[id]! + shift : shift;
    const z = Math.abs(total) / sd;
    const pz = p * 5;
    if (z > this.pZ[pz]!) {
      this.holdUntil[id] = tMs + holdMs;
      this.holdShift[id] = total;
      // Its sigmas are judged against a baseline the shift has already widened: the severity the
      // shift had while it was being confirmed counts too.
      const sev = this.severityOf(pz, z);
      const before = this.severity[id]!;
      this.holdSev[id] = sev > before ? sev : before;
    } else {
      this.holdUntil[id] = 0;
      this.holdShift[id] = 0;
      this.holdSev[id] = 0;
    }
  }

  /** Which detectors made up the latest combined score, as shares summing to 1 (off the hot path). */
  explain(id: number): Contribution[] {
    const base = id * ND;
    let sum = 0;
    for (let d = 0; d < ND; d++) sum += this.lastRaw[base + d]!;
    const out: Contribution[] = [];
    for (let d = 0; d < ND; d++) {
      const v = this.lastRaw[base + d]!;
      if (v > 0) out.push({ detector: DETECTOR_NAMES[d]!, contribution: sum > 0 ? v / sum : 0 });
    }
    return out.sort((a, b) => b.contribution - a.contribution);
  }
}

/** Raw scores are capped so one absurd value (a flat series stepping) cannot dominate forever. */
function cap(v: number): number {
  return v > 50 ? 50 : v;
}
