import { z } from 'zod';
import { durationMs, isDuration } from './duration.js';
import { parseListenAddress } from './listen-address.js';
import { parseSelector, SelectorError } from './matchers.js';
import { profileOverridesSchema, profileSchema } from '../detect/profile.js';
import { forecastSchema } from '../forecast/config.js';
import { clusterSchema } from '../cluster/config.js';
import { generateSchema } from '../generate/options.js';

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
      listen_address: z
        .string()
        .superRefine((s, ctx) => {
          try {
            parseListenAddress(s);
          } catch (e) {
            ctx.addIssue({ code: 'custom', message: (e as Error).message });
          }
        })
        .default('0.0.0.0:9201'),
      max_body_bytes: z.number().int().min(1024).max(1024 * MiB).default(32 * MiB),
      max_decoded_bytes: z.number().int().min(1024).max(1024 * MiB).default(32 * MiB),
      request_timeout: duration(100).default('30s'),
      /** Worker threads that decode remote-write bodies; -1 = one when the machine has 2+ cores. */
      decode_threads: z.number().int().min(-1).max(64).default(-1),
      /** Write requests being decoded or queued before Augur answers 503 with Retry-After. */
      max_inflight_requests: z.number().int().min(1).max(100_000).default(256),
      /** Event-loop delay above which write requests are shed with 503 + Retry-After (0: off). */
      max_event_loop_lag: duration(0).default('500ms'),
      /** Optional authentication on every endpoint but /-/healthy (see src/http/auth.ts). */
      auth: z
        .strictObject({
          /** File with one bearer token per line (blank lines and # comments ignored). */
          bearer_tokens_file: z.string().min(1).optional(),
          /** Name of an environment variable holding bearer tokens, comma or newline separated. */
          bearer_tokens_env: z.string().min(1).optional(),
          /** user: bcrypt hash, as in Prometheus's web config. */
          basic_auth_users: z.record(z.string().min(1), z.string().regex(/^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/, 'must be a bcrypt hash ($2y$10$...)')).default({}),
        })
        .optional(),
      /** Optional TLS; the certificate and key are re-read on SIGHUP. */
      tls: z
        .strictObject({
          cert_file: z.string().min(1),
          key_file: z.string().min(1),
          min_version: z.enum(['TLS12', 'TLS13']).default('TLS12'),
        })
        .optional(),
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
  storage: z
    .strictObject({
      /** Directory of the model snapshot (empty: no persistence). `--storage.path` overrides it. */
      path: z.string().default(''),
      snapshot_interval: duration(1000).default('1m'),
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
  /** Options of `augur generate` (see src/generate/options.ts). */
  generate: generateSchema.default({}),
});

export type AugurConfig = z.output<typeof configSchema>;
