import { stringify } from 'yaml';
import { durationSeconds } from './duration.js';
import { dashboardUid, DASHBOARD_SLUGS } from './dashboards/uids.js';
import type { AlertSeverity, GenerateOptions } from './options.js';
import { groupKey, groupLabels, inGroupTemplate } from './peer-groups.js';

export const RULES_FILENAME = 'augur.rules.yml';

export interface RecordingRule {
  record: string;
  expr: string;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: AlertSeverity };
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: (RecordingRule | AlertingRule)[];
}

/** Recording rules the alerts and dashboards share. */
export const RECORDED = {
  rejectedRatio: 'instance:augur_samples_rejected:ratio_rate5m',
} as const;

/**
 * The recording rule of series per peer group, named by its labels as the level:metric:operation
 * convention asks: `metric_job:augur_series:count` for the default `group_by: [job]`,
 * `metric_namespace_service:augur_series:count` for `[namespace, service]`.
 */
export function groupSeriesRecord(o: GenerateOptions): string {
  return `${groupKey(o).join('_')}:augur_series:count`;
}

const LEVEL_NAMES = ['none', 'low', 'medium', 'high', 'critical'];

function runbook(o: GenerateOptions, alert: string): string {
  return `${o.runbookBaseUrl}#${alert.toLowerCase()}`;
}

/** Each variable is set from the alert's label of the same name, or from `label`. */
function dashboardUrl(o: GenerateOptions, which: keyof typeof DASHBOARD_SLUGS, vars: (string | { variable: string; label: string })[]): string {
  const query = vars
    .map((v) => (typeof v === 'string' ? { variable: v, label: v } : v))
    .map(({ variable, label }) => `var-${variable}={{ $labels.${label} | urlquery }}`)
    .join('&');
  return `${o.dashboards.grafanaUrl}/d/${dashboardUid(o, which)}/${DASHBOARD_SLUGS[which]}?${query}`;
}

function alert(
  o: GenerateOptions,
  name: string,
  expr: string,
  forDuration: string,
  severity: AlertSeverity,
  summary: string,
  description: string,
  dashboard?: string,
): AlertingRule {
  const annotations: Record<string, string> = { summary, description, runbook_url: runbook(o, name) };
  if (dashboard !== undefined) annotations.dashboard_url = dashboard;
  return { alert: name, expr, for: forDuration, labels: { severity }, annotations };
}

const SERIES_TEXT = '{{ $labels.metric }}{job="{{ $labels.job }}", instance="{{ $labels.instance }}"}';

function anomalyRules(o: GenerateOptions): RuleGroup {
  const seriesDash = dashboardUrl(o, 'series', ['metric', 'job', 'instance']);
  const rules: (RecordingRule | AlertingRule)[] = [];
  if (o.peerGroups.enabled) rules.push({ record: groupSeriesRecord(o), expr: `count by (${groupKey(o).join(', ')}) (augur_anomaly)` });
  for (const t of [...o.anomaly.tiers].sort((a, b) => a.minLevel - b.minLevel)) {
    rules.push(
      alert(
        o,
        'AugurSeriesAnomalous',
        `max_over_time(augur_anomaly_severity[${o.anomaly.smoothing}]) >= ${t.minLevel}`,
        o.anomaly.for,
        t.severity,
        `Augur finds {{ $labels.metric }} anomalous at ${LEVEL_NAMES[t.minLevel]} severity${t.minLevel < 4 ? ' or above' : ''}.`,
        `${SERIES_TEXT} has stayed anomalous for at least ${o.anomaly.for}, now at severity level ` +
          '{{ $value }} (1 low, 2 medium, 3 high, 4 critical): its samples fall outside the band Augur ' +
          'learned from its history.',
        seriesDash,
      ),
    );
  }
  for (const t of [...o.forecast.breach].sort((a, b) => durationSeconds(b.within) - durationSeconds(a.within))) {
    rules.push(
      alert(
        o,
        'AugurForecastBreach',
        // Upper limits and floors: one alert, the threshold label says which value.
        `augur_forecast_breach_seconds <= ${durationSeconds(t.within)} or augur_forecast_floor_breach_seconds <= ${durationSeconds(t.within)}`,
        o.forecast.for,
        t.severity,
        `{{ $labels.metric }} is forecast to cross {{ $labels.threshold }} within ${t.within}.`,
        `Augur forecasts that ${SERIES_TEXT} crosses {{ $labels.threshold }} in ` +
          '{{ $value | humanizeDuration }}.',
        seriesDash,
      ),
    );
  }
  if (o.peerGroups.enabled) rules.push(...peerAlerts(o));
  return { name: 'augur-anomalies', rules };
}

/** Only with clustering on: otherwise Augur exposes no peer scores or group ratios. */
function peerAlerts(o: GenerateOptions): AlertingRule[] {
  const key = groupKey(o);
  const clusterDash = dashboardUrl(o, 'clusters', ['metric', ...groupLabels(o)]);
  const inGroup = inGroupTemplate(o);
  return [
    alert(
      o,
      'AugurPeerOutlier',
      `augur_peer_outlier_score >= ${o.peerOutlier.threshold}`,
      o.peerOutlier.for,
      o.peerOutlier.severity,
      '{{ $labels.metric }} on {{ $labels.instance }} behaves unlike its peers.',
      `${SERIES_TEXT} departs from the other series of {{ $labels.metric }}${inGroup} ` +
        '(peer outlier score {{ $value | printf "%.2f" }}).',
      clusterDash,
    ),
    alert(
      o,
      'AugurPeerGroupAnomalyBurst',
      // By the group labels only: the scrape gives a group series that lacks `job` or `instance`
      // Augur's own, which would name Augur as the group's job (and two replicas, two alerts).
      `max by (${key.join(', ')}) (augur_group_anomaly_ratio) >= ${o.groupBurst.ratio}\n` +
        `and on (${key.join(', ')})\n${groupSeriesRecord(o)} >= ${o.groupBurst.minSeries}`,
      o.groupBurst.for,
      o.groupBurst.severity,
      `Many series of {{ $labels.metric }}${inGroup} are anomalous at once.`,
      `{{ $value | humanizePercentage }} of the series of {{ $labels.metric }}${inGroup} ` +
        'are anomalous together: a shared cause is likely.',
      clusterDash,
    ),
  ];
}

