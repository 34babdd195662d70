const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800,
  y: 31536000,
};

const DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const PART = /(\d+)(ms|s|m|h|d|w|y)/g;

/** True for a Prometheus duration such as `90s`, `1h30m` or `2d`. */
export function isDuration(s: string): boolean {
  return DURATION.test(s);
}

/** Seconds in a Prometheus duration; throws on anything else. */
export function durationSeconds(s: string): number {
  if (!isDuration(s)) throw new Error(`not a Prometheus duration: ${JSON.stringify(s)}`);
  let total = 0;
  for (const m of s.matchAll(PART)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return total;
}
