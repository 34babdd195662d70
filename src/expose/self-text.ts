import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import { escapeLabelValue } from '../series/labels.js';
import { escapeHelp, formatValue } from './format.js';

/**
 * Serialises prom-client's metrics in text 0.0.4 or OpenMetrics 1.0. prom-client's own
 * OpenMetrics output appends `_total` to names that already end in it, so Augur writes both.
 */
export function writeSelfMetrics(metrics: MetricObjectWithValues<MetricValue<string>>[], openMetrics: boolean): string {
  let out = '';
  for (const m of metrics) {
    const mtype = m.type as unknown as string;
    let family = m.name;
    if (openMetrics && mtype === 'counter' && family.endsWith('_total')) family = family.slice(0, -6);
    const type = mtype === 'histogram' || mtype === 'summary' || mtype === 'counter' || mtype === 'gauge' ? mtype : 'untyped';
    out += `# HELP ${family} ${escapeHelp(m.help, openMetrics)}\n# TYPE ${family} ${openMetrics && type === 'untyped' ? 'unknown' : type}\n`;
    for (const v of m.values) {
      const name = (v as { metricName?: string }).metricName ?? (openMetrics && mtype === 'counter' ? family + '_total' : m.name);
      out += name + labelText(v.labels as Record<string, string | number>) + ' ' + formatValue(v.value) + '\n';
    }
  }
  return out;
}

const SLICE_MS = 2;

interface Collectable {
  get(): Promise<MetricObjectWithValues<MetricValue<string>>> | MetricObjectWithValues<MetricValue<string>>;
}

/**
 * The registry's metrics as text, collected one metric at a time with a turn of the event loop
 * whenever a slice of a few milliseconds is used up. `getMetricsAsJSON` collects them all in
 * one go: the default metrics read /proc, walk event-loop histograms and heap statistics, and
 * together with the first render chunk that held the loop for 25-35 ms at the start of a scrape.
 * (Augur sets no registry default labels, which `getMetricsAsJSON` would add.)
 */
export async function* renderSelfMetrics(register: Registry, openMetrics: boolean): AsyncGenerator<string> {
  let started = performance.now();
  let out = '';
  // prom-client types these as MetricObject; they are its Metric instances, which have get().
  for (const metric of register.getMetricsAsArray() as unknown as Collectable[]) {
    const m = await metric.get();
    out += writeSelfMetrics([m], openMetrics);
    if (performance.now() - started > SLICE_MS) {
      yield out;
      out = '';
      await new Promise<void>((resolve) => setImmediate(resolve));
      started = performance.now();
    }
  }
  if (out !== '') yield out;
}

function labelText(labels: Record<string, string | number> | undefined): string {
  if (!labels) return '';
  let s = '';
  for (const k in labels) {
    const v = labels[k];
    if (v === undefined) continue;
    s += (s === '' ? '' : ',') + k + '="' + escapeLabelValue(typeof v === 'number' ? formatValue(v) : v) + '"';
  }
  return s === '' ? '' : '{' + s + '}';
}
