import { z } from 'zod';
import { durationMs, isDuration } from './duration.js';
import { parseSelector, SelectorError } from './matchers.js';
import { profileOverridesSchema, profileSchema } from '../detect/profile.js';
import { forecastSchema } from '../forecast/config.js';
import { clusterSchema } from '../cluster/config.js';

const duration = (min: number) =>
  z
    .string()
    .refine(isDuration, 'must be a Prometheus duration such as 30s, 5m or 1h')
    .refine((s) => durationMs(s) >= min, `must be at least ${min} ms`);

const selector = z.string().superRefine((s, ctx) => {
  try {
    parseSelector(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: e instanceof SelectorError ? e.message : String(e) });
  }
});

const MiB = 1024 * 1024;

export const configSchema = z.strictObject({
  web: z
    .strictObject({
      listen_address: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/, 'must be host:port').default('0.0.0.0:9201'),
      max_body_bytes: z.number().int().min(1024).max(1024 * MiB).default(32 * MiB),
      max_decoded_bytes: z.number().int().min(1024).max(1024 * MiB).default(32 * MiB),
      request_timeout: duration(100).default('30s'),
      /** Worker threads that decode remote-write bodies; -1 = one when the machine has 2+ cores. */
      decode_threads: z.number().int().min(-1).max(64).default(-1),
      /** Write requests being decoded or queued before Augur answers 503 with Retry-After. */
      max_inflight_requests: z.number().int().min(1).max(100_000).default(256),
    })
    .prefault({}),
  limits: z
    .strictObject({
      series_per_request: z.number().int().min(0).default(0),
      labels_per_series: z.number().int().min(0).default(256),
      label_name_length: z.number().int().min(0).default(1024),
      label_value_length: z.number().int().min(0).default(64 * 1024),
    })
    .prefault({}),
  series: z
    .strictObject({
      max_active: z.number().int().min(1).max(100_000_000).default(1_000_000),
      staleness: duration(1000).default('5m'),
    })
    .prefault({}),
  scoring: profileSchema.prefault({}),
  forecast: forecastSchema.prefault({}),
  cluster: clusterSchema.prefault({}),
  selectors: z
    .array(
      z.strictObject({
        match: selector,
        ...profileOverridesSchema.shape,
        forecast: forecastSchema.optional(),
      }),
    )
    .default([]),
  /** Options of `augur generate` (see src/generate/options.ts), validated when loading. */
  generate: z.record(z.string(), z.unknown()).default({}),
});

export type AugurConfig = z.output<typeof configSchema>;
