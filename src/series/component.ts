/**
 * Per-series state lives in struct-of-arrays form: every component keeps typed arrays indexed by
 * the series id the registry hands out. Ids are dense, reused after a series is removed, and the
 * registry grows its components (`grow`) before ids reach their capacity, calls `initIds` before
 * an id is handed out for the first time, and `reset(id)` every time it is handed out. Nothing on
 * the per-sample path allocates.
 */
export interface SeriesComponent {
  /**
   * Grows the arrays to `capacity` ids, one step per array (see `grown`): the registry takes the
   * steps over several event-loop turns while requests keep being scored, so at every yield the
   * component must work for the ids below its old capacity, and arrays that share a layout (a row
   * stride) are swapped in the same step. Only ids below `used()` hold anything to copy; ids past
   * it are left zeroed (uncommitted: zeroed pages are mapped on first write) until `initIds`.
   */
  grow(capacity: number, used: () => number): GrowSteps;
  /** Gives ids [from, to) the initial values that are not zero (a component without any need not have it). */
  initIds?(from: number, to: number): void;
  reset(id: number): void;
}

/** A growth in steps: each `next()` does a bounded amount of work. */
export type GrowSteps = Generator<void, void, void>;

type Typed =
  | Float64Array<ArrayBufferLike> | Float32Array<ArrayBufferLike> | Int32Array<ArrayBufferLike> | Uint32Array<ArrayBufferLike>
  | Int16Array<ArrayBufferLike> | Uint16Array<ArrayBufferLike> | Int8Array<ArrayBufferLike> | Uint8Array<ArrayBufferLike>;

/** `used` for a growth outside the registry: every id there is has state to copy. */
export const EVERY_ID = (): number => Infinity;

/** Takes every step of a growth at once. */
export function runSteps(steps: GrowSteps): void {
  while (!steps.next().done);
}

/**
 * Grows a component on its own, outside a registry (tests, tools, an engine used standalone), at
 * once, and gives ids [from, to) their initial values.
 */
export function resizeNow(c: SeriesComponent, from: number, to: number): void {
  if (to <= from) return;
  runSteps(c.grow(to, EVERY_ID));
  c.initIds?.(from, to);
}

const PAGE = 4096;
/** Pages touched per step: 1 MiB, a few milliseconds of page faults. */
const PAGES_PER_STEP = 256;

/**
 * A zeroed array being prepared for a growth: pages of the elements [r * stride, r * stride + n)
 * of each row r < rows are touched ahead (see `touch`) for the n ids in use. Ids keep arriving
 * while a growth runs, so `touchUpTo` goes over the new ones again until it has caught up.
 */
export class Fresh<T extends Typed> {
  private readonly bytes: Uint8Array;
  private touched = 0;
  private pages = 0;

  constructor(readonly array: T, private readonly rows: number, private readonly stride: number) {
    this.bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  }

  /** Touches up to `count()` elements per row, a slice per step; returns once caught up (a few passes at most). */
  *touchUpTo(count: () => number): Generator<void, void, void> {
    const size = this.array.BYTES_PER_ELEMENT;
    for (let pass = 0; pass < 4; pass++) {
      const to = count();
      if (to <= this.touched) return;
      for (let r = 0; r < this.rows; r++) yield* this.touch((r * this.stride + this.touched) * size, (r * this.stride + to) * size);
      this.touched = to;
    }
  }

  /**
   * Writes a zero into every page of bytes [from, to), yielding every PAGES_PER_STEP pages (counted
   * across rows). A copy into fresh memory is bound by the kernel mapping each page on its first
   * write (as much as 3 ms per MiB on a virtual machine), not by the copy: taken ahead, a slice per
   * turn, those faults leave the copy itself a plain memcpy.
   */
  private *touch(from: number, to: number): Generator<void, void, void> {
    if (to <= from) return;
    const bytes = this.bytes;
    for (let p = from; p < to; p += PAGE) {
      bytes[p] = 0;
      if (++this.pages % PAGES_PER_STEP === 0) yield;
    }
    bytes[to - 1] = 0;
  }
}

/**
 * Allocates a zeroed array like `a` of `length` elements (from `make` when given: shared memory)
 * and touches it ahead up to `count()` elements per row; at least one step. The caller copies
 * into it and swaps it in one step.
 */
export function* prepared<T extends Typed>(a: T, length: number, rows: number, stride: number, count: () => number, make?: (n: number) => T): Generator<void, Fresh<T>, void> {
  const f = new Fresh(make !== undefined ? make(length) : new (a.constructor as new (n: number) => T)(length), rows, stride);
  yield;
  yield* f.touchUpTo(count);
  return f;
}

/**
 * Grows `a`, `per` elements per id (id-major), to `capacity` ids: allocates and touches ahead
 * over several steps, then copies the ids below `used()` and returns the new array in the last.
 */
export function* grown<T extends Typed>(a: T, capacity: number, used: () => number, per = 1, make?: (n: number) => T): Generator<void, T, void> {
  if (a.length >= capacity * per) return a;
  const count = (): number => Math.min(a.length, used() * per);
  const b = (yield* prepared(a, capacity * per, 1, 0, count, make)).array;
  b.set(a.subarray(0, count()));
  return b;
}

/**
 * Per-series tables indexed by a phase (a bin of the day, a day of the week) are laid out in
 * `rows` rows of one entry per series: series `id` of row `r` at `r * capacity + id`. At any
 * moment every series is in the same phase, so one request's updates fall in one dense row
 * instead of one cache line per series. `prepared(a, rows * to, rows, to, count)` makes the grown
 * array; this copies the first `used` ids of every row from the layout of `from` ids per row.
 */
export function copyRows(a: Typed, b: Typed, from: number, to: number, rows: number, used: number): void {
  const n = Math.min(from, used);
  for (let r = 0; r < rows; r++) b.set(a.subarray(r * from, r * from + n), r * to);
}

/** Fills ids [from, to) of every row of an array laid out as in `copyRows` with `capacity` ids per row. */
export function fillRows(a: Float32Array<ArrayBufferLike>, capacity: number, rows: number, from: number, to: number, value: number): void {
  for (let r = 0; r < rows; r++) a.fill(value, r * capacity + from, r * capacity + to);
}

/** Growth helpers for request-sized buffers (not per-series state): one copy, at once. */
export function growF64(a: Float64Array<ArrayBuffer>, capacity: number): Float64Array<ArrayBuffer> {
  if (a.length >= capacity) return a;
  const b = new Float64Array(capacity);
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

export function growU8(a: Uint8Array<ArrayBuffer>, capacity: number): Uint8Array<ArrayBuffer> {
  if (a.length >= capacity) return a;
  const b = new Uint8Array(capacity);
  b.set(a);
  return b;
}
