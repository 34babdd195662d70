import { createHash } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, primValue, typedCtor, type BlobJob, type Node, type TypedArray, type WalkOptions } from './walk.js';

/**
 * Snapshot file format, version 1 (all integers little-endian):
 *
 *   header   "AUGURSNP" u32 version u32 0
 *   blobs    raw bytes, one after the other (typed arrays; JSON string chunks)
 *   manifest UTF-8 JSON: version, fingerprint, meta, the object tree (see walk.ts) and blob table
 *   trailer  u64 manifest offset, u32 manifest length, u32 0, sha256 of every byte before the
 *            trailer (32 bytes), "AUGUREND"
 *
 * Written to a temporary file in the same directory, fsynced, renamed over the previous snapshot,
 * and the directory fsynced: a crash at any point leaves either the previous or the new snapshot.
 */
export const SNAPSHOT_VERSION = 3;
const MAGIC = Buffer.from('AUGURSNP');
const END = Buffer.from('AUGUREND');
const HEADER = 16;
const TRAILER = 56;
/** Bytes copied, hashed and written per step: a few milliseconds of work per slice. */
const SLICE = 1024 * 1024;

export type FailureReason = 'corrupt' | 'truncated' | 'incompatible' | 'io';

export class SnapshotError extends Error {
  constructor(readonly reason: FailureReason, message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

export interface Manifest {
  version: number;
  fingerprint: string;
  createdAt: number;
  meta: Record<string, unknown>;
  root: Node;
  blobs: [number, number][];
}

export interface WriteResult {
  bytes: number;
  /** Longest synchronous stretch of the write, in ms (the walk and copies included). */
  maxBlockMs: number;
}

const yieldLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Writes a snapshot of `root` to `path` atomically. */
export async function writeSnapshot(path: string, root: object, opts: { fingerprint: string; meta: Record<string, unknown>; walk?: WalkOptions }): Promise<WriteResult> {
  let maxBlock = 0;
  let t0 = performance.now();
  const lap = (): void => {
    const t = performance.now();
    if (t - t0 > maxBlock) maxBlock = t - t0;
  };
  const { root: tree, jobs } = describe(root, opts.walk);
  lap();
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  const hash = createHash('sha256');
  let offset = 0;
  let ok = false;
  try {
    const put = async (b: Uint8Array): Promise<void> => {
      hash.update(b);
      lap();
      let done = 0;
      while (done < b.length) {
        const { bytesWritten } = await fh.write(b, done, b.length - done, offset + done);
        done += bytesWritten;
      }
      t0 = performance.now();
      offset += b.length;
    };
    const header = Buffer.alloc(HEADER);
    MAGIC.copy(header, 0);
    header.writeUInt32LE(SNAPSHOT_VERSION, 8);
    await put(header);
    const blobs: [number, number][] = [];
    const scratch = Buffer.allocUnsafeSlow(SLICE);
    for (const job of jobs) {
      const start = offset;
      await writeBlob(job, scratch, put);
      blobs.push([start, offset - start]);
    }
    const manifest: Manifest = { version: SNAPSHOT_VERSION, fingerprint: opts.fingerprint, createdAt: Date.now(), meta: opts.meta, root: tree, blobs };
    const mOffset = offset;
    const mBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
    await put(mBytes);
    const trailer = Buffer.alloc(TRAILER);
    lap();
    trailer.writeBigUInt64LE(BigInt(mOffset), 0);
    trailer.writeUInt32LE(mBytes.length, 8);
    hash.digest().copy(trailer, 16);
    END.copy(trailer, 48);
    let done = 0;
    while (done < TRAILER) done += (await fh.write(trailer, done, TRAILER - done, offset + done)).bytesWritten;
    offset += TRAILER;
    await fh.sync();
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await unlink(tmp).catch(() => undefined);
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
  return { bytes: offset, maxBlockMs: maxBlock };
}

async function writeBlob(job: BlobJob, scratch: Buffer, put: (b: Uint8Array) => Promise<void>): Promise<void> {
  if (job.kind === 'str') {
    const slice: unknown[] = new Array(job.to - job.from);
    for (let i = job.from; i < job.to; i++) slice[i - job.from] = job.arr[i];
    const json = JSON.stringify(slice);
    // Into the reused buffer when it fits: allocating buffers outside the V8 heap in a large
    // process provokes full, blocking garbage collections.
    if (json.length * 3 <= scratch.length) await put(scratch.subarray(0, scratch.write(json, 0, 'utf8')));
    else await put(Buffer.from(json, 'utf8'));
    return;
  }
  const arr = job.arr;
  for (let off = 0; off < arr.byteLength; off += SLICE) {
    const n = Math.min(SLICE, arr.byteLength - off);
    // Copy: the live array changes while the write is in flight, and must match what was hashed.
    // (Buffer#copy is a memcpy; Uint8Array#set across buffers can be 100 times slower.)
    Buffer.from(arr.buffer, arr.byteOffset + off, n).copy(scratch, 0);
    await put(scratch.subarray(0, n));
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some filesystems refuse to fsync a directory; the rename is still atomic.
  } finally {
    await fh?.close();
  }
}

/** Reads and verifies a snapshot: size, magic, checksum, then the manifest. Blobs are read later. */
export async function openSnapshot(path: string): Promise<SnapshotReader> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new SnapshotError('io', `cannot open ${path}: ${(e as Error).message}`);
  }
  try {
    const size = (await fh.stat()).size;
    if (size < HEADER + TRAILER) throw new SnapshotError('truncated', `${path}: ${size} bytes, shorter than a header and trailer`);
    const header = Buffer.alloc(HEADER);
    await readFully(fh, header, 0);
    if (!header.subarray(0, 8).equals(MAGIC)) throw new SnapshotError('corrupt', `${path}: not an Augur snapshot (bad magic)`);
    const version = header.readUInt32LE(8);
    if (version !== SNAPSHOT_VERSION) throw new SnapshotError('incompatible', `${path}: format version ${version}, this Augur reads version ${SNAPSHOT_VERSION}`);
    const trailer = Buffer.alloc(TRAILER);
    await readFully(fh, trailer, size - TRAILER);
    if (!trailer.subarray(48).equals(END)) throw new SnapshotError('truncated', `${path}: no end marker (truncated or incomplete write)`);
    const mOffset = Number(trailer.readBigUInt64LE(0));
    const mLen = trailer.readUInt32LE(8);
    if (mOffset < HEADER || mOffset + mLen !== size - TRAILER) throw new SnapshotError('corrupt', `${path}: manifest offset ${mOffset}+${mLen} does not match file size ${size}`);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafeSlow(SLICE);
    for (let off = 0; off < size - TRAILER; off += SLICE) {
      const n = Math.min(SLICE, size - TRAILER - off);
      await readFully(fh, buf.subarray(0, n), off);
      hash.update(buf.subarray(0, n));
    }
    if (!hash.digest().equals(trailer.subarray(16, 48))) throw new SnapshotError('corrupt', `${path}: checksum mismatch`);
    const mBytes = Buffer.alloc(mLen);
    await readFully(fh, mBytes, mOffset);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(mBytes.toString('utf8')) as Manifest;
    } catch (e) {
      throw new SnapshotError('corrupt', `${path}: manifest is not JSON: ${(e as Error).message}`);
    }
    if (manifest.version !== SNAPSHOT_VERSION || typeof manifest.fingerprint !== 'string' || !Array.isArray(manifest.blobs)) {
      throw new SnapshotError('corrupt', `${path}: malformed manifest`);
    }
    for (const b of manifest.blobs) {
      if (!Array.isArray(b) || !(b[0]! >= HEADER) || !(b[1]! >= 0) || b[0]! + b[1]! > mOffset) throw new SnapshotError('corrupt', `${path}: blob outside the file`);
    }
    return new SnapshotReader(fh, manifest, size);
  } catch (e) {
    await fh.close();
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError('io', `${path}: ${(e as Error).message}`);
  }
}

