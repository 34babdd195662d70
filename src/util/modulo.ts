/**
 * `t` modulo `p`, in [0, p), for any sign of `t`. By floor division: a double `%` is a slow
 * library call, and the detectors and forecasts need this at every sample.
 */
export function posMod(t: number, p: number): number {
  const r = t - Math.floor(t / p) * p;
  return r < 0 ? r + p : r >= p ? r - p : r;
}
