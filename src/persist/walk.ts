import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';

/**
 * Generic walk of component objects for snapshots. Per-series state lives in typed arrays on class
 * instances (see src/series/component.ts); this module describes such an object graph as a JSON
 * manifest whose typed arrays and large string/number arrays are binary blobs, and restores a
 * manifest by assigning back into the same fields of freshly constructed objects.
 *
 * Kept: typed arrays (shared or not), numbers, booleans, strings, null, bigint, plain arrays, Maps,
 * Sets, plain objects and class instances (recursively, own enumerable fields). Skipped: functions,
 * Workers and other event emitters, timers, promises, raw ArrayBuffers/DataViews, and objects already
 * visited (back references).
 */

export type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export type Node =
  | { t: 'v'; v: string | number | boolean | null }
  | { t: 'n'; v: 'NaN' | 'Infinity' | '-Infinity' | '-0' }
  | { t: 'u' }
  | { t: 'bi'; v: string }
  | { t: 'x' }
  | { t: 'ta'; c: string; n: number; s: 0 | 1; b: number }
  | { t: 'sa'; n: number; b: number[] }
  | { t: 'na'; n: number; b: number }
  | { t: 'a'; e: Node[] }
  | { t: 'm'; k: unknown[]; e: Node[] }
  | { t: 'set'; v: unknown[] }
  | { t: 'o'; c: string; f: Record<string, Node> };

/** A blob the writer must emit: a typed array (maybe a synchronous copy) or strings in chunks. */
export type BlobJob = { kind: 'ta'; arr: TypedArray } | { kind: 'str'; arr: readonly unknown[]; from: number; to: number } | { kind: 'num'; arr: Float64Array };

export interface WalkOptions {
  /** Fields not to persist, per object (rebuilt by a restore hook instead). */
  skip?: Map<object, ReadonlySet<string>>;
  /** Objects whose typed and plain arrays are copied at walk time: a consistent cut of them. */
  copy?: Set<object>;
  /** Class names never persisted (their state lives elsewhere, e.g. in a worker). */
  skipClasses?: ReadonlySet<string>;
}

const STRING_CHUNK = 4096;
/** Plain arrays of at least this many strings or numbers go to blobs instead of the manifest. */
const BIG_ARRAY = 64;

const TYPED: Record<string, { new (n: number): TypedArray; new (b: ArrayBufferLike, o: number, n: number): TypedArray; BYTES_PER_ELEMENT: number }> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
} as never;

export function typedCtor(name: string): (typeof TYPED)[string] | undefined {
  return Object.prototype.hasOwnProperty.call(TYPED, name) ? TYPED[name] : undefined;
}

function isSkippedObject(v: object): boolean {
  if (v instanceof EventEmitter || v instanceof Promise || v instanceof ArrayBuffer || v instanceof DataView) return true;
  if (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer) return true;
  if (v instanceof WeakMap || v instanceof WeakSet || v instanceof WeakRef) return true;
  const name = (v as { constructor?: { name?: string } }).constructor?.name;
  return name === 'Timeout' || name === 'Immediate' || name === 'MessagePort' || name === 'Worker' || name === 'AbortController';
}

