// Shared by the generate-*.test.ts files: PromQL syntax checks and the external tools they need.
import { execFileSync, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { parser } from '@prometheus-io/lezer-promql';

export type Json = Record<string, any>;

/** Values for the Grafana variables the dashboards use, so that expressions become plain PromQL. */
export const GRAFANA_VARS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
  datasource: 'prometheus',
  metric: 'http_requests_total',
  job: 'api',
  instance: '.+',
  horizon: '1h',
};

export function substituteGrafanaVars(expr: string, vars: Record<string, string> = GRAFANA_VARS): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const v = vars[name];
    if (v === undefined) throw new Error(`unknown Grafana variable ${whole} in ${expr}`);
    return v;
  });
}

/** Syntax errors lezer-promql finds in `expr` (empty when it parses). */
export function promqlErrors(expr: string): string[] {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`syntax error at ${n.from}: ${JSON.stringify(expr.slice(Math.max(0, n.from - 10), n.to + 10))}`);
    },
  });
  if (tree.topNode.name !== 'PromQL') errors.push(`top node is ${tree.topNode.name}`);
  return errors;
}

/** Path of an executable, or a failing assertion that says how to install it. */
export function requireTool(name: string, pkg: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status !== 0 || path === '') {
    throw new Error(`${name} is not on PATH: install Debian's ${pkg} package (apt-get install ${pkg}); CI does.`);
  }
  return path;
}

/** Runs a tool; on failure throws with its whole output. */
export function run(cmd: string, args: string[], cwd?: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}${err.message}`);
  }
}

/** Every PromQL expression of a dashboard: panel targets and the selectors of query variables. */
export function dashboardExprs(d: Json): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of d.panels as Json[]) {
    for (const t of p.targets as Json[]) out.push({ where: `${d.uid} panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr });
  }
  for (const v of d.templating.list as Json[]) {
    if (v.type !== 'query') continue;
    const m = /^label_values\((.+), *\w+\)$/.exec(v.query.query);
    assert.ok(m, `${d.uid} variable ${v.name}: ${v.query.query}`);
    out.push({ where: `${d.uid} variable ${v.name}`, expr: m[1]! });
  }
  return out;
}

