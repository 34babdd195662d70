import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { AugurConfig } from '../config/schema.js';
import { configuredHorizons, forecastConfigs } from '../config/horizons.js';
import { AugurError } from '../errors.js';
import { createPipeline } from '../augur.js';
import { MetricType } from '../series/kind.js';
import { formatValue } from '../expose/format.js';
import { csvRows, textLines, type CsvRow } from './csv.js';

export type SeriesType = 'gauge' | 'counter';

export interface BacktestOptions {
  config: AugurConfig;
  type: SeriesType;
}

/** Output is handed on in chunks of about this many characters, never held whole. */
const CHUNK_CHARS = 1 << 20;
/** Input is read in chunks of this many bytes, never held whole, and no line may be longer. */
const READ_BYTES = 1 << 20;
const MAX_LINE = 1 << 20;
const BACKGROUND_EVERY = 1000;

function cell(v: number): string {
  return v === v ? formatValue(v) : '';
}

/**
 * Runs one series through a fresh pipeline built exactly as `serve` builds it, in sample time,
 * one row at a time, and reads the outputs after each row: causal by construction. The CSV text
 * (header first) goes to `write` in chunks, each awaited before the next is built. Rows are
 * consumed as they come: a bad row ends the run with its error, after the rows before it.
 */
export async function backtestSeries(rows: Iterable<CsvRow>, name: string, opts: BacktestOptions, write: (chunk: string) => void | Promise<void>): Promise<void> {
  const pipeline = createPipeline(opts.config, { peers: false });
  const reg = pipeline.registry;
  const scorer = pipeline.scorer;
  const forecast = pipeline.forecast;
  const metric = opts.type === 'counter' ? 'backtest_total' : 'backtest';
  const labels: [string, string][] = [['__name__', metric], ['series', name]];
  const type = opts.type === 'counter' ? MetricType.COUNTER : MetricType.GAUGE;
  const id = reg.create(1, 1, 1, labels, metric, type, 0);
  const header = ['timestamp', 'value', 'anomaly_score', 'anomaly', 'expected', 'expected_lower', 'expected_upper'];
  // The engine keeps its horizons sorted; the columns follow the order of the config.
  const engineHorizons = forecast?.horizonLabels ?? [];
  const horizons = configuredHorizons(forecastConfigs(opts.config)).map((h) => engineHorizons.indexOf(h)).filter((i) => i >= 0);
  for (const label of horizons.map((h) => engineHorizons[h]!)) header.push(`forecast_${label}`, `forecast_${label}_lower`, `forecast_${label}_upper`);
  const unscored = ','.repeat(5 + 3 * horizons.length);
  let out = header.join(',') + '\n';
  // Detection trains inline when not started, deterministic in sample time; only the LSTM needs
  // its worker, run in rounds every so many rows, in full (no time budget): reproducible.
  await forecast?.start(true);
  try {
    let r = 0;
    for (const row of rows) {
      const before = pipeline.stats.samplesScored;
      pipeline.observe(id, row.timeMs, row.value, 0);
      out += row.timeText + ',' + row.valueText;
      if (pipeline.stats.samplesScored === before) out += unscored;
      else {
        out += ',' + cell(scorer.score[id]!) + ',' + cell(scorer.anomaly[id]!) + ',' + cell(scorer.expected[id]!) + ',' + cell(scorer.lower[id]!) + ',' + cell(scorer.upper[id]!);
        for (const h of horizons) out += ',' + cell(forecast!.forecast[h]![id]!) + ',' + cell(forecast!.lower[h]![id]!) + ',' + cell(forecast!.upper[h]![id]!);
      }
      out += '\n';
      if (out.length >= CHUNK_CHARS) {
        await write(out);
        out = '';
      }
      // Background models (the LSTM) run a round every so many rows, where serve runs one every
      // minute: a round per bucket, as serve, took NAB's 121,736 rows from 11 s to over 30 min
      // (LSTM training is most of it). So the LSTM takes less part here than in serve.
      if (forecast !== null && r % BACKGROUND_EVERY === BACKGROUND_EVERY - 1) await forecast.flushBackground();
      r++;
    }
    if (out.length > 0) await write(out);
  } finally {
    await forecast?.stop();
  }
}

function seriesName(file: string): string {
  return basename(file).replace(/\.csv$/i, '');
}

/** The whole backtest of one CSV text as one string (tests, small inputs). */
export async function backtestText(text: string, file: string, opts: BacktestOptions): Promise<string> {
  const chunks: string[] = [];
  await backtestSeries(csvRows(textLines(text), file), seriesName(file), opts, (c) => void chunks.push(c));
  return chunks.join('');
}

