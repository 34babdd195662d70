/**
 * npm run bench:cluster — 100,000 series in peer groups of up to 1,000, one hour of 15 s samples,
 * then reclustering rounds in the worker thread as `serve` runs them (every minute, a full round
 * every 10 minutes, incremental rounds between). Prints the worker's CPU per round as a share of
 * one core, the cost of observe() per sample, and bytes per series.
 */
import { PeerEngine, R } from '../src/cluster/engine.js';
import { rng } from '../src/cluster/kmeans.js';
import { behaviourValue, gauss } from '../src/cluster/synthetic.js';
import { loopGapTracker } from './lib/loop-gap.js';

const SERIES = Number(process.env.SERIES ?? 100_000);
const SIZES = [1000, 600, 300, 100, 40, 10];
const STEP_MS = 15_000;
const STEPS = 240;
const T0 = Date.UTC(2025, 0, 1);
const ROUNDS = Number(process.env.ROUNDS ?? 4);

const next = rng(1);
const groupOf: number[] = [];
const sizes: number[] = [];
for (let id = 0, g = 0; id < SERIES; g++) {
  const size = Math.min(SIZES[g % SIZES.length]!, SERIES - id);
  sizes.push(size);
  for (let i = 0; i < size; i++, id++) groupOf.push(g);
}
const G = sizes.length;
const kOf = (g: number) => 1 + (g % 5);
const truth = new Int32Array(SERIES);
const jitter = new Float64Array(SERIES);
for (let id = 0; id < SERIES; id++) {
  truth[id] = Math.floor(next() * kOf(groupOf[id]!));
  jitter[id] = 1 + 0.01 * gauss(next);
}
const NOISE = 1 << 16;
const noise = new Float64Array(NOISE);
for (let i = 0; i < NOISE; i++) noise[i] = 3 * gauss(next);

global.gc?.();
const mem0 = process.memoryUsage();
const e = new PeerEngine();
e.resize(SERIES);
for (let id = 0; id < SERIES; id++) {
  e.addSeries(id, 'http_request_duration_seconds', [['job', `job-${groupOf[id]}`], ['instance', `pod-${id}`]]);
}
global.gc?.();
const mem1 = process.memoryUsage();
const measuredBytes = (mem1.arrayBuffers + mem1.heapUsed - mem0.arrayBuffers - mem0.heapUsed) / SERIES;

// Noise-free behaviour curves per step, so generating a sample costs little next to observe().
const curves = new Float64Array(6 * (STEPS + 1000));
function fillCurves(from: number): void {
  for (let s = 0; s < STEPS + 1000; s++) {
    for (let b = 0; b < 6; b++) curves[b * (STEPS + 1000) + s] = behaviourValue(b, T0 + (from + s) * STEP_MS, 100);
  }
}
fillCurves(0);
const stride = STEPS + 1000;
function feed(from: number, steps: number, withObserve: boolean): number {
  let sink = 0;
  for (let s = from; s < from + steps; s++) {
    const t = T0 + s * STEP_MS;
    for (let id = 0; id < SERIES; id++) {
      const x = curves[truth[id]! * stride + s]! * jitter[id]! + noise[(id * 7919 + s * 31) & (NOISE - 1)]!;
      if (withObserve) e.observe(id, t, x, 0);
      else sink += x;
    }
  }
  return sink;
}

const base0 = performance.now();
(globalThis as { sink?: number }).sink = feed(0, 20, false); // keeps the baseline loop alive
const baseNs = ((performance.now() - base0) * 1e6) / (20 * SERIES);
const obs0 = performance.now();
feed(0, STEPS, true);
const obsNs = ((performance.now() - obs0) * 1e6) / (STEPS * SERIES) - baseNs;

console.log(`series ${SERIES} in ${G} peer groups (sizes up to ${Math.max(...sizes)}), window ${R} buckets over 1h`);
console.log(`observe(): ${obsNs.toFixed(1)} ns per sample (loop overhead ${baseNs.toFixed(1)} ns subtracted)`);
console.log(
  `memory: ${PeerEngine.bytesPerSeries()} bytes per series in typed arrays; measured ${measuredBytes.toFixed(0)} bytes per series (heap + array buffers)`,
);

e.start();
let step = STEPS;
const INTERVAL_MS = 60_000;
let now = Date.now();
const rows: { full: boolean; workerMs: number; wallMs: number; cpuMs: number; mainMs: number; changes: number; gapMs: number; gapCpuMs: number; blockCpuMs: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  feed(step, 4, true); // one more minute
  step += 4;
  const full = r === 0 || r === ROUNDS - 1;
  now += INTERVAL_MS;
  const changes0 = e.clusterChanges;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  const tracker = loopGapTracker();
  await e.recluster({ forceFull: full, nowMs: now });
  const gaps = tracker.stop();
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  const workerMs = e.lastReclusterSeconds * 1000;
  rows.push({ full, workerMs, wallMs: wall, cpuMs: (cpu.user + cpu.system) / 1000, mainMs: e.lastReclusterMainSeconds * 1000, changes: e.clusterChanges - changes0, gapMs: gaps.maxGapMs, gapCpuMs: gaps.maxGapCpuMs, blockCpuMs: gaps.maxCpuMs });
  if (e.lastError) throw new Error(e.lastError);
}
await e.stop();

const fullRows = rows.filter((r) => r.full);
const incRows = rows.filter((r) => !r.full);
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
for (const [i, r] of rows.entries()) {
  console.log(
    `round ${i + 1} (${r.full ? 'full' : 'incremental'}): process CPU ${r.cpuMs.toFixed(0)} ms, worker busy ${r.workerMs.toFixed(0)} ms wall, event loop (snapshot + apply) ${r.mainMs.toFixed(0)} ms, longest event-loop gap ${r.gapMs.toFixed(1)} ms wall (${r.gapCpuMs.toFixed(1)} ms on-CPU), longest on-CPU stretch ${r.blockCpuMs.toFixed(1)} ms, ${r.changes} series changed cluster`,
  );
}
// Process CPU while the main thread waits on the worker: the worker's CPU plus the snapshot/apply
// and GC, so an upper bound on the worker's own CPU (Node 20 has no per-thread CPU clock).
const fullMs = avg(fullRows.slice(1).map((r) => r.cpuMs).concat(fullRows.length > 1 ? [] : [fullRows[0]!.cpuMs]));
const incMs = incRows.length ? avg(incRows.map((r) => r.cpuMs)) : fullMs;
const mixed = (fullMs + 9 * incMs) / 10;
const pct = (ms: number) => ((100 * ms) / INTERVAL_MS).toFixed(1);
console.log(`CPU per round: full ${fullMs.toFixed(0)} ms (round 1 also starts the worker), incremental ${incMs.toFixed(0)} ms`);
console.log(
  `clustering share of one core, reclustering every minute: ${pct(mixed)}% (a full round every 10 min, incremental rounds between); ${pct(fullMs)}% if every round were full (target < 25%)`,
);
console.log(`clusters: ${[...e.groups()].reduce((s, g) => s + g.clusters.length, 0)} in ${G} groups, ${e.clusterChanges} cluster changes over ${ROUNDS} rounds`);
