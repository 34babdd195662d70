import { grown, type GrowSteps, type SeriesComponent } from '../series/component.js';

/** Memory of the long-run distribution of the combined raw score, in samples. */
const LONG = 1000;
/** Weight of the newest raw score in the short-run average. */
const SHORT_RATE = 0.5;
/** Floor on the raw score's spread, so a series that has never surprised does not score noise. */
const SD_FLOOR = 0.05;
/** For learning the distribution, an extreme raw score counts as at most this many spreads. */
const CLIP = 10;
/** How quickly the memory of an already-reported excursion fades (per sample). */
const PEAK_DECAY = 0.99;

/**
 * Anomaly likelihood: the combined raw score is compared with its own recent distribution (EW
 * mean and variance over about LONG samples), so that a 4-sigma surprise on a noisy series and on
 * a smooth one land at the same calibrated z. `z` is that calibrated level; `novelty` is the part
 * of it not already reported by a recent, larger excursion (the score peaks when an anomaly starts
 * and falls back while it persists; the anomaly flag uses `z`).
 */
export class Likelihood implements SeriesComponent {
  mean = new Float32Array(0);
  var = new Float32Array(0);
  short = new Float32Array(0);
  peak = new Float32Array(0);
  n = new Uint32Array(0);
  z = 0;
  zDecision = 0;
  novelty = 0;

  *grow(capacity: number, used: () => number): GrowSteps {
    this.mean = yield* grown(this.mean, capacity, used);
    this.var = yield* grown(this.var, capacity, used);
    this.short = yield* grown(this.short, capacity, used);
    this.peak = yield* grown(this.peak, capacity, used);
    this.n = yield* grown(this.n, capacity, used);
  }

  reset(id: number): void {
    this.mean[id] = 0;
    this.var[id] = 0;
    this.short[id] = 0;
    this.peak[id] = 0;
    this.n[id] = 0;
  }

  /** Forget the excursions seen so far (called when warm-up ends). */
  clearPeak(id: number): void {
    this.peak[id] = 0;
  }

  update(id: number, raw: number): void {
    const n = this.n[id]!;
    const mu = this.mean[id]!;
    const v = this.var[id]!;
    const sd = Math.sqrt(v) + SD_FLOOR;
    const sh = n === 0 ? raw : this.short[id]! + SHORT_RATE * (raw - this.short[id]!);
    this.short[id] = sh;
    const z = n < 2 ? 0 : (sh - mu) / sd;
    // For the decision, the larger of the instant and the short-run level: a lone spike counts in
    // full, a run of moderate surprises by its density.
    this.zDecision = n < 2 ? 0 : ((raw > sh ? raw : sh) - mu) / sd;
    this.z = z;
    const pk = this.peak[id]!;
    this.novelty = z - pk;
    const decayed = pk * PEAK_DECAY;
    this.peak[id] = z > decayed ? z : decayed;
    // Learn the distribution.
    const lim = mu + CLIP * sd;
    const r = n < 10 ? raw : raw > lim ? lim : raw;
    const a = Math.max(1 / LONG, 1 / (n + 1));
    const d = r - mu;
    this.mean[id] = mu + a * d;
    this.var[id] = (1 - a) * (v + a * d * d);
    this.n[id] = n + 1;
  }
}