/** Lines of a UTF-8 file, without their LF or CRLF ends, read a chunk at a time. */
function* fileLines(path: string): Generator<string> {
  const fd = io('read', path, () => openSync(path, 'r'));
  try {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    const utf8 = new StringDecoder('utf8');
    let rest = '';
    for (;;) {
      const n = io('read', path, () => readSync(fd, buf, 0, READ_BYTES, null));
      if (n === 0) {
        const tail = rest + utf8.end();
        if (tail !== '') yield* textLines(tail);
        return;
      }
      const text = rest + utf8.write(buf.subarray(0, n));
      // Up to the last line end are whole lines; the rest waits for the next chunk.
      const last = text.lastIndexOf('\n');
      if (last >= 0) yield* textLines(text.slice(0, last + 1));
      rest = text.slice(last + 1);
      if (rest.length > MAX_LINE) throw new AugurError('CSV_INVALID', `${path}: a line longer than ${MAX_LINE} characters`);
    }
  } finally {
    closeSync(fd);
  }
}

function listCsv(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listCsv(p));
    else if (e.isFile() && e.name.toLowerCase().endsWith('.csv')) out.push(p);
  }
  return out.sort();
}

/** Runs a file-system call; its failure becomes one readable line naming the path. */
function io<T>(what: string, path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    // Node's messages read `ENOENT: no such file or directory, open '/x'`: keep the middle part.
    const m = /^[A-Z]+: ([^,]+)/.exec((e as Error).message);
    throw new AugurError('BACKTEST_IO', `backtest: cannot ${what} ${path}: ${m ? m[1] : (e as Error).message}`);
  }
}

function kindOf(path: string): 'file' | 'folder' | 'none' {
  if (!existsSync(path)) return 'none';
  return io('read', path, () => statSync(path)).isDirectory() ? 'folder' : 'file';
}

function pathError(message: string): AugurError {
  return new AugurError('BACKTEST_IO', `backtest: ${message}`);
}

/** Refuses, before any work, paths that cannot work or would overwrite the input. */
function checkPaths(input: string, output: string): 'file' | 'folder' {
  const kind = kindOf(input);
  if (kind === 'none') throw pathError(`--input ${input} does not exist`);
  const out = kindOf(output);
  if (kind === 'folder' && out === 'file') throw pathError(`--input ${input} is a folder, so --output must be a folder too, but ${output} is a file`);
  if (kind === 'file' && out === 'folder') throw pathError(`--input ${input} is a file, so --output must be a file too, but ${output} is a folder`);
  const realIn = realpathSync(input);
  const realOut = realOutput(output);
  if (realIn === realOut) throw pathError(`--output ${output} is the input itself: the input would be overwritten`);
  // A folder mirrored into itself would overwrite inputs with outputs and read old outputs as inputs.
  if (kind === 'folder' && within(realIn, realOut)) throw pathError(`--output ${output} is inside --input ${input}: outputs would overwrite inputs and be read as inputs by the next run`);
  if (kind === 'folder' && within(realOut, realIn)) throw pathError(`--input ${input} is inside --output ${output}: outputs could overwrite inputs`);
  return kind;
}

/** The real path `output` has or will have: its nearest existing ancestor resolved, the rest as given. */
function realOutput(output: string): string {
  const full = resolve(output);
  let head = full;
  while (!existsSync(head) && dirname(head) !== head) head = dirname(head);
  return join(realpathSync(head), relative(head, full));
}

function within(folder: string, path: string): boolean {
  return path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

function writeAll(fd: number, chunk: string): void {
  const bytes = Buffer.from(chunk, 'utf8');
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
}

/** A file to a file, or a folder mirrored recursively into a folder. Returns the files written. */
export async function backtestPath(input: string, output: string, opts: BacktestOptions): Promise<string[]> {
  const files: (readonly [string, string])[] =
    checkPaths(input, output) === 'folder' ? io('read', input, () => listCsv(input)).map((f) => [f, join(output, relative(input, f))]) : [[input, output]];
  const written: string[] = [];
  for (const [src, dest] of files) {
    io('create the folder', dirname(dest), () => mkdirSync(dirname(dest), { recursive: true }));
    // Rows go to a temporary file as they are produced and it replaces `dest` once complete, so a
    // failed or interrupted run leaves no half-written output.
    const tmp = `${dest}.tmp-${process.pid}`;
    let fd = io('write', tmp, () => openSync(tmp, 'w'));
    try {
      await backtestSeries(csvRows(fileLines(src), src), seriesName(src), opts, (chunk) => io('write', tmp, () => writeAll(fd, chunk)));
      const done = fd;
      fd = -1;
      io('write', tmp, () => closeSync(done));
      io('write', dest, () => renameSync(tmp, dest));
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    written.push(dest);
  }
  return written;
}
