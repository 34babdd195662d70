import { formatDurationMs } from '../forecast/duration.js';

/**
 * Prometheus's duration grammar: units in strictly decreasing order (y, w, d, h, m, s, ms), each at
 * most once, so `1h30m` is one and `30m1h` or `5m5m` are not (promtool rejects them in rules).
 */
export const DURATION_RE = /^(?=\d)(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$/;
const UNIT_MS: Record<string, number> = {
  ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000,
};

export function isDuration(s: string): boolean {
  return DURATION_RE.test(s);
}

/** Milliseconds of a Prometheus duration such as `1h30m`; NaN if it is not one. */
export function durationMs(s: string): number {
  if (!DURATION_RE.test(s)) return NaN;
  let total = 0;
  for (const m of s.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/** A duration as Augur writes it in its `horizon` label (`90m` -> `1h30m`); throws on a non-duration. */
export function canonicalDuration(s: string): string {
  const ms = durationMs(s);
  if (Number.isNaN(ms)) throw new Error(`not a Prometheus duration: ${JSON.stringify(s)}`);
  return formatDurationMs(ms);
}
