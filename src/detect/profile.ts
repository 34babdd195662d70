import { z } from 'zod';
import { DURATION_RE, durationMs } from '../config/duration.js';

/** Detector names as they appear in config (`detectors:`) and in `explain()`. */
export const DETECTOR_NAMES = ['robust', 'seasonal', 'holt_winters', 'isolation_forest'] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

/** Milliseconds of a Prometheus duration such as `1h30m`; NaN if it is not one. */
export const parseDurationMs = durationMs;

export const seasonalitySchema = z.union([
  z.enum(['auto', 'none', 'daily', 'weekly']),
  z
    .string()
    .regex(DURATION_RE, 'a Prometheus duration such as 12h')
    .refine((s) => parseDurationMs(s) >= 60_000, 'period must be at least 1m'),
]);

const holdSchema = z.string().regex(DURATION_RE, 'a Prometheus duration such as 15m, or 0s');

export const detectorsSchema = z.strictObject({
  robust: z.boolean().default(true),
  seasonal: z.boolean().default(true),
  holt_winters: z.boolean().default(true),
  isolation_forest: z.boolean().default(true),
});

/**
 * One scoring profile.
 * - `sensitivity`: the target false-alarm rate of `augur_anomaly`, as the probability that an
 *   ordinary sample is flagged (1e-4 = one false flag per 10,000 normal samples). Larger flags
 *   more. The score itself does not depend on it; the band width does (it is the interval that
 *   holds 1 - sensitivity of normal samples).
 * - `seasonality`: `auto` finds a daily or weekly pattern when the data shows one; `none`,
 *   `daily`, `weekly`, or any period as a Prometheus duration (e.g. `12h`).
 * - `detectors`: each detector on or off.
 * - `warmup_samples`: samples before scores are reported and before any alert (at most 60).
 * - `min_duration`: consecutive samples past the threshold before `augur_anomaly` turns 1.
 * - `level_shift_hold`: after a lasting shift of the level past the band, the models take the new
 *   level as normal within minutes; the series stays anomalous this long (sample time) from that
 *   moment, so that a held-anomaly alert can fire on it. `0s`: not held.
 */
export const profileSchema = z.strictObject({
  sensitivity: z.number().gt(0).max(0.5).default(1e-4),
  seasonality: seasonalitySchema.default('auto'),
  detectors: detectorsSchema.prefault({}),
  warmup_samples: z.number().int().min(1).max(60).default(30),
  min_duration: z.number().int().min(1).max(1000).default(1),
  level_shift_hold: holdSchema.default('15m'),
});

export type ScoringProfile = z.output<typeof profileSchema>;
export type ScoringProfileInput = z.input<typeof profileSchema>;

/** Overrides a selector may carry: any profile field, detectors merged key by key. */
export const profileOverridesSchema = z.strictObject({
  sensitivity: z.number().gt(0).max(0.5).optional(),
  seasonality: seasonalitySchema.optional(),
  detectors: z
    .strictObject({
      robust: z.boolean().optional(),
      seasonal: z.boolean().optional(),
      holt_winters: z.boolean().optional(),
      isolation_forest: z.boolean().optional(),
    })
    .optional(),
  warmup_samples: z.number().int().min(1).max(60).optional(),
  min_duration: z.number().int().min(1).max(1000).optional(),
  level_shift_hold: holdSchema.optional(),
});
export type ProfileOverrides = z.output<typeof profileOverridesSchema>;

export const defaultProfile: ScoringProfile = profileSchema.parse({});

/** `base` with `overrides` applied (detectors merged key by key). */
export function applyOverrides(base: ScoringProfile, overrides: ProfileOverrides): ScoringProfile {
  return {
    sensitivity: overrides.sensitivity ?? base.sensitivity,
    seasonality: overrides.seasonality ?? base.seasonality,
    detectors: { ...base.detectors, ...stripUndefined(overrides.detectors ?? {}) },
    warmup_samples: overrides.warmup_samples ?? base.warmup_samples,
    min_duration: overrides.min_duration ?? base.min_duration,
    level_shift_hold: overrides.level_shift_hold ?? base.level_shift_hold,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Seasonal period in ms for a profile: 0 = none, -1 = auto (daily or weekly, found from data). */
export function seasonPeriodMs(p: ScoringProfile): number {
  switch (p.seasonality) {
    case 'auto': return -1;
    case 'none': return 0;
    case 'daily': return 86_400_000;
    case 'weekly': return 604_800_000;
    default: return parseDurationMs(p.seasonality);
  }
}
