import { durationSeconds, isDuration } from './duration.js';

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

/** Defaults overlaid with `partial`, validated; throws one Error listing every problem by path. */
export function resolveGenerateOptions(partial: DeepPartial<GenerateOptions> = {}): GenerateOptions {
  const o = merge(defaultGenerateOptions, partial);
  const errors: string[] = [];
  const dur = (path: string, v: string) => {
    if (!isDuration(v)) errors.push(`${path}: not a Prometheus duration: ${JSON.stringify(v)}`);
  };
  const share = (path: string, v: number) => {
    if (!(v > 0 && v <= 1)) errors.push(`${path}: must be in (0, 1], got ${v}`);
  };
  const sev = (path: string, v: string) => {
    if (!SEVERITIES.has(v)) errors.push(`${path}: must be critical, warning or info, got ${JSON.stringify(v)}`);
  };
  const name = (path: string, v: string) => {
    if (!/^[a-zA-Z0-9_-]+$/.test(v)) errors.push(`${path}: must match [a-zA-Z0-9_-]+, got ${JSON.stringify(v)}`);
  };

  name('augurJob', o.augurJob);
  dur('anomaly.for', o.anomaly.for);
  dur('anomaly.smoothing', o.anomaly.smoothing);
  if (o.anomaly.tiers.length === 0) errors.push('anomaly.tiers: at least one tier');
  o.anomaly.tiers.forEach((t, i) => {
    if (![1, 2, 3, 4].includes(t.minLevel)) errors.push(`anomaly.tiers[${i}].minLevel: must be 1, 2, 3 or 4`);
    sev(`anomaly.tiers[${i}].severity`, t.severity);
  });
  if (o.forecast.horizons.length === 0) errors.push('forecast.horizons: at least one horizon');
  o.forecast.horizons.forEach((h, i) => dur(`forecast.horizons[${i}]`, h));
  o.forecast.breach.forEach((t, i) => {
    dur(`forecast.breach[${i}].within`, t.within);
    sev(`forecast.breach[${i}].severity`, t.severity);
  });
  dur('forecast.for', o.forecast.for);
  share('peerOutlier.threshold', o.peerOutlier.threshold);
  dur('peerOutlier.for', o.peerOutlier.for);
  sev('peerOutlier.severity', o.peerOutlier.severity);
  share('groupBurst.ratio', o.groupBurst.ratio);
  if (!(Number.isInteger(o.groupBurst.minSeries) && o.groupBurst.minSeries >= 1)) {
    errors.push(`groupBurst.minSeries: must be a positive integer, got ${o.groupBurst.minSeries}`);
  }
  dur('groupBurst.for', o.groupBurst.for);
  sev('groupBurst.severity', o.groupBurst.severity);
  for (const k of ['downFor', 'rejectFor', 'overloadedFor', 'seriesLimitFor', 'trainingMaxAge', 'trainingFor'] as const) {
    dur(`health.${k}`, o.health[k]);
  }
  share('health.rejectedRatio', o.health.rejectedRatio);
  share('health.seriesLimitRatio', o.health.seriesLimitRatio);
  name('dashboards.uidPrefix', o.dashboards.uidPrefix);
  if (o.dashboards.uidPrefix.length > 30) errors.push('dashboards.uidPrefix: at most 30 characters (Grafana uids are at most 40)');
  dur('dashboards.refresh', o.dashboards.refresh);
  if (errors.length > 0) throw new Error(`invalid generate options:\n  ${errors.join('\n  ')}`);
  return o;
}

/** The longest forecast horizon, in seconds. */
export function maxHorizonSeconds(o: GenerateOptions): number {
  return Math.max(...o.forecast.horizons.map(durationSeconds));
}
