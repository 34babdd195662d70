/** In-place selection: after the call a[k] is the k-th smallest of a[0..n). Allocation-free. */
export function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // median of three as pivot keeps sorted and constant inputs linear
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

const SMALL = 16;

/** Median of a[0..n), reordering a. NaN for n = 0. */
export function medianInPlace(a: Float64Array, n: number): number {
  if (n === 0) return NaN;
  if (n <= SMALL) {
    // Peer sets are mostly this small: an insertion sort beats selection's partitioning there.
    for (let i = 1; i < n; i++) {
      const v = a[i]!;
      let j = i - 1;
      while (j >= 0 && a[j]! > v) {
        a[j + 1] = a[j]!;
        j--;
      }
      a[j + 1] = v;
    }
    const h = n >> 1;
    return n & 1 ? a[h]! : (a[h - 1]! + a[h]!) / 2;
  }
  const h = n >> 1;
  const upper = select(a, n, h);
  if (n & 1) return upper;
  let lower = a[0]!;
  for (let i = 1; i < h; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + upper) / 2;
}

/** Quantile (0..1, nearest rank) of a[0..n), reordering a. */
export function quantileInPlace(a: Float64Array, n: number, q: number): number {
  if (n === 0) return NaN;
  return select(a, n, Math.min(n - 1, Math.max(0, Math.round(q * (n - 1)))));
}
