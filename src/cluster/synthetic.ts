import { rng } from './kmeans.js';

/**
 * Generated peer groups with known structure, for the clustering tests and bench. Each member
 * follows one of a few behaviours around a common base level, plus its own noise; the behaviour
 * index is the ground-truth cluster.
 */
export const BEHAVIOURS = 6;

const PERIOD_MS = 20 * 60_000;

/** Noise-free value of behaviour `b` at time t for a group whose typical level is `base`. */
export function behaviourValue(b: number, tMs: number, base: number): number {
  const phase = (2 * Math.PI * tMs) / PERIOD_MS;
  switch (b % BEHAVIOURS) {
    case 0: // steady
      return base;
    case 1: // oscillating
      return base * (1 + 0.3 * Math.sin(phase));
    case 2: // higher level, steady
      return base * 1.6;
    case 3: // climbing over the hour
      return base * (1 + 0.5 * (((tMs / 3_600_000) % 1) - 0.5));
    case 4: // a burst every 15 minutes (a cron job)
      return tMs % 900_000 < 180_000 ? base * 1.8 : base;
    default: // oscillating in opposite phase
      return base * (1 - 0.3 * Math.sin(phase));
  }
}

export interface SynthGroup {
  /** Ground-truth behaviour of each member. */
  truth: Int32Array;
  base: number;
  noise: number;
  /** Per member level jitter, multiplicative. */
  jitter: Float64Array;
  next: () => number;
}

/** n members spread over k behaviours (at least 2 members each when n allows). */
export function synthGroup(n: number, k: number, seed: number, noise = 0.03, base = 100): SynthGroup {
  const next = rng(seed);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) truth[i] = i < 2 * k ? i % k : Math.floor(next() * k);
  const jitter = new Float64Array(n);
  for (let i = 0; i < n; i++) jitter[i] = 1 + 0.01 * gauss(next);
  return { truth, base, noise, jitter, next };
}

/** One sample of member i at time t. */
export function synthValue(g: SynthGroup, i: number, tMs: number): number {
  const v = behaviourValue(g.truth[i]!, tMs, g.base) * g.jitter[i]!;
  return v + g.noise * g.base * gauss(g.next);
}

export function gauss(next: () => number): number {
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}
