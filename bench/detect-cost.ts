/**
 * Cost of the detection ensemble: ns per sample at 100,000 series (request path, plus background
 * forest training time amortised over the same samples) and bytes of detection state per series.
 *   npm run bench:detect [-- --series 100000 --rounds 30 --group 100]
 * Figures only, no assertions: the machine is shared and timings are noisy.
 */
import { NODES, TREES } from '../src/detect/forest.js';
import { ROWS } from '../src/detect/forest-detector.js';
import { defaultProfile } from '../src/detect/profile.js';
import { Scorer } from '../src/detect/scorer.js';

const args = process.argv.slice(2);
const num = (name: string, d: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const SERIES = num('--series', 100_000);
const ROUNDS = num('--rounds', 30);
const GROUP = num('--group', 100);
const WARM = num('--warm', 70);

const s = new Scorer([defaultProfile]);
s.resize(SERIES);
for (let id = 0; id < SERIES; id++) { s.reset(id); s.setProfile(id, 0); s.setGroup(id, Math.floor(id / GROUP)); }
s.start();

// Deterministic pseudo-data: noisy level per series, occasional spikes and level shifts.
let seed = 12345;
const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
const noise = new Float64Array(4096);
for (let i = 0; i < noise.length; i++) noise[i] = (rnd() + rnd() + rnd() - 1.5) * 2;
let t = Date.UTC(2024, 0, 1);
let k = 0;

// Sample time follows wall time (live traffic: a replay racing ahead of the clock would train its
// forests inline, on the request path, as a backtest does).
const wall0 = performance.now();
function round(): void {
  for (let id = 0; id < SERIES; id++) {
    const x = 100 + (id & 63) + noise[(k++ * 7 + id) & 4095]! * (1 + (id & 7)) + ((k & 8191) === 0 ? 50 : 0);
    s.observe(id, t, x);
  }
  t = Math.max(t + 1, Date.UTC(2024, 0, 1) + Math.round(performance.now() - wall0));
}

for (let r = 0; r < WARM; r++) round(); // past warm-up, JIT warm
await new Promise((r) => setTimeout(r, 1500)); // let the first trainings land
s.forest.tick();
const trainBefore = s.trainingSeconds;
const runsBefore = s.trainingRuns;
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
for (let r = 0; r < ROUNDS; r++) {
  round();
  if (r % 5 === 4) { s.forest.tick(); await new Promise((r) => setImmediate(r)); }
}
const ns = Number(process.hrtime.bigint() - t0);
const cpu = process.cpuUsage(cpu0);
await new Promise((r) => setTimeout(r, 500));
const samples = SERIES * ROUNDS;
const trainNs = (s.trainingSeconds - trainBefore) * 1e9;

// Detection state bytes per series: every typed array indexed by series id, over capacity.
function typedBytes(o: object, seen = new Set<object>()): number {
  let b = 0;
  for (const v of Object.values(o)) {
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v)) { if (v.byteLength >= SERIES) b += v.byteLength; }
    else if (!Array.isArray(v)) b += typedBytes(v, seen);
  }
  return b;
}
const perSeries = typedBytes(s) / SERIES;
const groups = Math.ceil(SERIES / GROUP);

console.log(`detect cost: ${SERIES} series, ${ROUNDS} rounds, ${groups} peer groups of ${GROUP}`);
console.log(`  request path      ${(ns / samples).toFixed(0)} ns/sample (${((samples / ns) * 1e3).toFixed(2)} M samples/s)`);
console.log(`  process CPU       ${(((cpu.user + cpu.system) * 1e3) / samples).toFixed(0)} ns/sample (all threads, incl. training; less sensitive to a busy machine)`);
console.log(`  forest training   ${(trainNs / samples).toFixed(1)} ns/sample amortised (${s.trainingRuns - runsBefore} runs, last ${(s.lastTrainingSeconds * 1e3).toFixed(2)} ms, errors ${s.trainingErrors})`);
console.log(`  total             ${((ns + trainNs) / samples).toFixed(0)} ns/sample (budget 2000)`);
console.log(`  per-series state  ${perSeries.toFixed(0)} bytes (budget ~1024); forests + training rings ~${((groups * (TREES * NODES * 5 + ROWS * 5 * 4)) / SERIES).toFixed(0)} bytes/series at this grouping`);
console.log(`  heap used         ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
await s.stop();
