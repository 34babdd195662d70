import type { GenerateOptions } from '../options.js';
import { groupLabels, groupProse } from '../peer-groups.js';
import { dashboard, dashboardLink } from './dashboard.js';
import { barGauge, Layout, stat, table, timeseries, type Json, type Query } from './panels.js';

const LEVELS = ['low', 'medium', 'high', 'critical'];

function bySeverity(): Query[] {
  return LEVELS.map((name, i) => ({ expr: `count(augur_anomaly_severity == ${i + 1}) or vector(0)`, legend: name }));
}

const SEVERITY_COLOURS = [
  ['low', 'blue'],
  ['medium', 'yellow'],
  ['high', 'orange'],
  ['critical', 'red'],
].map(([name, colour]) => ({
  matcher: { id: 'byName', options: name },
  properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: colour } }],
}));

export function overviewDashboard(o: GenerateOptions): Json {
  const l = new Layout();
  const drill = dashboardLink(o, 'series', {
    metric: '${__data.fields.metric}',
    job: '${__data.fields.job}',
    instance: '${__data.fields.instance}',
  });
  const groups = groupLabels(o);
  const group = dashboardLink(o, 'clusters', {
    metric: '${__field.labels.metric}',
    ...Object.fromEntries(groups.map((g) => [g.variable, `\${__field.labels.${g.label}}`])),
  });
  const panels = [
    stat(1, 'Scored series', l.place(6, 4), [{ expr: 'count(augur_anomaly_score) or vector(0)' }], {
      description: 'Series Augur scores and exposes now.',
    }),
    stat(2, 'Anomalous series', l.place(6, 4), [{ expr: 'sum(augur_anomaly) or vector(0)' }], {
      description: 'Series whose latest sample is anomalous (augur_anomaly = 1).',
      thresholds: [{ value: 1, color: 'orange' }],
    }),
    stat(3, 'Anomalous share', l.place(6, 4), [{ expr: 'sum(augur_anomaly) / count(augur_anomaly)' }], {
      unit: 'percentunit',
      decimals: 2,
      thresholds: [{ value: 0.05, color: 'orange' }, { value: 0.2, color: 'red' }],
    }),
    stat(
      4,
      'Firing Augur alerts',
      l.place(6, 4),
      [{ expr: 'count(ALERTS{alertname=~"Augur.+", alertstate="firing"}) or vector(0)' }],
      { thresholds: [{ value: 1, color: 'red' }] },
    ),
    barGauge(5, 'Anomalous series by severity', l.place(8, 8), bySeverity(), {
      description: 'Series by the severity of their latest sample (augur_anomaly_severity).',
      overrides: SEVERITY_COLOURS,
      min: 0,
    }),
    timeseries(6, 'Anomalous series by severity over time', l.place(16, 8), bySeverity(), {
      overrides: SEVERITY_COLOURS,
      custom: { stacking: { mode: 'normal', group: 'A' }, fillOpacity: 40 },
      min: 0,
    }),
    table(7, 'Top anomalous series', l.place(12, 10), [{ expr: 'topk(20, augur_anomaly_score)' }], {
      description: 'The 20 series with the highest anomaly score now. Click a row to drill down.',
      decimals: 3,
      links: [{ title: 'Drill down', url: drill }],
      options: { sortBy: [{ displayName: 'Value', desc: true }] },
    }),
    timeseries(
      8,
      'Anomaly ratio by peer group (top 10)',
      l.place(12, 10),
      [{ expr: 'topk(10, augur_group_anomaly_ratio)', legend: ['{{metric}}', ...groups.map((g) => `{{${g.label}}}`)].join(' / ') }],
      {
        description: `Share of each peer group (same ${groupProse(o)}) anomalous now. Many series going wrong together is the incident signal.`,
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: [{ value: o.groupBurst.ratio, color: 'red' }],
        links: [{ title: 'Peer group', url: group }],
      },
    ),
    timeseries(
      9,
      'Anomaly score, top 10 series',
      l.place(12, 9),
      [{ expr: 'topk(10, augur_anomaly_score)', legend: '{{metric}} {{job}} {{instance}}' }],
      { min: 0, max: 1 },
    ),
    table(
      10,
      'Forecast threshold breaches',
      l.place(12, 9),
      [{ expr: 'sort(augur_forecast_breach_seconds or augur_forecast_floor_breach_seconds)' }],
      {
        description: 'Series forecast to cross a configured threshold (rising to a breach threshold, or falling to a floor: augur_forecast_floor_breach_seconds), soonest first (time to breach).',
        unit: 's',
        links: [{ title: 'Drill down', url: drill }],
      },
    ),
  ];
  return dashboard(
    o,
    'overview',
    'Overview',
    'What Augur finds anomalous now, across all scored series.',
    [],
    panels,
  );
}
