import type { GenerateOptions } from '../options.js';
import { dashboard } from './dashboard.js';
import { labelVariable, Layout, stat, timeseries, type Json, type Query } from './panels.js';

const SEL = 'job="$job", instance=~"$instance"';

function rate(metric: string, by: string, legend: string): Query {
  return { expr: `sum by (${by}) (rate(${metric}{${SEL}}[$__rate_interval]))`, legend };
}

function quantiles(histogram: string): Query[] {
  return [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le, instance) (rate(${histogram}_bucket{${SEL}}[$__rate_interval])))`,
    legend: `p${Math.round(q * 100)} {{instance}}`,
  }));
}

export function healthDashboard(o: GenerateOptions): Json {
  const l = new Layout();
  const panels = [
    stat(1, 'Up', l.place(4, 4), [{ expr: `up{${SEL}}`, legend: '{{instance}}' }], {
      mappings: [{ type: 'value', options: { '0': { text: 'down', color: 'red', index: 0 }, '1': { text: 'up', color: 'green', index: 1 } } }],
    }),
    stat(2, 'Version', l.place(4, 4), [{ expr: `augur_build_info{${SEL}}`, legend: '{{version}}' }], {
      options: { textMode: 'name', colorMode: 'none' },
    }),
    stat(3, 'Active series', l.place(5, 4), [{ expr: `sum(augur_active_series{${SEL}})` }]),
    stat(4, 'Series limit used', l.place(5, 4), [{ expr: `sum(augur_active_series{${SEL}}) / sum(augur_series_limit{${SEL}} > 0)` }], {
      unit: 'percentunit',
      thresholds: [{ value: 0.8, color: 'orange' }, { value: o.health.seriesLimitRatio, color: 'red' }],
    }),
    stat(5, 'Samples per second', l.place(6, 4), [{ expr: `sum(rate(augur_samples_accepted_total{${SEL}}[$__rate_interval]))` }], {
      unit: 'short',
    }),
    timeseries(6, 'Samples ingested and scored per second', l.place(12, 8), [rate('augur_samples_accepted_total', 'instance', '{{instance}}')], { min: 0 }),
    timeseries(7, 'Samples rejected per second, by reason', l.place(12, 8), [rate('augur_samples_rejected_total', 'reason', '{{reason}}')], { min: 0 }),
    timeseries(8, 'Write requests rejected per second, by reason', l.place(12, 8), [rate('augur_write_requests_rejected_total', 'reason', '{{reason}}')], {
      description: 'Prometheus does not retry rejected (4xx) requests: their samples never reach Augur.',
      min: 0,
    }),
    timeseries(9, 'HTTP requests per second, by handler and code', l.place(12, 8), [rate('augur_http_requests_total', 'handler, code', '{{handler}} {{code}}')], {
      min: 0,
    }),
    timeseries(10, 'Overloaded (503) responses per second', l.place(12, 8), [rate('augur_overloaded_total', 'instance', '{{instance}}')], {
      description: 'Prometheus retries these, so nothing is lost, but scoring falls behind.',
      min: 0,
    }),
    timeseries(11, 'Write request latency', l.place(12, 8), quantiles('augur_write_request_duration_seconds'), { unit: 's', min: 0 }),
    timeseries(12, 'Scoring latency', l.place(12, 8), quantiles('augur_scoring_duration_seconds'), { unit: 's', min: 0 }),
    timeseries(
      13,
      'Active series and limit',
      l.place(12, 8),
      [
        { expr: `augur_active_series{${SEL}}`, legend: 'active {{instance}}' },
        { expr: `augur_series_limit{${SEL}}`, legend: 'limit {{instance}}' },
      ],
      { min: 0 },
    ),
    timeseries(
      14,
      'Series created and evicted per second',
      l.place(12, 8),
      [rate('augur_series_created_total', 'instance', 'created {{instance}}'), rate('augur_series_evicted_total', 'instance', 'evicted {{instance}}')],
      { min: 0 },
    ),
    timeseries(
      15,
      'Model training per second, by model',
      l.place(12, 8),
      [rate('augur_model_training_runs_total', 'model', 'runs {{model}}'), rate('augur_model_training_errors_total', 'model', 'errors {{model}}')],
      { min: 0 },
    ),
    timeseries(
      16,
      'Time since last model training',
      l.place(12, 8),
      [{ expr: `time() - augur_model_last_training_timestamp_seconds{${SEL}}`, legend: '{{model}} {{instance}}' }],
      { unit: 's', min: 0 },
    ),
    timeseries(
      17,
      'Memory',
      l.place(8, 8),
      [
        { expr: `process_resident_memory_bytes{${SEL}}`, legend: 'resident {{instance}}' },
        { expr: `nodejs_heap_size_used_bytes{${SEL}}`, legend: 'heap used {{instance}}' },
      ],
      { unit: 'bytes', min: 0 },
    ),
    timeseries(18, 'CPU (cores)', l.place(8, 8), [rate('process_cpu_seconds_total', 'instance', '{{instance}}')], { min: 0 }),
    timeseries(
      19,
      'Event-loop lag',
      l.place(8, 8),
      [
        { expr: `nodejs_eventloop_lag_p99_seconds{${SEL}}`, legend: 'p99 {{instance}}' },
        { expr: `augur_event_loop_delay_max_seconds{${SEL}}`, legend: 'max between scrapes {{instance}}' },
      ],
      {
      unit: 's',
      min: 0,
    }),
    timeseries(20, 'Drift events per second', l.place(12, 8), [rate('augur_drift_events_total', 'instance', '{{instance}}')], {
      description: 'Series whose behaviour changed enough for Augur to re-learn them.',
      min: 0,
    }),
  ];
  const variables = [
    labelVariable('job', 'Job', 'augur_build_info', 'job'),
    labelVariable('instance', 'Instance', 'augur_build_info{job="$job"}', 'instance', { multi: true }),
  ];
  return dashboard(o, 'health', 'Health', "Augur's own health: ingest, rejections, latency, series, model training, memory.", variables, panels);
}
