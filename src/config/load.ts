import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { AugurError } from '../errors.js';
import { configSchema, type AugurConfig } from './schema.js';

export interface ConfigProblem {
  path: string;
  line: number;
  /** Column of a YAML syntax error (1-based); absent for schema problems, which name a key. */
  col?: number;
  message: string;
}

export class ConfigError extends AugurError {
  constructor(readonly file: string, readonly problems: ConfigProblem[]) {
    super('CONFIG_INVALID', `${file}: ${problems.length} problem(s)\n` + problems.map((p) => `  ${file}:${p.line || '?'}${p.col ? `:${p.col}` : ''}: ${p.path || '(root)'}: ${p.message}`).join('\n'));
  }
}

/** What a parsed config names but cannot be used (a file that cannot be read, say), by config path. */
export class SettingsError extends AugurError {
  constructor(readonly problems: { path: string; message: string }[]) {
    super('CONFIG_INVALID', problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  }
}

export function defaultConfig(): AugurConfig {
  return configSchema.parse({});
}

/**
 * `check` runs on the parsed config (to load what it references): its SettingsError problems are
 * reported as the schema's are, each with its line.
 */
export function loadConfigFile(file: string, check?: (config: AugurConfig) => void): AugurConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [{ path: '', line: 0, message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseConfig(text, file, check);
}

/** Parses YAML text; every problem is reported with its dotted path and line in the file. */
export function parseConfig(text: string, file = '<config>', check?: (config: AugurConfig) => void): AugurConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    // With prettyErrors off, `linePos` is not filled in: take the line from the error's offset.
    throw new ConfigError(file, doc.errors.map((e) => {
      const at = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
      return { path: '', line: at.line, col: at.col, message: e.message.split('\n')[0]! };
    }));
  }
  const raw = withoutNulls(doc.toJS() ?? {});
  const res = configSchema.safeParse(raw);
  if (res.success) {
    try {
      check?.(res.data);
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      throw new ConfigError(file, e.problems.map((p) => ({ ...p, line: lineOf(doc, lc, p.path.split('.')) })).sort((a, b) => a.line - b.line));
    }
    return res.data;
  }
  throw new ConfigError(file, res.error.issues.flatMap((issue) => problemsOf(issue, doc, lc)).sort((a, b) => a.line - b.line));
}

/**
 * A key with no value (`web:` with every key below it commented out) is the key left out, as
 * Prometheus reads its config: no setting takes null for a value. Maps whose keys are data, not
 * settings (a user with no password hash), keep their nulls for the schema to refuse.
 */
function withoutNulls(v: unknown, path = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => withoutNulls(x, path));
  if (v === null || typeof v !== 'object') return v;
  const keepNulls = DATA_MAPS.has(path);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null || keepNulls) out[k] = withoutNulls(x, path === '' ? k : `${path}.${k}`);
  return out;
}

const DATA_MAPS = new Set(['web.auth.basic_auth_users']);

/** One problem per issue, except one per key for unknown keys, each at the key's own line. */
function problemsOf(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter): ConfigProblem[] {
  const path = issue.path as (string | number)[];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key].join('.'), line: keyLine(doc, lc, path, key), message: `unknown key ${JSON.stringify(key)}` }));
  }
  return [{ path: path.join('.'), line: lineOf(doc, lc, path), message: issue.message }];
}

function keyLine(doc: Document, lc: LineCounter, path: (string | number)[], key: string): number {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (isNode(pair?.key) && pair.key.range) return lc.linePos(pair.key.range[0]).line;
  }
  return lineOf(doc, lc, path);
}

function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return 0;
}
