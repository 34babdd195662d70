import { PerformanceObserver, constants } from 'node:perf_hooks';
import { ForecastEngine } from '../src/forecast/engine.js';
import { defaultForecastConfig } from '../src/forecast/config.js';
import { loopGapTracker } from './lib/loop-gap.js';

/**
 * LSTM rounds against the event loop: SERIES series in groups of 200 with a day and a half of
 * 5-minute history, then LSTM rounds (window collection on the main thread, training and
 * prediction in the worker) while a 1 ms timer records the longest gap and the main thread's
 * on-CPU time (other processes on a shared machine lengthen wall gaps; on-CPU time is ours).
 */
const SERIES = Number(process.env.BENCH_SERIES ?? 20_000);
const STEPS = 432;

export async function benchForecastLoop(): Promise<Record<string, number>> {
  const f = new ForecastEngine([defaultForecastConfig]);
  f.resize(SERIES);
  for (let id = 0; id < SERIES; id++) {
    f.reset(id);
    f.setProfile(id, 0);
    f.setGroup(id, Math.floor(id / 200));
  }
  const t0 = Date.now() - STEPS * 300_000;
  await f.start();
  // Main-thread GC pauses (start, duration, kind), matched to the rounds' time spans at the end:
  // they tell collector pauses from Augur's own work.
  const gcs: [number, number, number][] = [];
  const spans: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcs.push([entry.startTime, entry.duration, (entry.detail as { kind: number }).kind]);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  let maxGap = 0;
  let maxGapCpu = 0;
  let maxGapRound = 0;
  let maxCpu = 0;
  /** Rounds with an on-CPU stretch over 10 ms, as "round: ms". */
  const slowRounds: string[] = [];
  let roundSeconds = 0;
  let rounds = 0;
  // Feed buckets in steps of 8, as they would arrive, and run an LSTM round after each step; only
  // the rounds are measured against the event loop (feeding here is the benchmark's own loop).
  for (let k0 = 0; k0 < STEPS; k0 += 8) {
    for (let k = k0; k < Math.min(STEPS, k0 + 8); k++) {
      for (let id = 0; id < SERIES; id++) {
        const phase = (2 * Math.PI * k) / 288;
        f.observe(id, t0 + k * 300_000, 100 + (id % 50) + 20 * Math.sin(phase + (id % 7)) + ((k * 7919 + id) % 17) / 4);
      }
    }
    const tracker = loopGapTracker();
    const started = performance.now();
    await f.flushBackground();
    roundSeconds += (performance.now() - started) / 1000;
    rounds++;
    const g = tracker.stop();
    spans.push(started, performance.now());
    if (g.maxGapMs > maxGap) {
      maxGap = g.maxGapMs;
      maxGapCpu = g.maxGapCpuMs;
      maxGapRound = rounds;
    }
    maxCpu = Math.max(maxCpu, g.maxCpuMs);
    if (g.maxCpuMs > 10) slowRounds.push(`${rounds}: ${g.maxCpuMs.toFixed(1)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = roundSeconds;
  await f.stop();
  console.log(`# LSTM rounds, ${SERIES} series in groups of 200: ${rounds} rounds in ${seconds.toFixed(1)} s, ${f.trainingRuns} trainings, ${f.trainingErrors} errors`);
  console.log(`longest event-loop gap during the rounds: ${maxGap.toFixed(1)} ms wall (round ${maxGapRound}), ${maxGapCpu.toFixed(1)} ms of it on-CPU`);
  console.log(`longest on-CPU stretch between ticks: ${maxCpu.toFixed(1)} ms; rounds with one over 10 ms: ${slowRounds.join(', ') || 'none'}`);
  await new Promise((r) => setTimeout(r, 50));
  gcObserver.disconnect();
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
  };
  let gcTotal = 0;
  let gcMax = 0;
  let gcMaxKind = '';
  let gcCount = 0;
  for (const [start, duration, kind] of gcs) {
    let inRound = false;
    for (let i = 0; i < spans.length && !inRound; i += 2) inRound = start >= spans[i]! && start < spans[i + 1]!;
    if (!inRound) continue;
    gcCount++;
    gcTotal += duration;
    if (duration > gcMax) {
      gcMax = duration;
      gcMaxKind = kinds[kind] ?? 'other';
    }
  }
  console.log(`main-thread GC during the rounds: ${gcCount} pauses, ${gcTotal.toFixed(0)} ms in all, longest ${gcMax.toFixed(1)} ms wall (${gcMaxKind})`);
  return { maxGap, maxGapCpu, maxCpu, gcMax };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchForecastLoop();
