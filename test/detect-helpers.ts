import { mulberry32 } from '../src/util/prng.js';

/** Seeded synthetic series for the detector tests. */
export function gaussian(seed: number): () => number {
  const r = mulberry32(seed);
  // Half a step above zero, so that log() never sees 0.
  const u = (): number => r() + 0.5 / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

export const STEP_MS = 300_000; // 5-minute samples
export const T0 = Date.UTC(2024, 0, 1);
