import type { AugurConfig } from '../config/schema.js';
import { configuredHorizons, forecastConfigs } from '../config/horizons.js';
import {
  dashboardFiles,
  generateDashboards,
  generatePrometheusConfig,
  generateRules,
  resolveGenerateOptions,
  ruleFiles,
  writeFiles,
  type DeepPartial,
  type GenerateOptions,
} from '../generate/index.js';
import { parseArgs, UsageError } from './flags.js';

/**
 * The generator options a config implies: its `generate:` section, horizons from `forecast:` (as
 * Augur labels them), and no forecast-breach alerts when forecasting is off everywhere.
 */
export function generateOptionsFor(config: AugurConfig): GenerateOptions {
  const partial = structuredClone(config.generate) as DeepPartial<GenerateOptions>;
  const forecasts = forecastConfigs(config).filter((f) => f.enabled);
  const horizons = configuredHorizons(forecasts);
  if (horizons.length > 0 && partial.forecast?.horizons === undefined) {
    partial.forecast = { ...(partial.forecast ?? {}), horizons };
  }
  if (forecasts.length === 0) partial.forecast = { ...(partial.forecast ?? {}), breach: [] };
  partial.peerGroups = { enabled: config.cluster.enabled, groupBy: config.cluster.group_by };
  return resolveGenerateOptions(partial);
}

/** `augur generate rules|dashboards|prometheus-config [--out DIR] [--target H:P]... [--shards N]`. */
export function generate(argv: string[], loadConfig: (file: string | undefined) => AugurConfig): number {
  const targets: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--target') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError('--target needs host:port');
      targets.push(v);
    } else if (a.startsWith('--target=')) targets.push(a.slice('--target='.length));
    else rest.push(a);
  }
  for (const t of targets) {
    const port = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(t)?.[1];
    if (port === undefined || Number(port) > 65535) throw new UsageError(`--target ${JSON.stringify(t)}: expected host:port, such as augur-host:9201 (no scheme)`);
  }
  const { positional, flags } = parseArgs(rest, new Set(), new Set(['config.file', 'out', 'shards']));
  if (positional.length > 1) throw new UsageError(`generate takes one of rules, dashboards, prometheus-config; unexpected ${JSON.stringify(positional[1])}`);
  const what = positional[0];
  const o = generateOptionsFor(loadConfig(flags.get('config.file')));
  const out = flags.get('out');
  switch (what) {
    case 'rules':
      if (out) report(writeFiles(out, ruleFiles(o)));
      else process.stdout.write(generateRules(o));
      return 0;
    case 'dashboards':
      if (out) report(writeFiles(out, dashboardFiles(o)));
      else process.stdout.write(JSON.stringify(generateDashboards(o), null, 2) + '\n');
      return 0;
    case 'prometheus-config': {
      if (targets.length === 0) targets.push('localhost:9201');
      const shardsFlag = flags.get('shards');
      // Decimal digits only: Number() would read 0x2 and 1e1.
      const shards = shardsFlag === undefined ? undefined : /^\d+$/.test(shardsFlag) ? Number(shardsFlag) : NaN;
      if (shards !== undefined && !(Number.isInteger(shards) && shards >= 1)) throw new UsageError('--shards must be a positive integer');
      if (shards !== undefined && shards > 1 && targets.length === 1) {
        throw new UsageError(`--shards ${shards} needs ${shards} --target flags, one per Augur instance`);
      }
      let text: string;
      try {
        text = generatePrometheusConfig({ ...o, targets, shards });
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      if (out) report(writeFiles(out, { 'prometheus.yml': text }));
      else process.stdout.write(text);
      return 0;
    }
    default:
      throw new UsageError(`generate needs one of rules, dashboards, prometheus-config (got ${JSON.stringify(what ?? '')})`);
  }
}

function report(paths: string[]): void {
  for (const p of paths) process.stderr.write(`wrote ${p}\n`);
}
