/**
 * Forecast accuracy benchmark: `npm run bench:forecast [-- --no-lstm] [--verbose]`.
 *
 * Runs the NAB development split and generated seasonal series through ForecastEngine (one engine
 * per data set, series interleaved row by row as a remote-write stream would deliver them) and
 * compares, at 5m, 1h and 4h, Augur's choice, each of its models, and raw-sample baselines: last
 * value, seasonal naive (one day back), predict_linear over a trailing window equal to the horizon,
 * and Holt linear (PromQL double_exponential_smoothing extrapolated by its trend).
 *
 * MASE = MAE / in-sample MAE of the one-step naive forecast (Hyndman & Koehler), per file; the
 * table shows the geometric mean over files (a file's MASE floored at 0.01). Every method is
 * scored on the same rows: after a two-day burn-in, where the target sample exists and every
 * method has a forecast.
 */
import { forecastSchema } from '../src/forecast/config.js';
import { ForecastEngine } from '../src/forecast/engine.js';
import { HOLT_SF, HOLT_TF, MODEL_NAMES } from '../src/forecast/models.js';
import { generateSeasonal, generateSteep, loadCsvDir, type Series } from './forecast-data.js';

const NAB_DIR = '/work/shared/nab-dev/data';
const HORIZONS = ['5m', '1h', '4h'];
const HORIZON_MS = [300_000, 3_600_000, 14_400_000];
const BURN_IN_MS = 2 * 86_400_000;
const DAY_MS = 86_400_000;
const MASE_FLOOR = 0.01;
/** Rows (per series) between LSTM rounds: an hour of 5-minute data. */
const FLUSH_EVERY = 12;

const args = new Set(process.argv.slice(2));
const useLstm = !args.has('--no-lstm');
const verbose = args.has('--verbose');

const BASELINES = ['last value', 'seasonal naive 1d', 'predict_linear', 'holt linear'];
const METHODS = ['augur', ...MODEL_NAMES.map((m) => `model:${m}`), ...BASELINES];

interface FileResult {
  name: string;
  /** [h][method] MASE, NaN when not evaluated. */
  mase: number[][];
  covered: number[];
  rows: number[];
  lstmRows: number[];
  /** Rows (of the common rows) where the LSTM had a fresh forecast, and its MASE on them. */
  lstmHad: number[];
  lstmMase: number[];
}

interface DataSetResult {
  name: string;
  files: FileResult[];
  lstmChosen: number[];
  pairs: number[];
  usage: Record<string, number>;
  trainingRuns: number;
  trainingErrors: number;
}

