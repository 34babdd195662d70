/** Metric types as remote write numbers them (v1 MetricMetadata.MetricType, v2 Metadata.MetricType). */
export const MetricType = {
  UNKNOWN: 0,
  COUNTER: 1,
  GAUGE: 2,
  HISTOGRAM: 3,
  GAUGEHISTOGRAM: 4,
  SUMMARY: 5,
  INFO: 6,
  STATESET: 7,
} as const;

export const KIND_GAUGE = 0;
export const KIND_COUNTER = 1;

const COUNTER_SUFFIXES = ['_total', '_count', '_sum', '_bucket'];
const HISTOGRAM_PARTS = ['_bucket', '_count', '_sum'];

export function kindFromSuffix(name: string): number {
  for (const s of COUNTER_SUFFIXES) if (name.endsWith(s)) return KIND_COUNTER;
  return KIND_GAUGE;
}

/**
 * Kind of a series from the metadata Prometheus sends per metric family, or -1 when no family
 * covers the name. Histogram and summary families cover their `_bucket`, `_count` and `_sum`
 * series (counters); a summary's quantile series carry the family name itself (gauges).
 */
export function kindFromMetadata(name: string, types: ReadonlyMap<string, number>): number {
  const own = types.get(name);
  if (own !== undefined) return kindOfType(own, false);
  if (name.endsWith('_total')) {
    const t = types.get(name.slice(0, -6));
    if (t === MetricType.COUNTER) return KIND_COUNTER;
  }
  for (const part of HISTOGRAM_PARTS) {
    if (!name.endsWith(part)) continue;
    const t = types.get(name.slice(0, -part.length));
    if (t === MetricType.HISTOGRAM || t === MetricType.SUMMARY) return KIND_COUNTER;
    if (t === MetricType.GAUGEHISTOGRAM) return KIND_GAUGE;
  }
  return -1;
}

export function kindOfType(type: number, part: boolean): number {
  switch (type) {
    case MetricType.COUNTER:
      return KIND_COUNTER;
    case MetricType.HISTOGRAM:
    case MetricType.SUMMARY:
      return part ? KIND_COUNTER : KIND_GAUGE;
    case MetricType.GAUGE:
    case MetricType.GAUGEHISTOGRAM:
    case MetricType.INFO:
    case MetricType.STATESET:
      return KIND_GAUGE;
    default:
      return -1;
  }
}
