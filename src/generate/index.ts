import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDashboards } from './dashboards/index.js';
import type { GenerateOptions } from './options.js';
import { generateRules, RULES_FILENAME } from './rules.js';

export { generateDashboards } from './dashboards/index.js';
export { generateRules, RULES_FILENAME } from './rules.js';
export { generatePrometheusConfig, type PrometheusConfigOptions } from './prometheus-config.js';
export { defaultGenerateOptions, resolveGenerateOptions, type GenerateOptions, type DeepPartial } from './options.js';

/** `augur generate rules` output, by file name. */
export function ruleFiles(o: GenerateOptions): Record<string, string> {
  return { [RULES_FILENAME]: generateRules(o) };
}

/** `augur generate dashboards` output, by file name, serialized as the shipped files are. */
export function dashboardFiles(o: GenerateOptions): Record<string, string> {
  return Object.fromEntries(
    Object.entries(generateDashboards(o)).map(([name, d]) => [name, `${JSON.stringify(d, null, 2)}\n`]),
  );
}

/** Writes each file into `dir` (created if missing); returns the paths written. */
export function writeFiles(dir: string, files: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(files).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}
