#!/usr/bin/env node
import { loadConfigFile, defaultConfig, ConfigError } from './config/load.js';
import type { AugurConfig } from './config/schema.js';
import { createLogger, type LogFormat } from './log.js';
import { parseArgs, UsageError } from './cli/flags.js';
import { Augur, loadWebSecrets } from './augur.js';
import { backtestPath, type SeriesType } from './backtest/run.js';
import { VERSION } from './version.js';
import { generate } from './cli/generate.js';
import { AugurError, isAugurError } from './errors.js';
import { parseListenAddress } from './config/listen-address.js';
import type { LevelWithSilent } from 'pino';

/** Usage of each command, printed by `augur <command> --help`; together they make USAGE. */
const COMMAND_USAGE: Record<string, string> = {
  serve: `  serve                     receive remote write, score, expose /metrics (default)
      --config.file=FILE    YAML config (default: embedded)
      --web.listen-address=HOST:PORT   (default 0.0.0.0:9201)
      --log.level=debug|info|warn|error  (default info)
      --log.format=logfmt|json           (default logfmt)
      --storage.path=DIR    directory of the model snapshot (overrides storage.path)
      --config.check        validate the config and exit
`,
  'check-config': `  check-config FILE         validate a config file; exit 0 or print every problem
`,
  backtest: `  backtest --input PATH --output PATH [--config.file FILE] [--type gauge|counter]
                            score CSV files (timestamp,value) causally, as serve would
`,
  generate: `  generate rules|dashboards|prometheus-config [--config.file FILE] [--out DIR]
      [--target HOST:PORT]... [--shards N]   (prometheus-config: one target per Augur shard)
`,
  version: `  version                   print the version
`,
};

const USAGE = `usage: augur <command> [flags]

commands:
${Object.values(COMMAND_USAGE).join('')}`;

function commandUsage(cmd: string): string {
  return `usage: augur ${cmd} [flags]\n\n${COMMAND_USAGE[cmd]!}`;
}

const isHelp = (a: string): boolean => a === '--help' || a === '-h';

function loadConfig(file: string | undefined, check?: (config: AugurConfig) => void): AugurConfig {
  return file ? loadConfigFile(file, check) : defaultConfig();
}

/** Reads what `serve` reads at start from a config, without starting anything. */
function checkStartable(config: AugurConfig): void {
  loadWebSecrets(config.web);
}

/** `where` names the flag or the config key the address came from, for the message. */
function listenAddress(addr: string, where: string): { host: string; port: number } {
  try {
    return parseListenAddress(addr);
  } catch (e) {
    const message = `${where} ${JSON.stringify(addr)}: ${(e as Error).message}`;
    throw where.startsWith('--') ? new UsageError(message) : new AugurError('CONFIG_INVALID', message);
  }
}

function noPositional(cmd: string, positional: string[]): void {
  if (positional.length > 0) throw new UsageError(`${cmd} takes no arguments, got ${JSON.stringify(positional[0])}`);
}

