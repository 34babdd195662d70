import type { GenerateOptions } from '../options.js';
import { datasourceVariable, SCHEMA_VERSION, type Json } from './panels.js';
import { dashboardUid, type DashboardKind } from './uids.js';

/** A classic dashboard with the `datasource` variable first and links to its sibling dashboards. */
export function dashboard(
  o: GenerateOptions,
  kind: DashboardKind,
  title: string,
  description: string,
  variables: Json[],
  panels: Json[],
  time: { from: string; to: string } = { from: 'now-6h', to: 'now' },
): Json {
  return {
    id: null,
    uid: dashboardUid(o, kind),
    title: `${o.dashboards.titlePrefix} / ${title}`,
    description,
    tags: o.dashboards.tags,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    liveNow: false,
    refresh: o.dashboards.refresh,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    timezone: 'browser',
    weekStart: '',
    time,
    timepicker: {},
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [
      {
        title: o.dashboards.titlePrefix,
        type: 'dashboards',
        tags: o.dashboards.tags,
        asDropdown: true,
        includeVars: false,
        keepTime: true,
        icon: 'external link',
        targetBlank: false,
        tooltip: '',
        url: '',
      },
    ],
    templating: { list: [datasourceVariable(), ...variables] },
    panels,
  };
}

/** Grafana link URL to another Augur dashboard, carrying the time range and the given variables. */
export function dashboardLink(o: GenerateOptions, kind: DashboardKind, vars: Record<string, string>): string {
  const q = Object.entries(vars).map(([k, v]) => `var-${k}=${v}`);
  return `/d/${dashboardUid(o, kind)}?${[...q, '${__url_time_range}', 'var-datasource=${datasource}'].join('&')}`;
}
