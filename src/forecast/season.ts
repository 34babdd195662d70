/**
 * Season detection on 30-minute slot means (48 a day, read from the per-series day ring). Each
 * completed slot visit updates exponentially weighted autocovariances at a few lags; a period L is accepted when
 * the autocorrelation at L clearly exceeds the one at L/2 (a trend or a level shift raises both
 * alike, a true season of period L makes them opposite).
 */
export const SLOT_MS = 1_800_000;
export const SLOTS = 48;
export const DAY_MS = SLOTS * SLOT_MS;
/** Lags in slots at which autocovariances are kept. */
export const LAGS = [2, 3, 4, 6, 8, 12, 24, 48] as const;
export const LAG_COUNT = LAGS.length;
/** Candidate periods in slots (2h .. 24h) and the index in LAGS of the period and its half. */
const CANDIDATES: readonly (readonly [number, number, number])[] = [
  [4, 2, 0],
  [6, 3, 1],
  [8, 4, 2],
  [12, 5, 3],
  [24, 6, 5],
  [48, 7, 6],
];
export const SEASON_UNDECIDED = 0;
export const SEASON_NONE = 255;
/** Slot visits (30 minutes each) before a season can be decided: two days. */
export const SEASON_MIN_VISITS = 96;
const COV_RATE = 1 / 144;
const MEAN_RATE = 1 / 96;
const MIN_R = 0.3;
const MIN_SCORE = 0.4;

/**
 * Folds the completed visit value `y` of a slot into the autocovariances. `lagVals[k]` holds the
 * value of the slot LAGS[k] slots earlier (NaN when unknown; for LAGS = SLOTS, yesterday's value of
 * the same slot). `stats` holds [mean, var, cov_0 .. cov_{LAG_COUNT-1}] for this series.
 */
export function foldSlot(y: number, lagVals: Float64Array, stats: Float32Array, sbase: number, first: boolean): void {
  if (first) stats[sbase] = y;
  const m = stats[sbase]!;
  const dev = y - m;
  stats[sbase + 1]! += COV_RATE * (dev * dev - stats[sbase + 1]!);
  for (let k = 0; k < LAG_COUNT; k++) {
    const p = lagVals[k]!;
    if (p === p) stats[sbase + 2 + k]! += COV_RATE * (dev * (p - m) - stats[sbase + 2 + k]!);
  }
  stats[sbase] = m + MEAN_RATE * dev;
}

/** The detected period in slots, or SEASON_NONE. */
export function decideSeason(stats: Float32Array, sbase: number): number {
  const v = stats[sbase + 1]!;
  if (!(v > 0)) return SEASON_NONE;
  let bestScore = -Infinity;
  for (const [, at, half] of CANDIDATES) {
    const r = stats[sbase + 2 + at]! / v;
    const score = r - stats[sbase + 2 + half]! / v;
    if (r >= MIN_R && score > bestScore) bestScore = score;
  }
  if (bestScore < MIN_SCORE) return SEASON_NONE;
  // The shortest period close to the best: a 6h season also scores at 12h and 24h.
  for (const [period, at, half] of CANDIDATES) {
    const r = stats[sbase + 2 + at]! / v;
    const score = r - stats[sbase + 2 + half]! / v;
    if (r >= MIN_R && score >= 0.85 * bestScore) return period;
  }
  return SEASON_NONE;
}
