import type { GenerateOptions } from '../options.js';

/** Dashboard kinds, with the URL slug Grafana derives from each title. */
export const DASHBOARD_SLUGS = {
  overview: 'augur-overview',
  series: 'augur-series',
  clusters: 'augur-clusters',
  health: 'augur-health',
} as const;

export type DashboardKind = keyof typeof DASHBOARD_SLUGS;

export function dashboardUid(o: GenerateOptions, kind: DashboardKind): string {
  return `${o.dashboards.uidPrefix}-${kind}`;
}