async function serve(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv, new Set(['config.check']), new Set(['config.file', 'web.listen-address', 'log.level', 'log.format', 'storage.path']));
  noPositional('serve', positional);
  const check = flags.get('config.check');
  if (check !== undefined && check !== 'true' && check !== 'false') throw new UsageError('--config.check takes no value, or true or false');
  const level = (flags.get('log.level') ?? 'info') as LevelWithSilent;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new UsageError(`--log.level must be debug, info, warn or error`);
  const format = (flags.get('log.format') ?? 'logfmt') as LogFormat;
  if (format !== 'logfmt' && format !== 'json') throw new UsageError(`--log.format must be logfmt or json`);
  const listenFlag = flags.get('web.listen-address');
  if (listenFlag !== undefined) listenAddress(listenFlag, '--web.listen-address');
  const config = loadConfig(flags.get('config.file'), check === 'true' ? checkStartable : undefined);
  if (check === 'true') {
    console.log(`${flags.get('config.file') ?? 'embedded default config'}: OK`);
    return 0;
  }
  const log = createLogger(level, format);
  const { host, port } = listenFlag !== undefined ? listenAddress(listenFlag, '--web.listen-address') : listenAddress(config.web.listen_address, 'web.listen_address');
  const storage = flags.get('storage.path');
  if (storage !== undefined) config.storage.path = storage;
  const augur = new Augur(config, log);
  let stopping = false;
  let stopped: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (stopped = resolve));
  const stop = (signal: string): void => {
    if (stopping) {
      // A second signal must not kill the shutdown half-way (the final snapshot would be lost).
      log.warn({ signal }, 'already shutting down: finishing in-flight requests and the final snapshot (SIGKILL forces)');
      return;
    }
    stopping = true;
    if (augur.abortStart()) {
      log.info({ signal }, 'shutting down while starting: the snapshot restore stops, and no snapshot is written');
      return;
    }
    log.info({ signal }, 'shutting down: no new requests, finishing those in flight');
    augur.close().then(
      () => {
        log.info('shutdown complete');
        stopped(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        stopped(1);
      },
    );
  };
  // Installed before the restore, which can take a while: a signal then must not kill the process
  // with the snapshot half-read, but stop it cleanly.
  process.on('SIGHUP', () => {
    const errors = augur.reload();
    if (errors.length === 0) {
      const what = [augur.config.web.tls !== undefined ? 'TLS certificate' : '', augur.config.web.auth !== undefined ? 'credentials' : ''].filter(Boolean).join(' and ');
      // Only these are reloaded: an edit to the rest of the config needs a restart.
      log.info(what === '' ? 'SIGHUP: no TLS or credentials configured, nothing reloaded (other config changes need a restart)' : `reloaded ${what} (SIGHUP); other config changes need a restart`);
    }
    else for (const e of errors) log.error({ err: e }, 'reload failed; keeping the previous TLS certificate and credentials');
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  let address: string;
  try {
    address = await augur.listen(host, port);
  } catch (e) {
    if (stopping && (e as Error).name === 'AbortError') {
      log.info('shutdown complete');
      return 0;
    }
    throw e;
  }
  log.info({ address, version: VERSION, config: flags.get('config.file') ?? 'embedded' }, 'Augur is listening');
  return done;
}

/**
 * Every file given, as promtool does: the schema, then what `serve` reads at start (TLS
 * certificate and key, token files and variables), so that a config passing here starts.
 */
function checkConfig(argv: string[]): number {
  const { positional, flags } = parseArgs(argv, new Set(), new Set(['config.file']));
  const files = positional.length > 0 ? positional : flags.has('config.file') ? [flags.get('config.file')!] : [];
  if (files.length === 0) throw new UsageError('check-config needs a FILE');
  let failed = 0;
  for (const file of files) {
    try {
      loadConfigFile(file, checkStartable);
      console.log(`${file}: OK`);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      process.stderr.write(e.message + '\n');
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}

async function backtest(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv, new Set(), new Set(['input', 'output', 'config.file', 'type']));
  noPositional('backtest', positional);
  const input = flags.get('input');
  const output = flags.get('output');
  if (!input || !output) throw new UsageError('backtest needs --input PATH and --output PATH');
  const type = (flags.get('type') ?? 'gauge') as SeriesType;
  if (type !== 'gauge' && type !== 'counter') throw new UsageError('--type must be gauge or counter');
  const written = await backtestPath(input, output, { config: loadConfig(flags.get('config.file')), type });
  console.error(`backtest: wrote ${written.length} file(s) to ${output}`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== undefined && !isHelp(cmd) && argv.some(isHelp)) {
    process.stdout.write(cmd.startsWith('-') ? commandUsage('serve') : cmd in COMMAND_USAGE ? commandUsage(cmd) : USAGE);
    return 0;
  }
  try {
    switch (cmd) {
      case undefined:
      case 'serve':
        return await serve(cmd === undefined ? [] : rest);
      case 'check-config':
        return checkConfig(rest);
      case 'backtest':
        return await backtest(rest);
      case 'generate':
        return generate(rest, loadConfig);
      case 'version':
      case '--version':
        console.log(`augur ${VERSION}`);
        return 0;
      case 'help':
        process.stdout.write(rest[0] !== undefined && rest[0] in COMMAND_USAGE ? commandUsage(rest[0]) : USAGE);
        return 0;
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      default:
        if (cmd.startsWith('--')) return await serve(argv);
        throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`augur: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(e.message + '\n');
      return 1;
    }
    if (isAugurError(e)) {
      process.stderr.write(`augur: ${e.message}\n`);
      return 1;
    }
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") {
      process.stderr.write(`augur: cannot listen: ${(e as Error).message}\n`);
      return 1;
    }
    // Other system errors (a file that cannot be written, say) name their path: one line, no stack.
    if (typeof (e as NodeJS.ErrnoException).syscall === 'string') {
      process.stderr.write(`augur: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`augur: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
