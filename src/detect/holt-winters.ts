import { grown, type GrowSteps } from '../series/component.js';
import type { Detector, DetectorOutput } from './detector.js';
import { MAD_TO_SIGMA } from './normal.js';
import { scaleFloor } from './robust.js';

const ALPHA = 0.3;
const BETA = 0.05;
/** Trend damping: the forecast trend decays by this factor each step. */
const PHI = 0.9;
const MAE_RATE = 0.02;

/**
 * Holt-Winters one-step predictor: damped additive level and trend, fed the deseasonalised value
 * (the scorer subtracts the seasonal detector's component, so together they form additive
 * Holt-Winters). The one-step forecast error is scored against its own EW mean absolute error.
 */
export class HoltWinters implements Detector {
  readonly name = 'holt_winters';
  level = new Float64Array(0);
  trend = new Float64Array(0);
  mae = new Float32Array(0);
  n = new Uint32Array(0);
  /** Signed one-step error of the last update in sigmas, for the forest features. */
  lastZ = 0;

  *grow(capacity: number, used: () => number): GrowSteps {
    this.level = yield* grown(this.level, capacity, used);
    this.trend = yield* grown(this.trend, capacity, used);
    this.mae = yield* grown(this.mae, capacity, used);
    this.n = yield* grown(this.n, capacity, used);
  }

  reset(id: number): void {
    this.level[id] = 0;
    this.trend[id] = 0;
    this.mae[id] = 0;
    this.n[id] = 0;
  }

  update(id: number, _tMs: number, y: number, out: DetectorOutput): void {
    const n = this.n[id]!;
    this.lastZ = 0;
    if (n === 0) {
      this.level[id] = y;
      this.trend[id] = 0;
      this.mae[id] = 0;
      this.n[id] = 1;
      out.raw = 0;
      out.expected = NaN;
      out.lower = NaN;
      out.upper = NaN;
      return;
    }
    const l = this.level[id]!;
    const b = this.trend[id]!;
    const f = l + PHI * b;
    const sd = MAD_TO_SIGMA * this.mae[id]! + scaleFloor(l);
    const e = y - f;
    const ae = e < 0 ? -e : e;
    const z = e / sd;
    this.lastZ = z;
    out.raw = ae / sd;
    out.expected = f;
    out.lower = f - 3 * sd;
    out.upper = f + 3 * sd;
    // Clip the error used for learning at 4 sigma once warmed up (a spike should not drag the level).
    const lim = n < 8 ? Infinity : 4 * sd;
    const ec = e > lim ? lim : e < -lim ? -lim : e;
    const nl = f + ALPHA * ec;
    this.trend[id] = PHI * b + BETA * (nl - l - PHI * b);
    this.level[id] = nl;
    const a = Math.max(MAE_RATE, 1 / (n + 1));
    this.mae[id] = this.mae[id]! + a * ((ae > lim ? lim : ae) - this.mae[id]!);
    this.n[id] = n + 1;
  }

  shift(id: number, delta: number): void {
    this.level[id] = this.level[id]! + delta;
    this.trend[id] = 0;
  }
}