function find(t: Float64Array, v: number): number {
  let lo = 0;
  let hi = t.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = t[mid]!;
    if (m === v) return mid;
    if (m < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function medianInterval(t: Float64Array): number {
  const d: number[] = [];
  for (let i = 1; i < t.length; i++) d.push(t[i]! - t[i - 1]!);
  d.sort((a, b) => a - b);
  return d[d.length >> 1] ?? 0;
}

function baselines(s: Series, hMs: number, dt: number): Float64Array[] {
  const n = s.x.length;
  const last = new Float64Array(n);
  const snaive = new Float64Array(n).fill(NaN);
  const lin = new Float64Array(n).fill(NaN);
  const holt = new Float64Array(n).fill(NaN);
  let hs = NaN;
  let hb = 0;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    const t = s.t[i]!;
    const x = s.x[i]!;
    last[i] = x;
    const k = Math.max(1, Math.ceil(hMs / DAY_MS));
    const j = find(s.t, t + hMs - k * DAY_MS);
    if (j >= 0) snaive[i] = s.x[j]!;
    while (s.t[lo]! < t - hMs) lo++;
    const cnt = i - lo + 1;
    if (cnt >= 2) {
      let sx = 0, sy = 0, sxx = 0, sxy = 0;
      for (let q = lo; q <= i; q++) {
        const xv = (s.t[q]! - t) / 1000;
        const yv = s.x[q]!;
        sx += xv; sy += yv; sxx += xv * xv; sxy += xv * yv;
      }
      const d = cnt * sxx - sx * sx;
      const slope = d > 0 ? (cnt * sxy - sx * sy) / d : 0;
      const icpt = (sy - slope * sx) / cnt;
      lin[i] = icpt + slope * (hMs / 1000);
    }
    if (hs !== hs) hs = x;
    else {
      const ns = HOLT_SF * x + (1 - HOLT_SF) * (hs + hb);
      hb = HOLT_TF * (ns - hs) + (1 - HOLT_TF) * hb;
      hs = ns;
    }
    holt[i] = hs + hb * (hMs / dt);
  }
  return [last, snaive, lin, holt];
}

async function runDataSet(name: string, series: Series[]): Promise<DataSetResult> {
  const cfg = forecastSchema.parse({ horizons: HORIZONS, models: { lstm: useLstm } });
  const engine = new ForecastEngine([cfg]);
  const nS = series.length;
  engine.resize(nS);
  const groups = [...new Set(series.map((s) => s.group))];
  for (let id = 0; id < nS; id++) {
    engine.reset(id);
    engine.setProfile(id, 0);
    engine.setGroup(id, groups.indexOf(series[id]!.group));
  }
  await engine.start(true);
  const hIdx = HORIZON_MS.map((ms) => engine.horizonMs.indexOf(ms));
  const nM = MODEL_NAMES.length;
  // rec[s][h][k]: k < nM model forecasts, nM augur, nM+1 lower, nM+2 upper, nM+3 lstm served
  const rec = series.map((s) => HORIZON_MS.map(() => Array.from({ length: nM + 4 }, () => new Float64Array(s.x.length).fill(NaN))));
  const maxLen = Math.max(...series.map((s) => s.x.length));
  for (let i = 0; i < maxLen; i++) {
    for (let id = 0; id < nS; id++) {
      const s = series[id]!;
      if (i >= s.x.length) continue;
      engine.observe(id, s.t[i]!, s.x[i]!);
      for (let hh = 0; hh < HORIZON_MS.length; hh++) {
        const h = hIdx[hh]!;
        const r = rec[id]![hh]!;
        for (let m = 0; m < nM; m++) r[m]![i] = engine.predict(id, m, HORIZON_MS[hh]!, HORIZON_MS[hh]!);
        r[nM]![i] = engine.forecast[h]![id]!;
        r[nM + 1]![i] = engine.lower[h]![id]!;
        r[nM + 2]![i] = engine.upper[h]![id]!;
        r[nM + 3]![i] = engine.chosenModel(id, h) === 'lstm' ? 1 : 0;
      }
    }
    if (useLstm && i % FLUSH_EVERY === FLUSH_EVERY - 1) await engine.flushBackground();
  }
  const lstmChosen = HORIZON_MS.map(() => 0);
  const pairs = HORIZON_MS.map(() => 0);
  for (let id = 0; id < nS; id++) {
    for (let hh = 0; hh < HORIZON_MS.length; hh++) {
      pairs[hh]!++;
      if (engine.chosenModel(id, hIdx[hh]!) === 'lstm') lstmChosen[hh]!++;
    }
  }
  const usage = engine.modelUsage();
  const trainingRuns = engine.trainingRuns;
  const trainingErrors = engine.trainingErrors;
  await engine.stop();

  const files: FileResult[] = [];
  for (let id = 0; id < nS; id++) {
    const s = series[id]!;
    const n = s.x.length;
    const dt = medianInterval(s.t);
    let scale = 0;
    for (let i = 1; i < n; i++) scale += Math.abs(s.x[i]! - s.x[i - 1]!);
    scale /= n - 1;
    const fr: FileResult = { name: s.name, mase: [], covered: [], rows: [], lstmRows: [], lstmHad: [], lstmMase: [] };
    const kLstm = METHODS.indexOf('model:lstm');
    for (let hh = 0; hh < HORIZON_MS.length; hh++) {
      const hMs = HORIZON_MS[hh]!;
      const r = rec[id]![hh]!;
      const base = baselines(s, hMs, dt);
      const preds = [r[nM]!, ...r.slice(0, nM), ...base];
      const abs = METHODS.map(() => 0);
      let rows = 0;
      let covered = 0;
      let lstmRows = 0;
      let lstmHad = 0;
      let lstmAbs = 0;
      if (hMs >= dt && scale > 0) {
        for (let i = 0; i < n; i++) {
          if (s.t[i]! < s.t[0]! + BURN_IN_MS) continue;
          const j = find(s.t, s.t[i]! + hMs);
          if (j < 0) continue;
          let ok = true;
          for (let k = 0; k < preds.length; k++) {
            const v = preds[k]![i]!;
            // The LSTM column may be missing where it has no fresh forecast; it is scored apart.
            if (!(v === v) && METHODS[k] !== 'model:lstm') ok = false;
          }
          if (!ok) continue;
          rows++;
          const y = s.x[j]!;
          for (let k = 0; k < preds.length; k++) {
            if (k === kLstm) continue;
            abs[k]! += Math.abs(y - preds[k]![i]!);
          }
          const lv = preds[kLstm]![i]!;
          if (lv === lv) {
            lstmHad++;
            lstmAbs += Math.abs(y - lv);
          }
          if (y >= r[nM + 1]![i]! && y <= r[nM + 2]![i]!) covered++;
          lstmRows += r[nM + 3]![i]!;
        }
      }
      fr.mase.push(abs.map((a, k) => (k === kLstm ? NaN : rows > 0 ? a / rows / scale : NaN)));
      fr.lstmHad.push(lstmHad);
      fr.lstmMase.push(lstmHad > 0 ? lstmAbs / lstmHad / scale : NaN);
      fr.covered.push(covered);
      fr.rows.push(rows);
      fr.lstmRows.push(lstmRows);
    }
    files.push(fr);
  }
  return { name, files, lstmChosen, pairs, usage, trainingRuns, trainingErrors };
}

function geomean(v: number[]): number {
  const f = v.filter((x) => Number.isFinite(x));
  if (f.length === 0) return NaN;
  return Math.exp(f.reduce((a, x) => a + Math.log(Math.max(MASE_FLOOR, x)), 0) / f.length);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function printResult(r: DataSetResult, perFile = false): void {
  console.log(`\n## ${r.name} (${r.files.length} series)\n`);
  const header = ['method', ...HORIZONS.map((h) => `MASE ${h}`)];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (let k = 0; k < METHODS.length; k++) {
    if (METHODS[k] === 'model:lstm') {
      if (!useLstm) continue;
      // The LSTM has a forecast only where a fresh prediction exists: scored on those rows.
      const cells = HORIZONS.map((_, hh) => {
        const v = r.files.map((f) => f.lstmMase[hh]!);
        const g = geomean(v);
        let had = 0;
        let rows = 0;
        for (const f of r.files) {
          had += f.lstmHad[hh]!;
          rows += f.rows[hh]!;
        }
        const share = rows > 0 ? ((100 * had) / rows).toFixed(0) : '0';
        return Number.isFinite(g) ? `${g.toFixed(3)} (${v.filter((x) => Number.isFinite(x)).length}; on ${share}% of rows)` : 'n/a';
      });
      console.log(`| ${METHODS[k]} | ${cells.join(' | ')} |`);
      continue;
    }
    const cells = HORIZONS.map((_, hh) => {
      const v = r.files.map((f) => f.mase[hh]![k]!);
      const used = v.filter((x) => Number.isFinite(x)).length;
      const g = geomean(v);
      return Number.isFinite(g) ? `${g.toFixed(3)} (${used})` : 'n/a';
    });
    console.log(`| ${METHODS[k]} | ${cells.join(' | ')} |`);
  }
  const cov = HORIZONS.map((_, hh) => {
    let c = 0;
    let n = 0;
    const per: number[] = [];
    for (const f of r.files) {
      c += f.covered[hh]!;
      n += f.rows[hh]!;
      if (f.rows[hh]! > 0) per.push(f.covered[hh]! / f.rows[hh]!);
    }
    per.sort((a, b) => a - b);
    const med = per[per.length >> 1] ?? NaN;
    return n > 0 ? `${((100 * c) / n).toFixed(1)}% (median file ${(100 * med).toFixed(0)}%)` : 'n/a';
  });
  console.log(`| 80% interval coverage | ${cov.join(' | ')} |`);
  if (useLstm) {
    const lstm = HORIZONS.map((_, hh) => {
      let rows = 0;
      let lr = 0;
      for (const f of r.files) {
        rows += f.rows[hh]!;
        lr += f.lstmRows[hh]!;
      }
      return `${r.lstmChosen[hh]}/${r.pairs[hh]} series, ${rows > 0 ? ((100 * lr) / rows).toFixed(1) : '0'}% of rows`;
    });
    console.log(`| LSTM chosen (end; served rows) | ${lstm.join(' | ')} |`);
    console.log(`\nLSTM training runs ${r.trainingRuns}, errors ${r.trainingErrors}`);
  }
  console.log(`model usage at the end (series x horizons): ${JSON.stringify(r.usage)}`);
  if (perFile) {
    console.log(`\nper-file interval coverage (${HORIZONS.join(', ')}) and augur MASE:`);
    for (const f of r.files) {
      const cov = HORIZONS.map((_, hh) => (f.rows[hh] ? `${((100 * f.covered[hh]!) / f.rows[hh]!).toFixed(1)}%` : '-'));
      console.log(`  ${pad(f.name, 28)} ${cov.join(' ')}  MASE ${f.mase.map((m) => m[0]!.toFixed(3)).join(' ')}`);
    }
  }
  if (verbose) {
    console.log('\nper-file MASE at 1h (augur, best baseline):');
    for (const f of r.files) {
      const m = f.mase[1]!;
      const bestBase = Math.min(...m.slice(1 + MODEL_NAMES.length));
      console.log(`  ${pad(f.name, 60)} ${m[0]!.toFixed(3)} ${bestBase.toFixed(3)} cov ${f.rows[1] ? ((100 * f.covered[1]!) / f.rows[1]!).toFixed(0) : '-'}%  ${m.map((x) => x.toFixed(2)).join(' ')}`);
    }
  }
}

const t0 = Date.now();
const nab = await runDataSet('NAB development split', loadCsvDir(NAB_DIR));
printResult(nab);
const gen = await runDataSet('generated seasonal series (1-minute samples, 14 days)', generateSeasonal());
printResult(gen);
const steep = await runDataSet('generated steep trends (1-minute samples, 14 days)', generateSteep());
printResult(steep, true);
console.log(`\nmethods: ${METHODS.join(', ')}; model:* are Augur's candidates on 5-minute buckets.`);
console.log(`elapsed ${((Date.now() - t0) / 1000).toFixed(1)} s`);
