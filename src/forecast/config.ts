import { z } from 'zod';
import { durationMs } from '../config/duration.js';

const MIN_HORIZON_MS = 5 * 60_000;
const MAX_HORIZON_MS = 24 * 3_600_000;

const horizon = z.string().superRefine((text, ctx) => {
  const ms = durationMs(text);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `invalid Prometheus duration "${text}"` });
  } else if (ms < MIN_HORIZON_MS || ms > MAX_HORIZON_MS) {
    ctx.addIssue({ code: 'custom', message: `horizon ${text} outside 5m..24h` });
  }
});

/** Which forecasting models take part in the automatic choice. */
export const forecastModelsSchema = z
  .object({
    naive: z.boolean().default(true),
    ses: z.boolean().default(true),
    seasonal_naive: z.boolean().default(true),
    linear: z.boolean().default(true),
    holt: z.boolean().default(true),
    holt_winters: z.boolean().default(true),
    lstm: z.boolean().default(true),
  })
  .strict();

/**
 * Per-selector forecast settings.
 * - `horizons`: Prometheus durations from 5m to 24h; one `augur_forecast{horizon}` series each.
 * - `levels`: nominal interval coverages. The FIRST level is the one exposed as
 *   `augur_forecast_lower` / `augur_forecast_upper` (default 0.8); every level is returned by the
 *   forecast path API.
 * - `breach_thresholds`: upper limits, for which `augur_forecast_breach_seconds{threshold}` is
 *   exposed (time until the series rises to it).
 * - `breach_floors`: lower limits, for which `augur_forecast_floor_breach_seconds{threshold}` is
 *   exposed (time until the series falls to it: free bytes reaching 0).
 * - `models`: switch individual models on or off (at least one must stay on).
 */
export const forecastSchema = z
  .object({
    enabled: z.boolean().default(true),
    horizons: z
      .array(horizon)
      .min(1)
      .max(8)
      .default(['1h'])
      .refine((hs) => new Set(hs.map(durationMs)).size === hs.length, 'duplicate horizons'),
    levels: z.array(z.number().gt(0).lt(1)).min(1).max(4).default([0.8, 0.95]),
    breach_thresholds: z.array(z.number().finite()).max(8).default([]),
    breach_floors: z.array(z.number().finite()).max(8).default([]),
    models: forecastModelsSchema.default({
      naive: true,
      ses: true,
      seasonal_naive: true,
      linear: true,
      holt: true,
      holt_winters: true,
      lstm: true,
    }),
  })
  .strict()
  .refine((c) => Object.values(c.models).some((on) => on), {
    message: 'at least one forecast model must be enabled',
    path: ['models'],
  });

export type ForecastConfig = z.output<typeof forecastSchema>;
export type ForecastConfigInput = z.input<typeof forecastSchema>;

export const defaultForecastConfig: ForecastConfig = forecastSchema.parse({});
