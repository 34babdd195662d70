import { z } from 'zod';
import { canonicalDuration, durationSeconds, isDuration } from './duration.js';

export type AlertSeverity = 'critical' | 'warning' | 'info';

/** An anomaly alert tier: fires when `augur_anomaly_severity` holds at or above `minLevel`. */
export interface AnomalyTier {
  /** 1 low, 2 medium, 3 high, 4 critical (the values of `augur_anomaly_severity`). */
  minLevel: 1 | 2 | 3 | 4;
  severity: AlertSeverity;
}

/** A forecast-breach alert tier: fires when a threshold is forecast to be crossed within `within`. */
export interface BreachTier {
  within: string;
  severity: AlertSeverity;
}

/**
 * Everything `augur generate rules|dashboards|prometheus-config` depends on. The generators are pure
 * functions of this object; the CLI maps the YAML config onto it and fills the rest from
 * `defaultGenerateOptions`.
 */
export interface GenerateOptions {
  /** `job` label under which Prometheus scrapes Augur itself. */
  augurJob: string;
  /** Base of `runbook_url`; each alert links to `<base>#<alertname lowercased>`. */
  runbookBaseUrl: string;
  anomaly: {
    /** How long an anomaly must hold before the alert fires. */
    for: string;
    /**
     * Window of `max_over_time` over the severity, so that one normal sample inside a sustained
     * anomaly does not restart the `for` clock.
     */
    smoothing: string;
    tiers: AnomalyTier[];
  };
  forecast: {
    /** Horizons Augur forecasts at (the `horizon` label); the first is the dashboards' default. */
    horizons: string[];
    breach: BreachTier[];
    for: string;
  };
  /**
   * Augur's peer groups, from its `cluster:` config (not from `generate:`): the peer alerts, the
   * recording rule they join on, the clusters dashboard and the shard hashing follow them.
   */
  peerGroups: {
    /** `cluster.enabled`: when false Augur exposes no peer families, and no peer alerts are generated. */
    enabled: boolean;
    /** `cluster.group_by`: the labels that, with the metric name, make a peer group. */
    groupBy: string[];
  };
  peerOutlier: { threshold: number; for: string; severity: AlertSeverity };
  /** Many series of one peer group anomalous together: the incident signal. */
  groupBurst: { ratio: number; minSeries: number; for: string; severity: AlertSeverity };
  health: {
    downFor: string;
    /** Share of received samples rejected above which Augur is "rejecting input". */
    rejectedRatio: number;
    rejectFor: string;
    overloadedFor: string;
    /** Share of `augur_series_limit` in use above which Augur is "at its series limit". */
    seriesLimitRatio: number;
    seriesLimitFor: string;
    /** Age of a model's last successful training above which it is "not training". */
    trainingMaxAge: string;
    trainingFor: string;
  };
  dashboards: {
    uidPrefix: string;
    titlePrefix: string;
    tags: string[];
    refresh: string;
    /** Base URL of Grafana, for the `dashboard_url` annotation. */
    grafanaUrl: string;
  };
}

export const defaultGenerateOptions: GenerateOptions = {
  augurJob: 'augur',
  runbookBaseUrl: 'https://github.com/augur-monitoring/augur/blob/main/docs/runbook.md',
  anomaly: {
    for: '5m',
    smoothing: '2m',
    tiers: [
      { minLevel: 2, severity: 'warning' },
      { minLevel: 4, severity: 'critical' },
    ],
  },
  forecast: {
    horizons: ['1h'],
    breach: [
      { within: '1h', severity: 'warning' },
      { within: '15m', severity: 'critical' },
    ],
    for: '5m',
  },
  peerGroups: { enabled: true, groupBy: ['job'] },
  peerOutlier: { threshold: 0.9, for: '15m', severity: 'warning' },
  groupBurst: { ratio: 0.5, minSeries: 3, for: '5m', severity: 'critical' },
  health: {
    downFor: '5m',
    rejectedRatio: 0.01,
    rejectFor: '15m',
    overloadedFor: '15m',
    seriesLimitRatio: 0.95,
    seriesLimitFor: '15m',
    trainingMaxAge: '1h',
    trainingFor: '15m',
  },
  dashboards: {
    uidPrefix: 'augur',
    titlePrefix: 'Augur',
    tags: ['augur'],
    refresh: '30s',
    grafanaUrl: 'http://localhost:3000',
  },
};

export type DeepPartial<T> = T extends (infer U)[]
  ? U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (Array.isArray(base) || typeof base !== 'object' || base === null) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    out[k] = merge((base as Record<string, unknown>)[k], v);
  }
  return out as T;
}

const SEVERITIES = new Set<string>(['critical', 'warning', 'info']);

