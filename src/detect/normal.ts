/** Standard normal helpers, allocation-free and finite for any input. */

const LN2 = Math.LN2;

/**
 * ln P(Z > z) for a standard normal Z, stable far into the tail (no underflow to -Infinity).
 * Uses the Numerical Recipes erfc approximation (relative error < 1.2e-7), evaluated in log space.
 */
export function logUpperTail(z: number): number {
  const x = z / Math.SQRT2;
  const ax = x < 0 ? -x : x;
  const t = 1 / (1 + 0.5 * ax);
  const poly =
    -ax * ax - 1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
    t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const lnErfcAbs = Math.log(t) + poly; // ln erfc(|x|)
  if (x >= 0) return lnErfcAbs - LN2;
  // erfc(-a) = 2 - erfc(a)
  return Math.log(2 - Math.exp(lnErfcAbs)) - LN2;
}

/** z such that P(Z > z) = p, for 0 < p < 1 (Acklam's rational approximation, |error| < 1.2e-9). */
export function upperTailInverse(p: number): number {
  return -lowerQuantile(p);
}

function lowerQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -lowerQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Mean absolute deviation of a normal sample times this gives its standard deviation. */
export const MAD_TO_SIGMA = 1.2533141373155;
