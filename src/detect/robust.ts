import { grown, type GrowSteps } from '../series/component.js';
import type { Detector, DetectorOutput } from './detector.js';
import { MAD_TO_SIGMA } from './normal.js';

/** Rate at which the baseline level follows the data once warmed up (about 1/samples remembered). */
const LEVEL_RATE = 0.02;
const SCALE_RATE = 0.02;
/** Residuals are clipped at this many sigmas before they move level or scale. */
const CLIP = 3;

/** The resolution of the sample being scored (see `Scorer.observe`), added to every scale floor. */
let resolution = 0;

/** Set by the scorer before each sample's detectors run (one module value: no argument through every detector). */
export function setResolution(r: number): void {
  resolution = r;
}

/**
 * Scale floor relative to the level, so a flat series still has a finite (tiny) noise scale, plus
 * the resolution of the value itself: a counter's rate cannot be known better than its timing
 * jitter and its smallest increment allow.
 */
export function scaleFloor(level: number): number {
  return 1e-6 * (level < 0 ? -level : level) + 1e-9 + resolution;
}

/**
 * Robust online level and scale: an outlier-clipped EWMA level (moves by at most CLIP sigmas per
 * sample, so a spike barely shifts it) and an EW mean absolute deviation as scale (a streaming
 * MAD). A genuine level shift is followed through `shift`, which the drift detector calls.
 */
export class RobustLevel implements Detector {
  readonly name = 'robust';
  level = new Float64Array(0);
  /** EW mean absolute deviation around the level. */
  mad = new Float32Array(0);
  n = new Uint32Array(0);

  *grow(capacity: number, used: () => number): GrowSteps {
    this.level = yield* grown(this.level, capacity, used);
    this.mad = yield* grown(this.mad, capacity, used);
    this.n = yield* grown(this.n, capacity, used);
  }

  reset(id: number): void {
    this.level[id] = 0;
    this.mad[id] = 0;
    this.n[id] = 0;
  }

  /** Sigma-equivalent noise scale (never zero). */
  sigma(id: number): number {
    const m = this.level[id]!;
    return MAD_TO_SIGMA * this.mad[id]! + scaleFloor(m);
  }

  update(id: number, _tMs: number, x: number, out: DetectorOutput): void {
    const n = this.n[id]!;
    if (n === 0) {
      this.level[id] = x;
      this.mad[id] = 0;
      this.n[id] = 1;
      out.raw = 0;
      out.expected = NaN;
      out.lower = NaN;
      out.upper = NaN;
      return;
    }
    const m = this.level[id]!;
    const sd = this.sigma(id);
    const r = x - m;
    const ar = r < 0 ? -r : r;
    out.raw = ar / sd;
    out.expected = m;
    out.lower = m - 3 * sd;
    out.upper = m + 3 * sd;
    // Early samples: plain running mean / mean absolute deviation, no clipping.
    const warm = n < 8;
    const a = Math.max(LEVEL_RATE, 1 / (n + 1));
    const b = Math.max(SCALE_RATE, 1 / (n + 1));
    const lim = CLIP * sd;
    const c = warm ? r : r > lim ? lim : r < -lim ? -lim : r;
    this.level[id] = m + a * c;
    const dev = warm ? ar : ar > lim ? lim : ar;
    this.mad[id] = this.mad[id]! + b * (dev - this.mad[id]!);
    this.n[id] = n + 1;
  }

  /** Re-baseline after a lasting change: move the level by `delta`. */
  shift(id: number, delta: number): void {
    this.level[id] = this.level[id]! + delta;
  }
}
