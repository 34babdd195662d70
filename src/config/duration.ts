export const DURATION_RE = /^(\d+(ms|s|m|h|d|w|y))+$/;
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
