import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseSelector, matches, SelectorError, type Matcher } from '../config/matchers.js';
import { durationMs } from '../config/duration.js';
import type { Pipeline } from '../pipeline.js';

const MAX_LIMIT = 1000;
/** Forecast points (series x steps) in one response; past it fewer series are returned. */
export const MAX_FORECAST_POINTS = 20_000;
/** Series listed (cluster members and outliers) in one clusters response. */
export const MAX_CLUSTER_SERIES = 10_000;

type Query = Record<string, string | string[] | undefined>;

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function bad(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).send({ status: 'error', errorType: 'bad_data', error: message });
}

/** `match[]` (or `match`) selectors, OR-ed as in Prometheus's API; none means every series. */
function selectors(q: Query): Matcher[][] {
  return [...list(q['match[]']), ...list(q.match)].map((s) => parseSelector(s));
}

/** `limit`, capped at MAX_LIMIT; a capped limit adds a `warnings` entry rather than a 400. */
function limitOf(q: Query, dflt: number, warnings: string[]): number {
  const raw = list(q.limit)[0];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new SelectorError(`limit must be a positive integer, got ${JSON.stringify(raw)}`);
  if (n <= MAX_LIMIT) return n;
  warnings.push(`limit ${n} is above the maximum of ${MAX_LIMIT}: capped to ${MAX_LIMIT}`);
  return MAX_LIMIT;
}

/** Prometheus leaves `warnings` out of a response that has none. */
function withWarnings(warnings: string[]): { warnings?: string[] } {
  return warnings.length > 0 ? { warnings } : {};
}

function labelsOf(p: Pipeline, id: number): Record<string, string> {
  return Object.fromEntries(p.registry.labels(id));
}

function selected(p: Pipeline, id: number, sel: Matcher[][]): boolean {
  if (p.registry.alive[id] !== 1) return false;
  if (sel.length === 0) return true;
  const labels = p.registry.labels(id);
  return sel.some((m) => matches(m, labels));
}

function num(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * JSON API in Prometheus's envelope (`{status, data}`): anomalies now, forecast paths, clusters.
 * Responses are bounded by `limit` (at most 1,000 series; a larger one is capped, with a `warnings`
 * entry) and say when they were truncated:
 * forecasts return at most MAX_FORECAST_POINTS points (fewer series when `steps` is large, with a
 * `warnings` entry as Prometheus gives); clusters list at most `limit` groups, `limit` members per
 * cluster and `limit` outliers per group, MAX_CLUSTER_SERIES series in all, with the totals.
 */
export function registerApiRoutes(app: FastifyInstance, p: Pipeline): void {
  app.get('/api/v1/anomalies', (req, reply) => {
    const q = req.query as Query;
    let sel: Matcher[][];
    let limit: number;
    const warnings: string[] = [];
    try {
      sel = selectors(q);
      limit = limitOf(q, 100, warnings);
    } catch (e) {
      return bad(reply, (e as Error).message);
    }
    const s = p.scorer;
    const ids: number[] = [];
    for (let id = 0; id < p.registry.highWater; id++) {
      if (p.registry.exposed[id] === 1 && s.anomaly[id] === 1 && selected(p, id, sel)) ids.push(id);
    }
    ids.sort((a, b) => s.severity[b]! - s.severity[a]! || s.score[b]! - s.score[a]!);
    const data = ids.slice(0, limit).map((id) => ({
      labels: labelsOf(p, id),
      score: s.score[id]!,
      severity: s.severity[id]!,
      value: num(p.lastValue[id]!),
      valueIsRate: p.registry.kind[id] === 1,
      expected: num(s.expected[id]!),
      lower: num(s.lower[id]!),
      upper: num(s.upper[id]!),
      since: s.anomalySince[id]! > 0 ? new Date(s.anomalySince[id]!).toISOString() : null,
      detectors: s.explain(id),
    }));
    return reply.send({ status: 'success', data, total: ids.length, truncated: ids.length > limit, ...withWarnings(warnings) });
  });

  app.get('/api/v1/forecast', (req, reply) => {
    const f = p.forecast;
    if (f === null) return bad(reply, 'forecasting is disabled in the configuration');
    const q = req.query as Query;
    let sel: Matcher[][];
    let limit: number;
    const warnings: string[] = [];
    try {
      sel = selectors(q);
      limit = limitOf(q, 20, warnings);
    } catch (e) {
      return bad(reply, (e as Error).message);
    }
    if (sel.length === 0) return bad(reply, 'match[] is required');
    const horizon = list(q.horizon)[0] ?? f.horizonLabels[0]!;
    const hMs = durationMs(horizon);
    const h = f.horizonMs.findIndex((ms) => ms === hMs);
    if (h < 0) return bad(reply, `horizon ${JSON.stringify(horizon)} is not configured; configured: ${f.horizonLabels.join(', ')}`);
    const stepsRaw = Number(list(q.steps)[0] ?? 12);
    if (!Number.isInteger(stepsRaw) || stepsRaw < 1 || stepsRaw > 500) return bad(reply, 'steps must be an integer from 1 to 500');
    // Every series returns `steps` points: fewer series when limit x steps would pass the cap.
    const seriesCap = Math.min(limit, Math.max(1, Math.floor(MAX_FORECAST_POINTS / stepsRaw)));
    const data: object[] = [];
    let total = 0;
    for (let id = 0; id < p.registry.highWater; id++) {
      if (p.registry.exposed[id] !== 1 || !selected(p, id, sel)) continue;
      total++;
      if (data.length >= seriesCap) continue;
      data.push({
        labels: labelsOf(p, id),
        horizon: f.horizonLabels[h],
        model: f.chosenModel(id, h),
        valueIsRate: p.registry.kind[id] === 1,
        path: f.path(id, h, stepsRaw).map((pt) => ({ ...pt, time: new Date(pt.t).toISOString() })),
      });
    }
    const truncated = total > seriesCap;
    if (truncated && seriesCap < limit) {
      warnings.push(`results truncated to ${seriesCap} series: at most ${MAX_FORECAST_POINTS} points (series x steps) per response; lower steps or narrow match[]`);
    }
    return reply.send({ status: 'success', data, total, truncated, ...withWarnings(warnings) });
  });

  app.get('/api/v1/clusters', (req, reply) => {
    const peers = p.peers;
    if (peers === null) return bad(reply, 'clustering is disabled in the configuration');
    const q = req.query as Query;
    let sel: Matcher[][];
    let limit: number;
    const warnings: string[] = [];
    try {
      sel = selectors(q);
      limit = limitOf(q, 50, warnings);
    } catch (e) {
      return bad(reply, (e as Error).message);
    }
    const report = peers.describe(
      (metric, labels) => sel.length === 0 || sel.some((m) => matches(m, [['__name__', metric], ...labels])),
      (id) => labelsOf(p, id),
      { groups: limit, perList: limit, series: MAX_CLUSTER_SERIES },
    );
    return reply.send({ status: 'success', data: report.groups, total: report.total, truncated: report.truncated, ...withWarnings(warnings) });
  });
}
