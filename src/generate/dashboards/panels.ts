/** Builders for classic Grafana dashboard JSON (panels, targets, variables). */

export type Json = Record<string, unknown>;

/** Grafana's dashboard schema version this JSON is written for (Grafana 12). */
export const SCHEMA_VERSION = 41;

export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

export interface Query {
  expr: string;
  legend?: string;
  /** Instant query (stat, table, bar gauge) rather than a range query. */
  instant?: boolean;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Places panels left to right in rows of 24 columns. */
export class Layout {
  private x = 0;
  private y = 0;
  private rowHeight = 0;

  place(w: number, h: number): GridPos {
    if (this.x + w > 24) this.newLine();
    const pos = { x: this.x, y: this.y, w, h };
    this.x += w;
    this.rowHeight = Math.max(this.rowHeight, h);
    return pos;
  }

  newLine(): void {
    if (this.x === 0) return;
    this.y += this.rowHeight;
    this.x = 0;
    this.rowHeight = 0;
  }
}

function targets(queries: Query[], table = false): Json[] {
  return queries.map((q, i) => ({
    datasource: DATASOURCE,
    editorMode: 'code',
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    range: !q.instant,
    instant: q.instant === true,
    format: table ? 'table' : 'time_series',
    refId: String.fromCharCode(65 + i),
  }));
}

export interface PanelOptions {
  description?: string;
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
  overrides?: Json[];
  mappings?: Json[];
  links?: Json[];
  thresholds?: { value: number; color: string }[];
  /** Timeseries draw tweaks merged into `fieldConfig.defaults.custom`. */
  custom?: Json;
  /** Panel options merged over the type's defaults. */
  options?: Json;
  transformations?: Json[];
}

function base(id: number, type: string, title: string, pos: GridPos, queries: Query[], p: PanelOptions, table = false): Json {
  const defaults: Json = {
    unit: p.unit ?? 'short',
    color: { mode: 'palette-classic' },
    mappings: p.mappings ?? [],
    thresholds: {
      mode: 'absolute',
      steps: [{ color: 'green', value: null }, ...(p.thresholds ?? [])],
    },
    links: p.links ?? [],
  };
  if (p.min !== undefined) defaults.min = p.min;
  if (p.max !== undefined) defaults.max = p.max;
  if (p.decimals !== undefined) defaults.decimals = p.decimals;
  const panel: Json = {
    id,
    type,
    title,
    description: p.description ?? '',
    datasource: DATASOURCE,
    gridPos: pos,
    targets: targets(queries, table),
    fieldConfig: { defaults, overrides: p.overrides ?? [] },
  };
  if (p.transformations) panel.transformations = p.transformations;
  return panel;
}

export function timeseries(id: number, title: string, pos: GridPos, queries: Query[], p: PanelOptions = {}): Json {
  const panel = base(id, 'timeseries', title, pos, queries, p);
  const defaults = (panel.fieldConfig as { defaults: Json }).defaults;
  defaults.custom = {
    drawStyle: 'line',
    lineInterpolation: 'linear',
    lineWidth: 1,
    fillOpacity: 10,
    gradientMode: 'none',
    showPoints: 'never',
    pointSize: 4,
    spanNulls: false,
    stacking: { mode: 'none', group: 'A' },
    axisPlacement: 'auto',
    thresholdsStyle: { mode: p.thresholds ? 'dashed' : 'off' },
    ...(p.custom ?? {}),
  };
  panel.options = {
    legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
    tooltip: { mode: 'multi', sort: 'desc' },
    ...(p.options ?? {}),
  };
  return panel;
}

const LAST = { calcs: ['lastNotNull'], fields: '', values: false };

export function stat(id: number, title: string, pos: GridPos, queries: Query[], p: PanelOptions = {}): Json {
  const panel = base(id, 'stat', title, pos, queries.map((q) => ({ ...q, instant: true })), p);
  panel.options = {
    reduceOptions: LAST,
    colorMode: 'value',
    graphMode: 'none',
    justifyMode: 'auto',
    orientation: 'auto',
    textMode: 'auto',
    ...(p.options ?? {}),
  };
  return panel;
}

export function barGauge(id: number, title: string, pos: GridPos, queries: Query[], p: PanelOptions = {}): Json {
  const panel = base(id, 'bargauge', title, pos, queries.map((q) => ({ ...q, instant: true })), p);
  panel.options = {
    reduceOptions: LAST,
    orientation: 'horizontal',
    displayMode: 'gradient',
    showUnfilled: true,
    minVizWidth: 0,
    minVizHeight: 10,
    ...(p.options ?? {}),
  };
  return panel;
}

/** An instant-query table of the queries' label sets and values, without the time column. */
export function table(id: number, title: string, pos: GridPos, queries: Query[], p: PanelOptions = {}): Json {
  const panel = base(id, 'table', title, pos, queries.map((q) => ({ ...q, instant: true })), p, true);
  panel.options = { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' }, ...(p.options ?? {}) };
  panel.transformations = p.transformations ?? [
    { id: 'organize', options: { excludeByName: { Time: true, __name__: true }, renameByName: {} } },
  ];
  return panel;
}

/** Style the series whose display name matches `regex` (a Grafana `/regex/`). */
export function override(regex: string, properties: Record<string, unknown>): Json {
  return {
    matcher: { id: 'byRegexp', options: regex },
    properties: Object.entries(properties).map(([id, value]) => ({ id, value })),
  };
}

export const BAND_LINE = { 'custom.lineStyle': { fill: 'dash', dash: [10, 10] }, 'custom.fillOpacity': 0 };

// ---- template variables

export function datasourceVariable(): Json {
  return {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    hide: 0,
    includeAll: false,
    multi: false,
    options: [],
    refresh: 1,
    regex: '',
    skipUrlSync: false,
  };
}

/** A variable filled from `label_values(<selector>, <label>)`. */
export function labelVariable(
  name: string,
  label: string,
  selector: string,
  labelName: string,
  opts: { multi?: boolean } = {},
): Json {
  const query = `label_values(${selector}, ${labelName})`;
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    definition: query,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
    current: {},
    hide: 0,
    includeAll: opts.multi === true,
    allValue: opts.multi === true ? '.+' : null,
    multi: opts.multi === true,
    options: [],
    refresh: 2,
    regex: '',
    sort: 1,
    skipUrlSync: false,
  };
}

export function customVariable(name: string, label: string, values: string[]): Json {
  const first = values[0] ?? '';
  return {
    name,
    label,
    type: 'custom',
    query: values.join(','),
    current: { selected: true, text: first, value: first },
    options: values.map((v, i) => ({ selected: i === 0, text: v, value: v })),
    hide: 0,
    includeAll: false,
    multi: false,
    skipUrlSync: false,
  };
}