const duration = (positive = false) =>
  z.string().superRefine((s, ctx) => {
    if (!isDuration(s)) ctx.addIssue({ code: 'custom', message: `not a Prometheus duration: ${JSON.stringify(s)}` });
    else if (positive && durationSeconds(s) === 0) ctx.addIssue({ code: 'custom', message: `must be a positive duration, got ${s}` });
  });
const share = z.number().superRefine((v, ctx) => {
  if (!(v > 0 && v <= 1)) ctx.addIssue({ code: 'custom', message: `must be in (0, 1], got ${v}` });
});
const severity = z.string().superRefine((v, ctx) => {
  if (!SEVERITIES.has(v)) ctx.addIssue({ code: 'custom', message: `must be critical, warning or info, got ${JSON.stringify(v)}` });
});
const name = z.string().regex(/^[a-zA-Z0-9_-]+$/, 'must match [a-zA-Z0-9_-]+');

/**
 * The `generate:` section of the config (and the argument of `resolveGenerateOptions`): every key
 * optional, unknown keys rejected. Durations used as PromQL ranges or thresholds must be positive;
 * `for` durations may be 0s (fire at once).
 */
export const generateSchema = z.strictObject({
  augurJob: name.optional(),
  runbookBaseUrl: z.string().optional(),
  anomaly: z
    .strictObject({
      for: duration().optional(),
      smoothing: duration(true).optional(),
      tiers: z
        .array(
          z.strictObject({
            minLevel: z.number().refine((v) => [1, 2, 3, 4].includes(v), 'must be 1, 2, 3 or 4'),
            severity,
          }),
        )
        .min(1, 'at least one tier')
        .optional(),
    })
    .optional(),
  forecast: z
    .strictObject({
      horizons: z.array(duration(true)).min(1, 'at least one horizon').optional(),
      breach: z.array(z.strictObject({ within: duration(true), severity })).optional(),
      for: duration().optional(),
    })
    .optional(),
  peerOutlier: z.strictObject({ threshold: share.optional(), for: duration().optional(), severity: severity.optional() }).optional(),
  groupBurst: z
    .strictObject({
      ratio: share.optional(),
      minSeries: z.number().int('must be a positive integer').min(1, 'must be a positive integer').optional(),
      for: duration().optional(),
      severity: severity.optional(),
    })
    .optional(),
  health: z
    .strictObject({
      downFor: duration().optional(),
      rejectedRatio: share.optional(),
      rejectFor: duration().optional(),
      overloadedFor: duration().optional(),
      seriesLimitRatio: share.optional(),
      seriesLimitFor: duration().optional(),
      trainingMaxAge: duration(true).optional(),
      // Also the range of increase(): must be positive.
      trainingFor: duration(true).optional(),
    })
    .optional(),
  dashboards: z
    .strictObject({
      // Grafana uids are at most 40 characters; the prefix leaves room for the dashboard's slug.
      uidPrefix: name.max(30, 'at most 30 characters (Grafana uids are at most 40)').optional(),
      titlePrefix: z.string().optional(),
      tags: z.array(z.string()).optional(),
      refresh: duration(true).optional(),
      grafanaUrl: z.string().optional(),
    })
    .optional(),
});

/**
 * `peerGroups`, which the caller takes from the `cluster:` section of Augur's config (it is not a key
 * of `generate:`); the same constraints as `cluster.group_by`.
 */
const peerGroupsSchema = z
  .strictObject({
    enabled: z.boolean().optional(),
    groupBy: z.array(z.string().min(1)).optional(),
  })
  .optional();

/**
 * Defaults overlaid with `partial`, validated; throws one Error listing every problem by path.
 * Horizons come out in Augur's canonical form (`90m` -> `1h30m`), the `horizon` label it exposes.
 */
export function resolveGenerateOptions(partial: DeepPartial<GenerateOptions> = {}): GenerateOptions {
  const { peerGroups, ...rest } = partial;
  const issues = [
    ...(generateSchema.safeParse(rest).error?.issues ?? []),
    ...(peerGroupsSchema.safeParse(peerGroups).error?.issues.map((i) => ({ ...i, path: ['peerGroups', ...i.path] })) ?? []),
  ];
  if (issues.length > 0) {
    const errors = issues.map((i) => `${i.path.map((p, k) => (typeof p === 'number' ? `[${p}]` : `${k > 0 ? '.' : ''}${String(p)}`)).join('')}: ${i.message}`);
    throw new Error(`invalid generate options:\n  ${errors.join('\n  ')}`);
  }
  const o = merge(defaultGenerateOptions, partial);
  return { ...o, forecast: { ...o.forecast, horizons: [...new Set(o.forecast.horizons.map(canonicalDuration))] } };
}

/** The longest forecast horizon, in seconds. */
export function maxHorizonSeconds(o: GenerateOptions): number {
  return Math.max(...o.forecast.horizons.map(durationSeconds));
}