async function readFully(fh: FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await fh.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new SnapshotError('truncated', `unexpected end of file at ${position + done}`);
    done += bytesRead;
  }
}

const KEEP = Symbol('keep');

export interface RestoreStats {
  /** Fields left as freshly constructed (class instance that cannot be recreated, and the like). */
  kept: string[];
}

export class SnapshotReader {
  constructor(private readonly fh: FileHandle, readonly manifest: Manifest, readonly size: number) {}

  async close(): Promise<void> {
    await this.fh.close();
  }

  /**
   * Restores the manifest's tree into `root`, a freshly constructed object graph of the same
   * structure. New class instances (not present in `root`) are created from `classes`.
   */
  async restoreInto(root: object, classes: Map<string, object>, signal?: AbortSignal): Promise<RestoreStats> {
    const stats: RestoreStats = { kept: [] };
    const blob = async (i: number): Promise<Buffer> => {
      signal?.throwIfAborted();
      const [off, len] = this.manifest.blobs[i]!;
      const b = Buffer.allocUnsafeSlow(len);
      await readFully(this.fh, b, off);
      return b;
    };
    const restore = async (node: Node | null, cur: unknown, path: string): Promise<unknown> => {
      if (node === null || typeof node !== 'object') return undefined;
      switch (node.t) {
        case 'v':
        case 'n':
        case 'u':
        case 'bi':
          return primValue(node);
        case 'x':
          return KEEP;
        case 'ta': {
          const C = typedCtor(node.c);
          if (C === undefined) throw new SnapshotError('incompatible', `${path}: unknown typed array ${node.c}`);
          const shared = node.s === 1 || (ArrayBuffer.isView(cur) && (cur as TypedArray).buffer instanceof SharedArrayBuffer);
          const arr = shared ? new C(new SharedArrayBuffer(node.n * C.BYTES_PER_ELEMENT), 0, node.n) : new C(node.n);
          const [off, len] = this.manifest.blobs[node.b]!;
          if (len !== arr.byteLength) throw new SnapshotError('corrupt', `${path}: ${len} bytes for ${node.n} x ${node.c}`);
          const bytes = new Uint8Array(arr.buffer, 0, arr.byteLength);
          for (let p = 0; p < len; p += SLICE) {
            signal?.throwIfAborted();
            await readFully(this.fh, bytes.subarray(p, Math.min(len, p + SLICE)), off + p);
          }
          return arr;
        }
        case 'sa': {
          const out: unknown[] = [];
          for (const b of node.b) {
            const part = JSON.parse((await blob(b)).toString('utf8')) as unknown[];
            for (let i = 0; i < part.length; i++) out.push(part[i]);
          }
          if (out.length !== node.n) throw new SnapshotError('corrupt', `${path}: ${out.length} strings, expected ${node.n}`);
          return out;
        }
        case 'na': {
          const b = await blob(node.b);
          if (b.length !== node.n * 8) throw new SnapshotError('corrupt', `${path}: bad number array`);
          return Array.from(new Float64Array(b.buffer, b.byteOffset, node.n));
        }
        case 'a': {
          const c = Array.isArray(cur) ? cur : [];
          const out: unknown[] = new Array(node.e.length);
          for (let i = 0; i < node.e.length; i++) {
            const v = await restore(node.e[i]!, c[i], `${path}[${i}]`);
            if (v === KEEP) {
              stats.kept.push(`${path}[${i}]`);
              return KEEP;
            }
            out[i] = v;
          }
          return out;
        }
        case 'm': {
          const c = cur instanceof Map ? cur : new Map();
          const out = new Map<unknown, unknown>();
          for (let i = 0; i < node.k.length; i++) {
            const v = await restore(node.e[i]!, c.get(node.k[i]), `${path}.get(${String(node.k[i])})`);
            if (v === KEEP) {
              stats.kept.push(`${path}.get(${String(node.k[i])})`);
              return KEEP;
            }
            out.set(node.k[i], v);
          }
          return out;
        }
        case 'set':
          return new Set(node.v);
        case 'o': {
          let target: Record<string, unknown>;
          if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && ((node.c === 'Object' && Object.getPrototypeOf(cur) === Object.prototype) || (cur as object).constructor?.name === node.c)) {
            target = cur as Record<string, unknown>;
          } else if (node.c === 'Object') {
            target = {};
          } else {
            const proto = classes.get(node.c);
            if (proto === undefined) return KEEP;
            target = Object.create(proto) as Record<string, unknown>;
          }
          for (const [key, child] of Object.entries(node.f)) {
            const v = await restore(child, target[key], `${path}.${key}`);
            if (v === KEEP) {
              if (child.t !== 'x') stats.kept.push(`${path}.${key}`);
              continue;
            }
            // Snapshots go into fresh objects of the same code: `readonly` fields included.
            Object.defineProperty(target, key, { value: v, writable: true, enumerable: true, configurable: true });
          }
          return target;
        }
      }
    };
    const result = await restore(this.manifest.root, root, 'root');
    if (result !== root) throw new SnapshotError('incompatible', 'snapshot root does not match');
    return stats;
  }
}

/** Moves a bad snapshot aside (`<path>.bad-<unix ms>`) so that the next start does not trip on it. */
export async function moveAside(path: string): Promise<string | null> {
  const to = `${path}.bad-${Date.now()}`;
  try {
    await stat(path);
    await rename(path, to);
    return to;
  } catch {
    return null;
  }
}
