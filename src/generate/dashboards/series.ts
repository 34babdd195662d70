import { maxHorizonSeconds, type GenerateOptions } from '../options.js';
import { groupLabels } from '../peer-groups.js';
import { dashboard, dashboardLink } from './dashboard.js';
import {
  BAND_LINE,
  customVariable,
  labelVariable,
  Layout,
  override,
  timeseries,
  type Json,
  type Query,
} from './panels.js';

const SEL = 'metric="$metric", job="$job", instance=~"$instance"';
const COUNTER_SUFFIX = '.+_(total|count|sum|bucket)';

/**
 * The original series as Augur scores it: gauges as they are, counters (by name suffix) as their
 * per-second rate. Only one of the two selectors matches a given name.
 */
export function originalSeries(legend: string): Query[] {
  const orig = 'job="$job", instance=~"$instance"';
  return [
    { expr: `{__name__="$metric", __name__!~"${COUNTER_SUFFIX}", ${orig}}`, legend },
    {
      expr: `rate({__name__="$metric", __name__=~"${COUNTER_SUFFIX}", ${orig}}[$__rate_interval])`,
      legend: `${legend} (per-second rate)`,
    },
  ];
}

function band(family: string, suffix = ''): Query[] {
  return [
    { expr: `${family}{${SEL}${suffix}}`, legend: 'expected {{instance}}' },
    { expr: `${family}_lower{${SEL}${suffix}}`, legend: 'lower {{instance}}' },
    { expr: `${family}_upper{${SEL}${suffix}}`, legend: 'upper {{instance}}' },
  ];
}

function formatHorizon(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600}h` : `${Math.ceil(seconds / 60)}m`;
}

/**
 * The clusters dashboard for the series' peer group: `job` is this dashboard's variable, any other
 * group label comes from the series clicked.
 */
function peerGroupLink(o: GenerateOptions): string {
  const vars: Record<string, string> = { metric: '$metric' };
  for (const g of groupLabels(o)) vars[g.variable] = g.label === 'job' ? '$job' : `\${__field.labels.${g.label}}`;
  return dashboardLink(o, 'clusters', vars);
}

export function seriesDashboard(o: GenerateOptions): Json {
  const l = new Layout();
  const bandStyle = [override('/^(lower|upper) /', BAND_LINE), override('/^expected /', { 'custom.lineWidth': 2 })];
  const forecastQueries: Query[] = [
    ...originalSeries('actual {{instance}}'),
    ...band('augur_forecast', ', horizon="$horizon"').map((q) => ({
      expr: `${q.expr} offset $horizon`,
      legend: q.legend!.replace('expected', 'forecast'),
    })),
  ];
  const panels = [
    timeseries(1, '$metric: value and expected band', l.place(24, 9), [...originalSeries('value {{instance}}'), ...band('augur_expected')], {
      description: 'The original series (counters as per-second rates) against the band Augur expected at each sample.',
      overrides: bandStyle,
    }),
    timeseries(
      2,
      'Anomaly score',
      l.place(12, 8),
      [
        { expr: `augur_anomaly_score{${SEL}}`, legend: 'score {{instance}}' },
        { expr: `augur_anomaly{${SEL}}`, legend: 'anomalous {{instance}}' },
      ],
      {
        min: 0,
        max: 1,
        overrides: [
          override('/^anomalous /', { 'custom.lineInterpolation': 'stepAfter', 'custom.fillOpacity': 30, color: { mode: 'fixed', fixedColor: 'red' } }),
        ],
      },
    ),
    timeseries(3, 'Anomaly severity', l.place(12, 8), [{ expr: `augur_anomaly_severity{${SEL}}`, legend: '{{instance}}' }], {
      min: 0,
      max: 4,
      decimals: 0,
      custom: { lineInterpolation: 'stepAfter' },
      mappings: [
        {
          type: 'value',
          options: Object.fromEntries(
            ['none', 'low', 'medium', 'high', 'critical'].map((text, i) => [String(i), { text, index: i }]),
          ),
        },
      ],
    }),
    timeseries(4, 'Forecast $horizon ahead, drawn at its target time', l.place(24, 9), forecastQueries, {
      description:
        'Each forecast is drawn at the time it is for (made $horizon earlier), with its interval, against what happened. The right edge shows where the series is heading.',
      overrides: [override('/^(lower|upper) /', BAND_LINE), override('/^forecast /', { 'custom.lineStyle': { fill: 'dash', dash: [4, 4] }, 'custom.lineWidth': 2 })],
    }),
    timeseries(5, 'Forecast time to threshold breach', l.place(12, 8), [
      { expr: `augur_forecast_breach_seconds{${SEL}}`, legend: 'rises to {{threshold}} {{instance}}' },
      { expr: `augur_forecast_floor_breach_seconds{${SEL}}`, legend: 'falls to {{threshold}} {{instance}}' },
    ], {
      unit: 's',
      min: 0,
    }),
    timeseries(6, 'Peer outlier score', l.place(12, 8), [{ expr: `augur_peer_outlier_score{${SEL}}`, legend: '{{instance}}' }], {
      min: 0,
      max: 1,
      thresholds: [{ value: o.peerOutlier.threshold, color: 'red' }],
      links: [{ title: 'Peer group', url: peerGroupLink(o) }],
    }),
  ];
  const variables = [
    labelVariable('metric', 'Metric', 'augur_anomaly_score', 'metric'),
    labelVariable('job', 'Job', 'augur_anomaly_score{metric="$metric"}', 'job'),
    labelVariable('instance', 'Instance', 'augur_anomaly_score{metric="$metric", job="$job"}', 'instance', { multi: true }),
    customVariable('horizon', 'Forecast horizon', o.forecast.horizons),
  ];
  return dashboard(
    o,
    'series',
    'Series',
    'One series: its value against the expected band, its anomaly score and severity, and its forecasts.',
    variables,
    panels,
    // Reaches past now so the forecast panel shows where the series is heading.
    { from: 'now-6h', to: `now+${formatHorizon(maxHorizonSeconds(o))}` },
  );
}
