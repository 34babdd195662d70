import { monitorEventLoopDelay } from 'node:perf_hooks';
import client from 'prom-client';
import type { Pipeline } from '../pipeline.js';
import { VERSION } from '../version.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Counter fed from a plain number the pipeline keeps, so the hot path never calls prom-client. */
function mirroredCounter(register: client.Registry, name: string, help: string, read: () => number): client.Counter {
  let last = 0;
  return new client.Counter({
    name,
    help,
    registers: [register],
    collect() {
      const v = read();
      if (v > last) this.inc(v - last);
      last = v;
    },
  });
}

/** Augur's own metrics, in prom-client, with the `augur_` prefix and base units. */
export class SelfMetrics {
  readonly register = new client.Registry();
  readonly httpRequests: client.Counter<'handler' | 'code'>;
  readonly writeRejected: client.Counter<'reason'>;
  readonly samplesAccepted: client.Counter;
  readonly samplesRejected: client.Counter<'reason'>;
  readonly writeDuration: client.Histogram;
  readonly scoringDuration: client.Histogram;
  readonly metricsRenderDuration: client.Histogram;
  readonly overloaded: client.Counter;
  readonly shed: client.Counter<'cause'>;
  readonly authFailures: client.Counter<'reason'>;
  readonly snapshotRestoreFailures: client.Counter<'reason'>;
  readonly snapshotFailures: client.Counter;
  readonly snapshotLastSuccess: client.Gauge;
  readonly snapshotDuration: client.Gauge;
  readonly snapshotBytes: client.Gauge;
  readonly snapshotRestoredSeries: client.Gauge;
  readonly tlsReloads: client.Counter<'result'>;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

