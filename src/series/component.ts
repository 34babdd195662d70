/**
 * Per-series state lives in struct-of-arrays form: every component keeps typed arrays indexed by
 * the series id the registry hands out. Ids are dense, reused after a series is removed, and the
 * registry calls `resize(capacity, true)` before ids reach the current capacity, `initIds` before
 * an id is handed out for the first time, and `reset(id)` every time it is handed out. Nothing on
 * the per-sample path allocates.
 */
export interface SeriesComponent {
  /**
   * Grows the arrays to `capacity` ids. Ids past the old capacity get their initial values now,
   * or, with `lazy`, when `initIds` is called for them: the registry grows lazily, so that memory
   * for ids not handed out yet is never written and stays uncommitted (zeroed pages are mapped on
   * first write).
   */
  resize(capacity: number, lazy?: boolean): void;
  /** Gives ids [from, to) the initial values that are not zero (a component without any need not have it). */
  initIds?(from: number, to: number): void;
  reset(id: number): void;
}

export function growF64(a: Float64Array<ArrayBuffer>, capacity: number): Float64Array<ArrayBuffer> {
  if (a.length >= capacity) return a;
  const b = new Float64Array(capacity);
  b.set(a);
  return b;
}

export function growF32(a: Float32Array<ArrayBuffer>, capacity: number): Float32Array<ArrayBuffer> {
  if (a.length >= capacity) return a;
  const b = new Float32Array(capacity);
  b.set(a);
  return b;
}

export function growI32(a: Int32Array<ArrayBuffer>, capacity: number): Int32Array<ArrayBuffer> {
  if (a.length >= capacity) return a;
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}

export function growU32(a: Uint32Array<ArrayBuffer>, capacity: number): Uint32Array<ArrayBuffer> {
  if (a.length >= capacity) return a;
  const b = new Uint32Array(capacity);
  b.set(a);
  return b;
}

export function growU16(a: Uint16Array<ArrayBuffer>, capacity: number): Uint16Array<ArrayBuffer> {
  if (a.length >= capacity) return a;
  const b = new Uint16Array(capacity);
  b.set(a);
  return b;
}

export function growI16(a: Int16Array<ArrayBuffer>, capacity: number): Int16Array<ArrayBuffer> {
  if (a.length >= capacity) return a;
  const b = new Int16Array(capacity);
  b.set(a);
  return b;
}

export function growU8(a: Uint8Array<ArrayBuffer>, capacity: number): Uint8Array<ArrayBuffer> {
  if (a.length >= capacity) return a;
  const b = new Uint8Array(capacity);
  b.set(a);
  return b;
}

/** Fills ids [from, to) of every row of an array laid out as in `growRows` with `capacity` ids per row. */
export function fillRows(a: Float32Array<ArrayBufferLike>, capacity: number, rows: number, from: number, to: number, value: number): void {
  for (let r = 0; r < rows; r++) a.fill(value, r * capacity + from, r * capacity + to);
}

/**
 * Grows an array laid out in `rows` rows of one entry per series (series `id` of row `r` at
 * `r * from + id`) from `from` to `to` series per row. Per-series tables indexed by a phase (a bin
 * of the day, a day of the week) are laid out so: at any moment every series is in the same phase,
 * so one request's updates fall in one dense row instead of one cache line per series. `make`
 * allocates the new array (shared memory, a fill value); by default a zeroed one of a's type.
 */
export function growRows<T extends Int16Array<ArrayBufferLike> | Float32Array<ArrayBufferLike>>(a: T, from: number, to: number, rows: number, make: (length: number) => T = (n) => new (a.constructor as new (n: number) => T)(n)): T {
  if (to <= from) return a;
  const b = make(to * rows);
  for (let r = 0; r < rows; r++) b.set(a.subarray(r * from, r * from + from), r * to);
  return b;
}
