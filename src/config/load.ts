import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { AugurError } from '../errors.js';
import { configSchema, type AugurConfig } from './schema.js';
import { resolveGenerateOptions, type DeepPartial, type GenerateOptions } from '../generate/options.js';

export interface ConfigProblem {
  path: string;
  line: number;
  message: string;
}

export class ConfigError extends AugurError {
  constructor(readonly file: string, readonly problems: ConfigProblem[]) {
    super('CONFIG_INVALID', `${file}: ${problems.length} problem(s)\n` + problems.map((p) => `  ${file}:${p.line || '?'}: ${p.path || '(root)'}: ${p.message}`).join('\n'));
  }
}

export function defaultConfig(): AugurConfig {
  return configSchema.parse({});
}

export function loadConfigFile(file: string): AugurConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [{ path: '', line: 0, message: `cannot read: ${(e as Error).message}` }]);
  }
  return parseConfig(text, file);
}

/** Parses YAML text; every problem is reported with its dotted path and line in the file. */
export function parseConfig(text: string, file = '<config>'): AugurConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    // With prettyErrors off, `linePos` is not filled in: take the line from the error's offset.
    throw new ConfigError(file, doc.errors.map((e) => ({ path: '', line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line, message: e.message.split('\n')[0]! })));
  }
  const raw = doc.toJS() ?? {};
  const res = configSchema.safeParse(raw);
  if (res.success) {
    try {
      resolveGenerateOptions(res.data.generate as DeepPartial<GenerateOptions>);
    } catch (e) {
      const lines = (e as Error).message.split('\n').slice(1).map((l) => l.trim());
      throw new ConfigError(file, lines.map((l) => ({ path: 'generate.' + l.split(':')[0], line: lineOf(doc, lc, ['generate']), message: l.slice(l.indexOf(':') + 1).trim() })));
    }
    return res.data;
  }
  throw new ConfigError(
    file,
    res.error.issues.map((issue) => {
      const path = issue.path.map(String);
      return { path: path.join('.'), line: lineOf(doc, lc, issue.path as (string | number)[]), message: issue.message };
    }),
  );
}

function lineOf(doc: Document, lc: LineCounter, path: (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return 0;
}
