import type { SeriesFamily, TextFamily } from './expose/derived.js';
import type { Scorer } from './detect/scorer.js';
import type { ForecastEngine } from './forecast/engine.js';
import type { PeerEngine } from './cluster/engine.js';
import { escapeLabelValue, groupLabelText } from './series/labels.js';
import { formatValue } from './expose/format.js';

const one = (values: () => ArrayLike<number>) => [{ extraLabels: '', values }];

/** The anomaly families of DESIGN.md, read straight from the scorer's arrays. */
export function anomalyFamilies(scorer: Scorer): SeriesFamily[] {
  return [
    { name: 'augur_anomaly_score', help: 'Anomaly likelihood of the latest sample, 0 to 1.', skip: 'none', variants: one(() => scorer.score) },
    { name: 'augur_anomaly', help: "1 when the latest sample is anomalous under the series' adaptive threshold, else 0.", skip: 'none', variants: one(() => scorer.anomaly) },
    { name: 'augur_anomaly_severity', help: 'Severity of the current anomaly: 0 none, 1 low, 2 medium, 3 high, 4 critical.', skip: 'none', variants: one(() => scorer.severity) },
    { name: 'augur_expected', help: "Value expected at the latest sample's time (per-second rate for counters).", skip: 'nan', variants: one(() => scorer.expected) },
    { name: 'augur_expected_lower', help: "Lower edge of the band expected at the latest sample's time.", skip: 'nan', variants: one(() => scorer.lower) },
    { name: 'augur_expected_upper', help: "Upper edge of the band expected at the latest sample's time.", skip: 'nan', variants: one(() => scorer.upper) },
  ];
}

/** `augur_forecast{horizon}` with its interval, and time to breach per configured limit. */
export function forecastFamilies(f: ForecastEngine): SeriesFamily[] {
  const perHorizon = (arrays: () => ArrayLike<number>[]) =>
    f.horizonLabels.map((h, i) => ({ extraLabels: `,horizon="${escapeLabelValue(h)}"`, values: () => arrays()[i]! }));
  return [
    { name: 'augur_forecast', help: 'Forecast made now for now + horizon (per-second rate for counters).', skip: 'nan', variants: perHorizon(() => f.forecast) },
    { name: 'augur_forecast_lower', help: 'Lower edge of the forecast interval (nominal level: the first of forecast.levels, 80% by default).', skip: 'nan', variants: perHorizon(() => f.lower) },
    { name: 'augur_forecast_upper', help: 'Upper edge of the forecast interval (nominal level: the first of forecast.levels, 80% by default).', skip: 'nan', variants: perHorizon(() => f.upper) },
    {
      name: 'augur_forecast_breach_seconds',
      help: 'Forecast seconds until the series rises to the threshold (an upper limit); 0 while at or above it; +Inf when the forecast stays below it.',
      skip: 'nan',
      variants: f.thresholds.map((t, i) => ({ extraLabels: `,threshold="${formatValue(t)}"`, values: () => f.breachSeconds[i]! })),
    },
    {
      name: 'augur_forecast_floor_breach_seconds',
      help: 'Forecast seconds until the series falls to the threshold (a lower limit); 0 while at or below it; +Inf when the forecast stays above it.',
      skip: 'nan',
      variants: f.floors.map((t, i) => ({ extraLabels: `,threshold="${formatValue(t)}"`, values: () => f.breachSeconds[f.thresholds.length + i]! })),
    },
  ];
}

/** Cluster membership and peer outlier score per series; group ratios and cluster sizes per group. */
export function peerFamilies(p: PeerEngine): { series: SeriesFamily[]; text: TextFamily[] } {
  return {
    series: [
      { name: 'augur_cluster_id', help: 'Cluster of the series within its peer group (same metric and job by default).', skip: 'negative', variants: one(() => p.clusterId) },
      { name: 'augur_peer_outlier_score', help: 'How far the series departs from its peers, 0 to 1.', skip: 'nan', variants: one(() => p.peerOutlierScore) },
    ],
    text: [
      {
        name: 'augur_group_anomaly_ratio',
        render() {
          let ratio = '# HELP augur_group_anomaly_ratio Share of a peer group\'s series anomalous now.\n# TYPE augur_group_anomaly_ratio gauge\n';
          let size = '# HELP augur_cluster_size Series in each cluster of a peer group.\n# TYPE augur_cluster_size gauge\n';
          let any = false;
          for (const g of p.groups()) {
            any = true;
            ratio += `augur_group_anomaly_ratio{${groupLabelText(g.metric, g.labels)}} ${formatValue(g.anomalyRatio)}\n`;
            if (g.clusters.length === 0) continue;
            const labels = groupLabelText(g.metric, g.labels, 'cluster');
            for (const c of g.clusters) size += `augur_cluster_size{${labels},cluster="${c.id}"} ${c.size}\n`;
          }
          return any ? ratio + size : '';
        },
      },
    ],
  };
}
