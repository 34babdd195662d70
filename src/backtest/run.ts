import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { AugurConfig } from '../config/schema.js';
import { createPipeline } from '../augur.js';
import { MetricType } from '../series/kind.js';
import { formatValue } from '../expose/format.js';
import { parseSeriesCsv, type SeriesCsv } from './csv.js';

export type SeriesType = 'gauge' | 'counter';

export interface BacktestOptions {
  config: AugurConfig;
  type: SeriesType;
}

export interface BacktestColumns {
  header: string[];
  rows: string[][];
}

function cell(v: number): string {
  return v === v ? formatValue(v) : '';
}

/**
 * Runs one series through a fresh pipeline built exactly as `serve` builds it, in sample time,
 * one row at a time, and reads the outputs after each row: causal by construction.
 */
export async function backtestSeries(csv: SeriesCsv, name: string, opts: BacktestOptions): Promise<BacktestColumns> {
  const pipeline = createPipeline(opts.config, { peers: false });
  const reg = pipeline.registry;
  const scorer = pipeline.scorer;
  const forecast = pipeline.forecast;
  const metric = opts.type === 'counter' ? 'backtest_total' : 'backtest';
  const labels: [string, string][] = [['__name__', metric], ['series', name]];
  const type = opts.type === 'counter' ? MetricType.COUNTER : MetricType.GAUGE;
  const id = reg.create(1, 1, 1, labels, metric, type, 0);
  const header = ['timestamp', 'value', 'anomaly_score', 'anomaly', 'expected', 'expected_lower', 'expected_upper'];
  const horizons = forecast?.horizonLabels ?? [];
  for (const h of horizons) header.push(`forecast_${h}`, `forecast_${h}_lower`, `forecast_${h}_upper`);
  const rows: string[][] = new Array(csv.timeMs.length);
  // Detection trains inline when not started, deterministic in sample time; only the LSTM needs
  // its worker, run in rounds every so many rows.
  await forecast?.start();
  try {
    for (let r = 0; r < csv.timeMs.length; r++) {
      const before = pipeline.stats.samplesScored;
      pipeline.observe(id, csv.timeMs[r]!, csv.value[r]!, 0);
      const row = [csv.timeText[r]!, csv.valueText[r]!];
      if (pipeline.stats.samplesScored === before) {
        for (let k = 0; k < 5 + 3 * horizons.length; k++) row.push('');
      } else {
        row.push(cell(scorer.score[id]!), cell(scorer.anomaly[id]!), cell(scorer.expected[id]!), cell(scorer.lower[id]!), cell(scorer.upper[id]!));
        for (let h = 0; h < horizons.length; h++) row.push(cell(forecast!.forecast[h]![id]!), cell(forecast!.lower[h]![id]!), cell(forecast!.upper[h]![id]!));
      }
      rows[r] = row;
      // Background models (the LSTM) train in sample time: a round every so many rows.
      if (forecast !== null && r % BACKGROUND_EVERY === BACKGROUND_EVERY - 1) await forecast.flushBackground();
    }
  } finally {
    await forecast?.stop();
  }
  return { header, rows };
}

const BACKGROUND_EVERY = 1000;

export async function backtestText(text: string, file: string, opts: BacktestOptions): Promise<string> {
  const csv = parseSeriesCsv(text, file);
  const { header, rows } = await backtestSeries(csv, basename(file).replace(/\.csv$/i, ''), opts);
  let out = header.join(',') + '\n';
  for (const r of rows) out += r.join(',') + '\n';
  return out;
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

/** A file to a file, or a folder mirrored recursively into a folder. Returns the files written. */
export async function backtestPath(input: string, output: string, opts: BacktestOptions): Promise<string[]> {
  const written: string[] = [];
  if (statSync(input).isDirectory()) {
    for (const f of listCsv(input)) {
      const dest = join(output, relative(input, f));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, await backtestText(readFileSync(f, 'utf8'), f, opts));
      written.push(dest);
    }
  } else {
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, await backtestText(readFileSync(input, 'utf8'), input, opts));
    written.push(output);
  }
  return written;
}