function isPlain(v: object): boolean {
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

function className(v: object): string {
  if (isPlain(v)) return 'Object';
  return (v as { constructor?: { name?: string } }).constructor?.name ?? 'Object';
}

function prim(v: unknown): Node | null {
  switch (typeof v) {
    case 'number':
      if (v !== v) return { t: 'n', v: 'NaN' };
      if (v === Infinity) return { t: 'n', v: 'Infinity' };
      if (v === -Infinity) return { t: 'n', v: '-Infinity' };
      if (v === 0 && 1 / v < 0) return { t: 'n', v: '-0' };
      return { t: 'v', v };
    case 'string':
    case 'boolean':
      return { t: 'v', v };
    case 'bigint':
      return { t: 'bi', v: v.toString() };
    case 'undefined':
      return { t: 'u' };
    case 'function':
    case 'symbol':
      return { t: 'x' };
    default:
      return v === null ? { t: 'v', v: null } : null;
  }
}

export function primValue(n: Node): unknown {
  switch (n.t) {
    case 'v':
      return n.v;
    case 'n':
      return n.v === 'NaN' ? NaN : n.v === 'Infinity' ? Infinity : n.v === '-Infinity' ? -Infinity : -0;
    case 'u':
      return undefined;
    case 'bi':
      return BigInt(n.v);
    default:
      return undefined;
  }
}

/** Walks `root`, returning the manifest tree and the blobs to write, in order (blob i = jobs[i]). */
export function describe(root: object, opts: WalkOptions = {}): { root: Node; jobs: BlobJob[] } {
  const jobs: BlobJob[] = [];
  const seen = new Set<object>();
  const skip = opts.skip ?? new Map();
  const copy = opts.copy ?? new Set();
  const skipClasses = opts.skipClasses ?? new Set();

  const visit = (v: unknown, copyArrays: boolean): Node => {
    const p = prim(v);
    if (p !== null) return p;
    const o = v as object;
    if (ArrayBuffer.isView(o) && !(o instanceof DataView)) {
      let arr = o as TypedArray;
      if (copyArrays) arr = arr.slice() as TypedArray;
      jobs.push({ kind: 'ta', arr });
      const shared = typeof SharedArrayBuffer !== 'undefined' && (o as TypedArray).buffer instanceof SharedArrayBuffer;
      return { t: 'ta', c: className(o), n: arr.length, s: shared ? 1 : 0, b: jobs.length - 1 };
    }
    if (isSkippedObject(o) || seen.has(o)) return { t: 'x' };
    seen.add(o);
    if (Array.isArray(o)) {
      const a = copyArrays ? o.slice() : o;
      if (a.length >= BIG_ARRAY && everyType(a, 'string')) {
        const b: number[] = [];
        for (let from = 0; from < a.length; from += STRING_CHUNK) {
          jobs.push({ kind: 'str', arr: a, from, to: Math.min(a.length, from + STRING_CHUNK) });
          b.push(jobs.length - 1);
        }
        return { t: 'sa', n: a.length, b };
      }
      if (a.length >= BIG_ARRAY && everyType(a, 'number') && a.every((x) => typeof x === 'number')) {
        jobs.push({ kind: 'num', arr: Float64Array.from(a as number[]) });
        return { t: 'na', n: a.length, b: jobs.length - 1 };
      }
      const e: Node[] = new Array(a.length);
      // A loop, not map(): holes become undefined rather than JSON nulls.
      for (let i = 0; i < a.length; i++) e[i] = visit(a[i], false);
      return { t: 'a', e };
    }
    if (o instanceof Map) {
      const k: unknown[] = [];
      const e: Node[] = [];
      for (const [key, val] of o) {
        const kp = prim(key);
        if (kp === null || kp.t !== 'v') continue;
        k.push(key);
        e.push(visit(val, false));
      }
      return { t: 'm', k, e };
    }
    if (o instanceof Set) {
      const vals: unknown[] = [];
      for (const x of o) if (typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)) || typeof x === 'boolean') vals.push(x);
      return { t: 'set', v: vals };
    }
    const c = className(o);
    if (skipClasses.has(c)) return { t: 'x' };
    const skipped = skip.get(o);
    const cp = copy.has(o);
    const f: Record<string, Node> = {};
    for (const key of Object.keys(o)) {
      if (skipped?.has(key)) continue;
      const child = visit((o as Record<string, unknown>)[key], cp);
      if (child.t !== 'x') f[key] = child;
    }
    return { t: 'o', c, f };
  };
  return { root: visit(root, false), jobs };
}

/** Whether `a` holds `type` values: a sample of the elements (a full scan of millions costs too much). */
function everyType(a: readonly unknown[], type: 'string' | 'number'): boolean {
  const step = Math.max(1, a.length >> 10);
  for (let i = 0; i < a.length; i += step) if (typeof a[i] !== type) return false;
  return typeof a[a.length - 1] === type;
}

/**
 * Structure of an object graph: class names, field names and kinds (not values, not lengths).
 * Computed on freshly constructed objects, it changes when code adds, removes or retypes a field.
 */
export function fingerprint(root: object, opts: WalkOptions = {}): string {
  const seen = new Set<object>();
  const skip = opts.skip ?? new Map();
  const out: string[] = [];
  const kind = (v: unknown, depth: number): string => {
    if (v === null) return 'null';
    if (typeof v !== 'object') return typeof v;
    const o = v as object;
    if (ArrayBuffer.isView(o)) return className(o);
    if (isSkippedObject(o)) return 'skip';
    if (Array.isArray(o)) return 'array';
    if (o instanceof Map) return 'map';
    if (o instanceof Set) return 'set';
    if (seen.has(o) || depth > 32) return 'ref';
    seen.add(o);
    const c = className(o);
    if (opts.skipClasses?.has(c)) return 'skip';
    const skipped = skip.get(o);
    const fields: string[] = [];
    for (const key of Object.keys(o)) {
      if (skipped?.has(key)) continue;
      fields.push(`${key}:${kind((o as Record<string, unknown>)[key], depth + 1)}`);
    }
    out.push(`${c}{${fields.join(',')}}`);
    return c;
  };
  kind(root, 0);
  return createHash('sha256').update(out.join('\n')).digest('hex').slice(0, 32);
}

/** Prototypes of every class instance reachable from `root`, by class name, for restoring new instances. */
export function collectClasses(root: object, into = new Map<string, object>()): Map<string, object> {
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || isSkippedObject(v) || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v instanceof Map) for (const x of v.values()) walk(x);
    else if (!(v instanceof Set)) {
      if (!isPlain(v)) into.set(className(v), Object.getPrototypeOf(v) as object);
      for (const key of Object.keys(v)) walk((v as Record<string, unknown>)[key]);
    }
  };
  walk(root);
  return into;
}
