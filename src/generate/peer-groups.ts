import { sanitizeLabelName } from '../series/labels.js';
import type { GenerateOptions } from './options.js';

/**
 * The peer group labels (`cluster.group_by`) as the rules and dashboards must name them: as Augur
 * exposes them (src/series/labels.ts, `groupLabelText`). A peer group is the metric name (label
 * `metric`) plus these; never a hard-coded `job`: with another `group_by`, Augur's group series have
 * no `job` of their own, and the scrape (honor_labels) gives them Augur's `job` instead.
 */

/** Label names Augur adds to its derived families, so renames in the group_by labels (src/series/labels.ts). */
const RESERVED = ['metric', 'horizon', 'threshold'];

export interface GroupLabel {
  /** The label name on Augur's families. */
  label: string;
  /** The Grafana variable that selects it on the clusters dashboard. */
  variable: string;
  /** The variable's display name. */
  title: string;
}

/**
 * The group_by labels as exposed, in `group_by` order. `extra` is a label the family adds of its own,
 * which a group label of that name gives way to: `cluster` on `augur_cluster_size`.
 */
export function groupLabelNames(o: GenerateOptions, extra = ''): string[] {
  const used = new Set(RESERVED);
  if (extra !== '') used.add(extra);
  const out: string[] = [];
  for (const name of new Set(o.peerGroups.groupBy)) {
    let n = RESERVED.includes(name) || name === extra ? `exported_${name}` : sanitizeLabelName(name);
    while (used.has(n)) n = `exported_${n}`;
    used.add(n);
    out.push(n);
  }
  return out;
}

export function groupLabels(o: GenerateOptions): GroupLabel[] {
  return groupLabelNames(o).map((label) => {
    // `datasource` is every dashboard's data source variable.
    const variable = label === 'datasource' ? `group_${label}` : label;
    return { label, variable, title: label.charAt(0).toUpperCase() + label.slice(1) };
  });
}

/** `metric` and the group labels: what identifies a peer group, for `by`/`on` and rule names. */
export function groupKey(o: GenerateOptions): string[] {
  return ['metric', ...groupLabelNames(o)];
}

/** `metric and job`, `metric, namespace and service`: what peers share, in prose. */
export function groupProse(o: GenerateOptions): string {
  const k = groupKey(o);
  return k.length === 1 ? k[0]! : `${k.slice(0, -1).join(', ')} and ${k[k.length - 1]}`;
}

/**
 * ` in job {{ $labels.job }}`, ` in namespace {{ $labels.namespace }}, service {{ $labels.service }}`:
 * the group within its metric, for alert text; empty when the metric alone makes the group.
 */
export function inGroupTemplate(o: GenerateOptions): string {
  const l = groupLabelNames(o);
  return l.length === 0 ? '' : ` in ${l.map((n) => `${n} {{ $labels.${n} }}`).join(', ')}`;
}
