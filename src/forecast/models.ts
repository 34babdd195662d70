/** The candidate models, in the order used as the model index everywhere in src/forecast. */
export const MODEL_NAMES = [
  'naive',
  'ses',
  'seasonal_naive',
  'linear',
  'holt',
  'holt_winters',
  'lstm',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
export const MODEL_COUNT = MODEL_NAMES.length;

export const NAIVE = 0;
export const SES = 1;
export const SNAIVE = 2;
export const LINEAR = 3;
export const HOLT = 4;
export const HW = 5;
export const LSTM = 6;
export const NO_MODEL = 255;

/** Smoothing factors, per bucket (one bucket = one model step, 5 minutes by default). */
export const SES_ALPHA = 0.1;
/** Holt linear, PromQL double_exponential_smoothing(v, sf, tf) semantics. */
export const HOLT_SF = 0.3;
export const HOLT_TF = 0.05;
/** Additive Holt-Winters with damped trend, per 30-minute slot. */
export const HW_ALPHA = 0.3;
export const HW_BETA = 0.05;
export const HW_GAMMA = 0.3;
export const HW_PHI = 0.9;

/** Sum of phi^i for i = 1..h (h may be fractional): how far a damped trend carries. */
export function dampedSteps(phi: number, h: number): number {
  return (phi * (1 - Math.pow(phi, h))) / (1 - phi);
}
