import type { SeriesComponent } from '../series/component.js';

/**
 * What a detector reports for one sample, written into a reused object of fixed shape so the
 * per-sample path allocates nothing. `raw` is a non-negative deviation in units of the series'
 * own noise (|z|-like: 0 = exactly as expected, 3 = a three-sigma surprise). `expected`, `lower`
 * and `upper` are the detector's band for this sample, in the units of the scored value, or NaN
 * when the detector has no opinion yet.
 */
export class DetectorOutput {
  raw = 0;
  expected = NaN;
  lower = NaN;
  upper = NaN;
}

/**
 * A streaming per-series detector. `update` scores `x` against the state learned from earlier
 * samples, then learns from `x`; it must be causal and allocation-free. `tMs` is sample time in
 * milliseconds. Non-finite values never reach a detector.
 */
export interface Detector extends SeriesComponent {
  readonly name: string;
  update(id: number, tMs: number, x: number, out: DetectorOutput): void;
}
