/** Formatting of durations; parsing is src/config/duration.ts (durationMs, isDuration). */
const UNIT_MS: Record<string, number> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
};

const UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;

/** Formats milliseconds as the shortest Prometheus duration (`3600000` -> `1h`). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const u of UNITS) {
    const size = UNIT_MS[u]!;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out;
}
