import { grown, type GrowSteps, type SeriesComponent } from '../series/component.js';

/** Mean shift, in sigmas, that the test ignores (half the smallest shift worth re-baselining). */
const DELTA = 0.5;
/** Evidence needed: a 4-sigma lasting shift re-baselines after about LAMBDA / 3.5 samples. */
const LAMBDA = 40;
/** Per-sample evidence is capped so one huge spike cannot trigger a re-baseline alone. */
const CAP = 5;

/**
 * Two-sided Page-Hinkley test on the baseline residual (in sigmas). When a lasting shift up or
 * down is confirmed, `update` returns the mean residual since the shift began (in value units), by
 * which the caller re-baselines its models; otherwise 0.
 */
export class DriftDetector implements SeriesComponent {
  gUp = new Float32Array(0);
  gDown = new Float32Array(0);
  sumUp = new Float32Array(0);
  sumDown = new Float32Array(0);
  nUp = new Uint32Array(0);
  nDown = new Uint32Array(0);
  /** max(gUp, gDown) after the last update: evidence of a lasting shift, before any reset. */
  lastEvidence = 0;

  *grow(capacity: number, used: () => number): GrowSteps {
    this.gUp = yield* grown(this.gUp, capacity, used);
    this.gDown = yield* grown(this.gDown, capacity, used);
    this.sumUp = yield* grown(this.sumUp, capacity, used);
    this.sumDown = yield* grown(this.sumDown, capacity, used);
    this.nUp = yield* grown(this.nUp, capacity, used);
    this.nDown = yield* grown(this.nDown, capacity, used);
  }

  reset(id: number): void {
    this.gUp[id] = 0;
    this.gDown[id] = 0;
    this.sumUp[id] = 0;
    this.sumDown[id] = 0;
    this.nUp[id] = 0;
    this.nDown[id] = 0;
  }

  /** `resid` in value units, `sigma` its noise scale. Returns the shift to apply, or 0. */
  update(id: number, resid: number, sigma: number): number {
    let u = resid / sigma;
    if (u > CAP) u = CAP;
    else if (u < -CAP) u = -CAP;
    let gu = this.gUp[id]! + u - DELTA;
    if (gu <= 0) { gu = 0; this.sumUp[id] = 0; this.nUp[id] = 0; }
    else { this.sumUp[id] = this.sumUp[id]! + resid; this.nUp[id] = this.nUp[id]! + 1; }
    let gd = this.gDown[id]! - u - DELTA;
    if (gd <= 0) { gd = 0; this.sumDown[id] = 0; this.nDown[id] = 0; }
    else { this.sumDown[id] = this.sumDown[id]! + resid; this.nDown[id] = this.nDown[id]! + 1; }
    this.gUp[id] = gu;
    this.gDown[id] = gd;
    this.lastEvidence = gu > gd ? gu : gd;
    if (gu > LAMBDA || gd > LAMBDA) {
      const shift = gu > LAMBDA ? this.sumUp[id]! / this.nUp[id]! : this.sumDown[id]! / this.nDown[id]!;
      this.reset(id);
      // Residuals near the float32 limit overflow the sum: no shift rather than an infinite one.
      return shift - shift === 0 ? shift : 0;
    }
    return 0;
  }
}