  constructor(pipeline: Pipeline, maxActive: number) {
    const r = this.register;
    client.collectDefaultMetrics({ register: r });
    // prom-client's gauges named `*_total` fail `promtool check metrics`; their labelled twins
    // (`nodejs_active_handles{type}` and so on) carry the same counts.
    for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) r.removeSingleMetric(n);
    this.loopDelay.enable();
    this.httpRequests = new client.Counter({ name: 'augur_http_requests_total', help: 'HTTP requests by handler and status code.', labelNames: ['handler', 'code'], registers: [r] });
    this.writeRejected = new client.Counter({ name: 'augur_write_requests_rejected_total', help: 'Remote-write requests rejected, by reason.', labelNames: ['reason'], registers: [r] });
    this.samplesAccepted = new client.Counter({ name: 'augur_samples_accepted_total', help: 'Samples accepted from remote write (including stale markers and non-finite values).', registers: [r] });
    this.samplesRejected = new client.Counter({ name: 'augur_samples_rejected_total', help: 'Samples rejected, by reason (for rejected requests: the samples decoded before the error).', labelNames: ['reason'], registers: [r] });
    this.overloaded = new client.Counter({ name: 'augur_overloaded_total', help: 'Write requests answered 503 because Augur was saturated.', registers: [r] });
    this.shed = new client.Counter({ name: 'augur_write_requests_shed_total', help: 'Write requests answered 503 with Retry-After, by cause (inflight: decode queue full, event_loop_lag: main thread saturated).', labelNames: ['cause'], registers: [r] });
    this.authFailures = new client.Counter({ name: 'augur_http_auth_failures_total', help: 'Requests answered 401, by reason (missing, invalid).', labelNames: ['reason'], registers: [r] });
    this.snapshotRestoreFailures = new client.Counter({ name: 'augur_snapshot_restore_failures_total', help: 'Snapshots not restored at start, by reason (corrupt, truncated, incompatible, io); each was moved aside.', labelNames: ['reason'], registers: [r] });
    for (const reason of ['corrupt', 'truncated', 'incompatible', 'io']) this.snapshotRestoreFailures.inc({ reason }, 0);
    this.snapshotFailures = new client.Counter({ name: 'augur_snapshot_failures_total', help: 'Snapshot writes that failed (the previous snapshot is kept).', registers: [r] });
    this.snapshotLastSuccess = new client.Gauge({ name: 'augur_snapshot_last_success_timestamp_seconds', help: 'Unix time of the last snapshot written (0: none since start).', registers: [r] });
    this.snapshotDuration = new client.Gauge({ name: 'augur_snapshot_duration_seconds', help: 'Wall time of the last snapshot write, yields included.', registers: [r] });
    this.snapshotBytes = new client.Gauge({ name: 'augur_snapshot_bytes', help: 'Size of the last snapshot written.', registers: [r] });
    this.snapshotRestoredSeries = new client.Gauge({ name: 'augur_snapshot_restored_series', help: 'Series restored from the snapshot at start.', registers: [r] });
    this.tlsReloads = new client.Counter({ name: 'augur_tls_reloads_total', help: 'TLS certificate reloads (SIGHUP), by result.', labelNames: ['result'], registers: [r] });
    this.writeDuration = new client.Histogram({ name: 'augur_write_request_duration_seconds', help: 'Time to decode and score one remote-write request.', buckets: LATENCY_BUCKETS, registers: [r] });
    this.scoringDuration = new client.Histogram({ name: 'augur_scoring_duration_seconds', help: 'Time spent scoring the samples of one request.', buckets: LATENCY_BUCKETS, registers: [r] });
    this.metricsRenderDuration = new client.Histogram({ name: 'augur_metrics_render_duration_seconds', help: 'Time to render /metrics, wall clock including yields to the event loop.', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [r] });
    const s = pipeline.stats;
    const reg = pipeline.registry;
    mirroredCounter(r, 'augur_samples_scored_total', 'Samples that reached the models.', () => s.samplesScored);
    mirroredCounter(r, 'augur_samples_out_of_order_total', 'Samples dropped because their timestamp was not after the series\' previous one.', () => s.samplesOutOfOrder);
    mirroredCounter(r, 'augur_samples_too_far_ahead_total', 'Samples dropped because their timestamp was more than 10 minutes ahead of Augur\'s clock.', () => s.samplesTooFarAhead);
    mirroredCounter(r, 'augur_samples_unchanged_total', 'Counter samples equal to the counter\'s last change and within its usual interval between changes: nothing new to score.', () => s.samplesCounterUnchanged);
    mirroredCounter(r, 'augur_samples_non_finite_total', 'NaN and infinite samples accepted but kept out of the models.', () => s.samplesNonFinite);
    mirroredCounter(r, 'augur_samples_derived_ignored_total', 'Samples of Augur\'s own derived families sent back to it, which it does not score.', () => s.samplesDerivedIgnored);
    mirroredCounter(r, 'augur_stale_markers_total', 'Stale markers received; each ends its series\' exposure.', () => s.staleMarkers);
    mirroredCounter(r, 'augur_histograms_received_total', 'Native histogram samples accepted (counted, not yet scored).', () => s.histograms);
    mirroredCounter(r, 'augur_exemplars_received_total', 'Exemplars accepted (counted, not scored).', () => s.exemplars);
    mirroredCounter(r, 'augur_series_created_total', 'Series created in the registry.', () => reg.created);
    mirroredCounter(r, 'augur_series_evicted_total', 'Series evicted because series.max_active was reached.', () => reg.evicted);
    mirroredCounter(r, 'augur_series_removed_stale_total', 'Series removed after the staleness period without samples.', () => reg.staleRemoved);
    mirroredCounter(r, 'augur_drift_events_total', 'Lasting level changes after which a series was re-baselined.', () => pipeline.scorer.driftEvents);
    new client.Gauge({ name: 'augur_active_series', help: 'Series in the registry.', registers: [r], collect() { this.set(reg.active); } });
    new client.Gauge({ name: 'augur_series_limit', help: 'The series.max_active limit.', registers: [r], collect() { this.set(maxActive); } });
    new client.Gauge({ name: 'augur_metric_families_known', help: 'Metric families whose type arrived as remote-write metadata.', registers: [r], collect() { this.set(reg.metadata.size); } });
    const loop = this.loopDelay;
    new client.Gauge({
      name: 'augur_event_loop_delay_max_seconds',
      help: 'Longest event-loop delay since the previous scrape.',
      registers: [r],
      collect() {
        this.set(loop.max / 1e9);
        loop.reset();
      },
    });
    this.modelMetrics(pipeline);
    new client.Gauge({ name: 'augur_build_info', help: 'Augur version.', labelNames: ['version', 'node_version'], registers: [r] }).set({ version: VERSION, node_version: process.version }, 1);
  }

  /**
   * Background model health, labelled by model: isolation forests (detection), the LSTM
   * (forecasting) and clustering. Every known model is present from startup, at zero runs; a
   * model's last-training timestamp appears with its first training since start. A model may
   * rightly never train (the LSTM needs hours of data, or is switched off), so no made-up
   * timestamp stands in for it: "not training" then alerts only on a model that stopped.
   */
  private modelMetrics(pipeline: Pipeline): void {
    const r = this.register;
    const models: { name: string; runs: () => number; errors: () => number }[] = [
      { name: 'isolation_forest', runs: () => pipeline.scorer.trainingRuns, errors: () => pipeline.scorer.trainingErrors },
    ];
    const f = pipeline.forecast;
    if (f !== null) models.push({ name: 'lstm', runs: () => f.trainingRuns, errors: () => f.trainingErrors });
    const peers = pipeline.peers;
    if (peers !== null) models.push({ name: 'clustering', runs: () => peers.reclusterRuns, errors: () => 0 });
    const lastRuns = new Map<string, number>();
    const lastErrors = new Map<string, number>();
    const lastAt = new Map<string, number>();
    const refresh = (): void => {
      for (const m of models) {
        const runs = m.runs();
        if (runs > (lastRuns.get(m.name) ?? 0)) lastAt.set(m.name, Date.now() / 1000);
      }
    };
    // Counters per model fed from the models' own totals; every model is present from startup.
    const perModel = (name: string, help: string, read: (m: (typeof models)[number]) => number, last: Map<string, number>, before?: () => void): void => {
      new client.Counter({
        name,
        help,
        labelNames: ['model'],
        registers: [r],
        collect() {
          before?.();
          for (const m of models) {
            const v = read(m);
            const d = v - (last.get(m.name) ?? 0);
            this.inc({ model: m.name }, d > 0 ? d : 0);
            last.set(m.name, v);
          }
        },
      });
    };
    perModel('augur_model_training_runs_total', 'Background model training rounds completed, by model.', (m) => m.runs(), lastRuns, refresh);
    perModel('augur_model_training_errors_total', 'Background model training rounds that failed, by model.', (m) => m.errors(), lastErrors);
    new client.Gauge({
      name: 'augur_model_last_training_timestamp_seconds',
      help: 'Unix time of the last completed training round since start, by model (absent before the first).',
      labelNames: ['model'],
      registers: [r],
      collect() {
        refresh();
        for (const [model, at] of lastAt) this.set({ model }, at);
      },
    });
    if (f !== null) {
      new client.Gauge({
        name: 'augur_forecast_model_series',
        help: 'Series whose forecast at a horizon currently comes from each model (the automatic choice).',
        labelNames: ['horizon', 'model'],
        registers: [r],
        collect() {
          this.reset();
          for (const [horizon, usage] of Object.entries(f.modelUsageByHorizon())) {
            for (const [model, n] of Object.entries(usage)) this.set({ horizon, model }, n);
          }
        },
      });
    }
    if (peers !== null) {
      mirroredCounter(r, 'augur_cluster_changes_total', 'Series that changed cluster between reclustering rounds.', () => peers.clusterChanges);
      new client.Gauge({ name: 'augur_recluster_duration_seconds', help: 'Worker CPU time of the last reclustering round.', registers: [r], collect() { this.set(peers.lastReclusterSeconds); } });
    }
  }

  stop(): void {
    this.loopDelay.disable();
  }
}