function healthRules(o: GenerateOptions): RuleGroup {
  const sel = `{job="${o.augurJob}"}`;
  const healthDash = dashboardUrl(o, 'health', ['job', 'instance']);
  const h = o.health;
  const maxAge = durationSeconds(h.trainingMaxAge);
  return {
    name: 'augur-health',
    rules: [
      {
        record: RECORDED.rejectedRatio,
        expr:
          `sum by (job, instance) (rate(augur_samples_rejected_total${sel}[5m]))\n/\n` +
          `(\n  sum by (job, instance) (rate(augur_samples_rejected_total${sel}[5m]))\n  +\n` +
          `  sum by (job, instance) (rate(augur_samples_accepted_total${sel}[5m]))\n)`,
      },
      alert(
        o,
        'AugurDown',
        `up${sel} == 0`,
        h.downFor,
        'critical',
        'Augur on {{ $labels.instance }} is down.',
        `Prometheus has failed to scrape Augur on {{ $labels.instance }} for ${h.downFor}: no anomaly ` +
          'scores, forecasts or Augur alerts come from it, and remote write to it is backing up.',
        healthDash,
      ),
      alert(
        o,
        'AugurRejectingSamples',
        `${RECORDED.rejectedRatio} > ${h.rejectedRatio}`,
        h.rejectFor,
        'warning',
        'Augur on {{ $labels.instance }} rejects samples.',
        'Augur on {{ $labels.instance }} rejects {{ $value | humanizePercentage }} of the samples it ' +
          'receives; they are not scored.',
        healthDash,
      ),
      alert(
        o,
        'AugurRejectingWriteRequests',
        // 503s (overloaded, not ready) are retried by Prometheus: AugurOverloaded covers overload.
        `sum by (job, instance, reason) (rate(augur_write_requests_rejected_total{job="${o.augurJob}", reason!~"overloaded|not_ready"}[5m])) > 0`,
        h.rejectFor,
        'warning',
        'Augur on {{ $labels.instance }} rejects remote-write requests.',
        'Augur on {{ $labels.instance }} rejects {{ $value | printf "%.3g" }} remote-write requests per ' +
          'second ({{ $labels.reason }}); Prometheus does not retry a 4xx, so their samples are lost to Augur.',
        healthDash,
      ),
      alert(
        o,
        'AugurOverloaded',
        `sum by (job, instance) (rate(augur_overloaded_total${sel}[5m])) > 0`,
        h.overloadedFor,
        'warning',
        'Augur on {{ $labels.instance }} is overloaded.',
        'Augur on {{ $labels.instance }} answers {{ $value | printf "%.3g" }} remote-write requests per second ' +
          'with 503; Prometheus retries them, but scoring falls behind and its remote-write queue grows.',
        healthDash,
      ),
      alert(
        o,
        'AugurSeriesLimitReached',
        `augur_active_series${sel} / (augur_series_limit${sel} > 0) >= ${h.seriesLimitRatio}`,
        h.seriesLimitFor,
        'warning',
        'Augur on {{ $labels.instance }} is at its series limit.',
        'Augur on {{ $labels.instance }} holds {{ $value | humanizePercentage }} of its series limit; ' +
          'beyond it, it evicts the least recently seen series and their models.',
        healthDash,
      ),
      alert(
        o,
        'AugurModelsNotTraining',
        // The timestamp exists only once a model has trained since start (src/expose/self-metrics.ts):
        // a model that never trained, such as an LSTM still gathering data, does not fire.
        `time() - augur_model_last_training_timestamp_seconds${sel} > ${maxAge}`,
        h.trainingFor,
        'warning',
        'Augur on {{ $labels.instance }} has not trained its {{ $labels.model }} model recently.',
        'The {{ $labels.model }} model on {{ $labels.instance }} last trained ' +
          `{{ $value | humanizeDuration }} ago (limit ${h.trainingMaxAge}); its scores go stale.`,
        healthDash,
      ),
      alert(
        o,
        'AugurModelTrainingFailing',
        `sum by (job, instance, model) (increase(augur_model_training_errors_total${sel}[${h.trainingFor}])) > 0`,
        h.trainingFor,
        'warning',
        'Augur on {{ $labels.instance }} fails to train its {{ $labels.model }} model.',
        'Training the {{ $labels.model }} model on {{ $labels.instance }} failed {{ $value | humanize }} ' +
          `times in the last ${h.trainingFor}, and keeps failing.`,
        healthDash,
      ),
    ],
  };
}

export function ruleGroups(o: GenerateOptions): RuleGroup[] {
  return [anomalyRules(o), healthRules(o)];
}

/** The Prometheus rule file (YAML) for `o`. */
export function generateRules(o: GenerateOptions): string {
  const header =
    '# Generated by `augur generate rules`; do not edit. Change the config and regenerate.\n';
  return header + stringify({ groups: ruleGroups(o) }, { lineWidth: 0 });
}
