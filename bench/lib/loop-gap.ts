import { openSync, readSync, closeSync } from 'node:fs';

/**
 * The longest gap between ticks of a 1 ms timer, and how much of it the main thread spent on a
 * CPU. On a shared 2-core machine a long gap can be the kernel running someone else: the on-CPU
 * time (from /proc/thread-self/schedstat, in nanoseconds) tells Augur's own blocking apart. The
 * kernel brings a running thread's figure up to date at each scheduler tick, so it is exact to a
 * tick (4 ms at HZ=250).
 */
export interface LoopGaps {
  /** Longest wall-clock gap between ticks, ms. */
  maxGapMs: number;
  /** Main-thread CPU time inside that longest gap, ms. */
  maxGapCpuMs: number;
  /** Longest stretch of main-thread CPU time between two ticks, ms: the loop's own longest block. */
  maxCpuMs: number;
}

export function loopGapTracker(): { stop(): LoopGaps } {
  const fd = openSync('/proc/thread-self/schedstat', 'r');
  const buf = Buffer.alloc(128);
  // Parsed in place: a string per tick would feed the young generation this benchmark watches.
  const cpuNs = (): number => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    let v = 0;
    for (let i = 0; i < n; i++) {
      const c = buf[i]!;
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    return v;
  };
  let last = performance.now();
  let lastCpu = cpuNs();
  const out: LoopGaps = { maxGapMs: 0, maxGapCpuMs: 0, maxCpuMs: 0 };
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = cpuNs();
    const gap = now - last;
    const gapCpu = (cpu - lastCpu) / 1e6;
    if (gap > out.maxGapMs) {
      out.maxGapMs = gap;
      out.maxGapCpuMs = gapCpu;
    }
    if (gapCpu > out.maxCpuMs) out.maxCpuMs = gapCpu;
    last = now;
    lastCpu = cpu;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      closeSync(fd);
      return out;
    },
  };
}
