/**
 * Forecast accuracy in a series' first hours, before any horizon's model choice has been checked
 * (when the default model serves): `node --import tsx bench/forecast-early.ts`. Every model is
 * scored on the same origins by the engine itself; the table is each model's running MAE relative
 * to SES's, geometric mean over the series of a set, after the first 2 hours (5m horizon) and
 * 6 hours (1h horizon). `npm run bench:forecast` scores only after a two-day burn-in.
 */
import { ForecastEngine } from '../src/forecast/engine.js';
import { forecastSchema } from '../src/forecast/config.js';
import { generateSeasonal, generateSteep, loadCsvDir, type Series } from './forecast-data.js';

const MODELS = ['naive', 'linear', 'holt', 'holt_winters'];
const sets: [string, Series[]][] = [['NAB', loadCsvDir('/work/shared/nab-dev/data')], ['generated seasonal', generateSeasonal()], ['generated steep', generateSteep()]];

console.log(`| set | after | horizon | ${MODELS.join(' | ')} | series |`);
console.log(`| --- | --- | --- | ${MODELS.map(() => '---').join(' | ')} | --- |`);
for (const [hours, h, label] of [[2, 0, '5m'], [6, 1, '1h']] as const) {
  for (const [name, list] of sets) {
    const logs = new Map<string, number[]>(MODELS.map((m) => [m, []]));
    let n = 0;
    for (const s of list) {
      const e = new ForecastEngine([forecastSchema.parse({ horizons: ['5m', '1h'], models: { lstm: false } })]);
      e.resize(1);
      e.reset(0);
      const end = s.t[0]! + hours * 3_600_000;
      for (let i = 0; i < s.t.length && s.t[i]! <= end; i++) e.observe(0, s.t[i]!, s.x[i]!);
      const mae = e.modelErrors(0, h);
      if (!(mae.ses! > 0)) continue;
      n++;
      for (const m of MODELS) if (mae[m]! > 0) logs.get(m)!.push(Math.log(mae[m]! / mae.ses!));
    }
    const geo = (a: number[]): string => (a.length === 0 ? '-' : Math.exp(a.reduce((x, y) => x + y, 0) / a.length).toFixed(3));
    console.log(`| ${name} | ${hours}h | ${label} | ${MODELS.map((m) => geo(logs.get(m)!)).join(' | ')} | ${n} |`);
  }
}

// What a dashboard shows in those hours: the forecast published at each sample (the default, or
// the choice of a shorter horizon once checked), against the value observed a horizon later.
// Relative to the naive forecast (the latest value) on the same origins; geometric mean over series.
console.log('');
console.log('| set | origins in the first | horizon | published forecast MAE / naive MAE | 80% interval coverage | interval width / naive MAE (median series) | series |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [hours, h, label, hMs] of [[2, 0, '5m', 300_000], [4, 1, '1h', 3_600_000]] as const) {
  for (const [name, list] of sets) {
    const logs: number[] = [];
    const cover: number[] = [];
    const widths: number[] = [];
    for (const s of list) {
      const e = new ForecastEngine([forecastSchema.parse({ horizons: ['5m', '1h'], models: { lstm: false } })]);
      e.resize(1);
      e.reset(0);
      const end = s.t[0]! + hours * 3_600_000;
      let count = 0;
      let served = 0;
      let naive = 0;
      let j = 0;
      let inside = 0;
      let withInterval = 0;
      let width = 0;
      for (let i = 0; i < s.t.length && s.t[i]! <= end; i++) {
        e.observe(0, s.t[i]!, s.x[i]!);
        const f = e.forecast[h]![0]!;
        while (j < s.t.length && s.t[j]! < s.t[i]! + hMs) j++;
        if (j >= s.t.length || !(f === f)) continue;
        count++;
        served += Math.abs(f - s.x[j]!);
        naive += Math.abs(s.x[i]! - s.x[j]!);
        const lo = e.lower[h]![0]!;
        const hi = e.upper[h]![0]!;
        if (lo === lo && hi === hi) {
          withInterval++;
          width += hi - lo;
          if (s.x[j]! >= lo && s.x[j]! <= hi) inside++;
        }
      }
      if (served > 0 && naive > 0) logs.push(Math.log(served / naive));
      if (withInterval > 0 && naive > 0) {
        cover.push(inside / withInterval);
        widths.push(width / withInterval / (naive / count));
      }
    }
    const geo = logs.length === 0 ? '-' : Math.exp(logs.reduce((x, y) => x + y, 0) / logs.length).toFixed(3);
    const mean = (a: number[]): string => (a.length === 0 ? '-' : ((100 * a.reduce((x, y) => x + y, 0)) / a.length).toFixed(1) + '%');
    widths.sort((a, b) => a - b);
    const geoW = widths.length === 0 ? '-' : widths[widths.length >> 1]!.toFixed(2);
    console.log(`| ${name} | ${hours}h | ${label} | ${geo} | ${mean(cover)} | ${geoW} | ${logs.length} |`);
  }
}
