/**
 * Empirical distribution of scaled forecast errors, one histogram per (model, horizon) cell.
 * An error is scaled by the series' own running mean absolute error for that model and horizon,
 * so one pooled distribution calibrates the intervals of every series of a profile. Recording is
 * O(1) and allocation-free; quantiles are refreshed every REFRESH records.
 */
const BINS = 400;
const LIMIT = 10; // scaled errors beyond +-LIMIT land in the edge bins
const WIDTH = (2 * LIMIT) / BINS;
const REFRESH = 256;
const DECAY_AT = 50_000; // halve counts past this total so the distribution follows drift
const MIN_COUNT = 100;
/** E|e| = sigma * sqrt(2/pi) for a normal error, so e/MAE has standard deviation sqrt(pi/2). */
const NORMAL_SD_PER_MAE = Math.sqrt(Math.PI / 2);

export class IntervalTable {
  private readonly counts: Float64Array;
  private readonly totals: Float64Array;
  private readonly sinceRefresh: Uint32Array;
  /** [cell * levels * 2 + level * 2 + 0|1] = lower|upper quantile of scaled error. */
  readonly q: Float64Array;
  /**
   * Median scaled error per cell: the point forecast's bias correction. It is refreshed together
   * with the quantiles, so lowerQ <= medianQ <= upperQ at every level.
   */
  readonly med: Float64Array;

  constructor(
    readonly cells: number,
    readonly levels: readonly number[],
  ) {
    this.counts = new Float64Array(cells * BINS);
    this.totals = new Float64Array(cells);
    this.sinceRefresh = new Uint32Array(cells);
    this.q = new Float64Array(cells * levels.length * 2);
    this.med = new Float64Array(cells);
    for (let c = 0; c < cells; c++) this.setNormal(c);
  }

  record(cell: number, scaled: number): void {
    let b = Math.floor((scaled + LIMIT) / WIDTH);
    if (b < 0) b = 0;
    else if (b >= BINS) b = BINS - 1;
    this.counts[cell * BINS + b]! += 1;
    this.totals[cell]! += 1;
    if (++this.sinceRefresh[cell]! >= REFRESH) this.refresh(cell);
  }

  count(cell: number): number {
    return this.totals[cell]!;
  }

  lowerQ(cell: number, level: number): number {
    return this.q[(cell * this.levels.length + level) * 2]!;
  }

  upperQ(cell: number, level: number): number {
    return this.q[(cell * this.levels.length + level) * 2 + 1]!;
  }

  medianQ(cell: number): number {
    return this.med[cell]!;
  }

  private setNormal(cell: number): void {
    this.med[cell] = 0;
    for (let l = 0; l < this.levels.length; l++) {
      const z = normalQuantile(0.5 + this.levels[l]! / 2) * NORMAL_SD_PER_MAE;
      this.q[(cell * this.levels.length + l) * 2] = -z;
      this.q[(cell * this.levels.length + l) * 2 + 1] = z;
    }
  }

  private refresh(cell: number): void {
    this.sinceRefresh[cell] = 0;
    const total = this.totals[cell]!;
    if (total < MIN_COUNT) return;
    const base = cell * BINS;
    this.med[cell] = this.quantile(base, total, 0.5);
    for (let l = 0; l < this.levels.length; l++) {
      const tail = (1 - this.levels[l]!) / 2;
      this.q[(cell * this.levels.length + l) * 2] = this.quantile(base, total, tail);
      this.q[(cell * this.levels.length + l) * 2 + 1] = this.quantile(base, total, 1 - tail);
    }
    if (total > DECAY_AT) {
      for (let b = 0; b < BINS; b++) this.counts[base + b]! *= 0.5;
      this.totals[cell] = total * 0.5;
    }
  }

  private quantile(base: number, total: number, p: number): number {
    const target = p * total;
    let acc = 0;
    for (let b = 0; b < BINS; b++) {
      const c = this.counts[base + b]!;
      if (acc + c >= target && c > 0) {
        return -LIMIT + (b + (target - acc) / c) * WIDTH;
      }
      acc += c;
    }
    return LIMIT;
  }
}

/** Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}
