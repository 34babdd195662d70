import type { GenerateOptions } from '../options.js';
import { clustersDashboard } from './clusters.js';
import { healthDashboard } from './health.js';
import { overviewDashboard } from './overview.js';
import type { Json } from './panels.js';
import { seriesDashboard } from './series.js';
import { DASHBOARD_SLUGS } from './uids.js';

/** Every dashboard for `o`, by file name. */
export function generateDashboards(o: GenerateOptions): Record<string, Json> {
  return {
    [`${DASHBOARD_SLUGS.overview}.json`]: overviewDashboard(o),
    [`${DASHBOARD_SLUGS.series}.json`]: seriesDashboard(o),
    [`${DASHBOARD_SLUGS.clusters}.json`]: clustersDashboard(o),
    [`${DASHBOARD_SLUGS.health}.json`]: healthDashboard(o),
  };
}
