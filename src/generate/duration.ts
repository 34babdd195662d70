import { canonicalDuration, durationMs, isDuration } from '../config/duration.js';

export { canonicalDuration, isDuration };

/** Seconds in a Prometheus duration; throws on anything else. */
export function durationSeconds(s: string): number {
  if (!isDuration(s)) throw new Error(`not a Prometheus duration: ${JSON.stringify(s)}`);
  return durationMs(s) / 1000;
}
