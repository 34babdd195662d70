import type { GenerateOptions } from '../options.js';
import { groupLabelNames, groupLabels, groupProse } from '../peer-groups.js';
import { dashboard, dashboardLink } from './dashboard.js';
import { barGauge, labelVariable, Layout, table, timeseries, type Json } from './panels.js';

/**
 * One peer group: `metric` and the `cluster.group_by` labels, each selected by its variable. On
 * `augur_cluster_size` a group label named `cluster` is `exported_cluster` (`names`).
 */
function groupSelector(o: GenerateOptions, names = groupLabelNames(o)): string {
  return ['metric="$metric"', ...groupLabels(o).map((g, i) => `${names[i]}="$${g.variable}"`)].join(', ');
}

export function clustersDashboard(o: GenerateOptions): Json {
  const l = new Layout();
  const GROUP = groupSelector(o);
  const groups = groupLabels(o);
  const legend = ['{{metric}}', ...groups.map((g) => `{{${g.label}}}`)].join(' / ');
  const drill = dashboardLink(o, 'series', {
    metric: '${__data.fields.metric}',
    job: '${__data.fields.job}',
    instance: '${__data.fields.instance}',
  });
  const panels = [
    timeseries(1, 'Share of the group anomalous', l.place(12, 8), [{ expr: `augur_group_anomaly_ratio{${GROUP}}`, legend }], {
      description: 'Share of the series of this peer group whose latest sample is anomalous.',
      unit: 'percentunit',
      min: 0,
      max: 1,
      thresholds: [{ value: o.groupBurst.ratio, color: 'red' }],
    }),
    barGauge(2, 'Cluster sizes', l.place(12, 8), [{ expr: `augur_cluster_size{${groupSelector(o, groupLabelNames(o, 'cluster'))}}`, legend: 'cluster {{cluster}}' }], {
      description: 'Series per behaviour cluster within the peer group.',
      min: 0,
      decimals: 0,
    }),
    timeseries(3, 'Peer outlier score by series', l.place(24, 9), [{ expr: `augur_peer_outlier_score{${GROUP}}`, legend: '{{instance}}' }], {
      description: 'How far each series departs from its peers (0 alike, 1 far off).',
      min: 0,
      max: 1,
      thresholds: [{ value: o.peerOutlier.threshold, color: 'red' }],
    }),
    table(4, 'Cluster membership', l.place(12, 10), [{ expr: `augur_cluster_id{${GROUP}}` }], {
      description: 'The cluster of each series of the group (the value is the cluster id).',
      decimals: 0,
      links: [{ title: 'Drill down', url: drill }],
    }),
    table(5, 'Top peer outliers, all groups', l.place(12, 10), [{ expr: 'topk(20, augur_peer_outlier_score)' }], {
      decimals: 3,
      links: [{ title: 'Drill down', url: drill }],
      options: { sortBy: [{ displayName: 'Value', desc: true }] },
    }),
  ];
  // Each group label's values within the metric and the labels before it.
  const variables = [
    labelVariable('metric', 'Metric', 'augur_peer_outlier_score', 'metric'),
    ...groups.map((g, i) =>
      labelVariable(
        g.variable,
        g.title,
        `augur_peer_outlier_score{${['metric="$metric"', ...groups.slice(0, i).map((p) => `${p.label}="$${p.variable}"`)].join(', ')}}`,
        g.label,
      ),
    ),
  ];
  return dashboard(
    o,
    'clusters',
    'Clusters and peer outliers',
    `Peer groups (same ${groupProse(o)}): how their series cluster, which ones depart from their peers, and how much of each group is anomalous.`,
    variables,
    panels,
  );
}
