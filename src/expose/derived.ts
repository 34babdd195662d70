import type { SeriesRegistry } from '../series/registry.js';
import { escapeHelp } from './format.js';
import { writeValue } from './value-writer.js';

/** One member of a family: extra labels and the typed array it reads by series id. */
export interface FamilyVariant {
  /** Extra label text appended inside the braces, e.g. `,horizon="1h"` (leading comma). */
  readonly extraLabels: string;
  /** Fetched once per render chunk: arrays are reallocated when the registry grows. */
  values(): ArrayLike<number>;
}

/** One derived family with one series per scored series (and variant). */
export interface SeriesFamily {
  readonly name: string;
  readonly help: string;
  readonly variants: readonly FamilyVariant[];
  /** Lines whose value is NaN (no band before warm-up) or negative (no cluster) are left out. */
  readonly skip: 'nan' | 'negative' | 'none';
}

/** Families that are not per series (group ratios, cluster sizes): rendered whole. */
export interface TextFamily {
  readonly name: string;
  render(openMetrics: boolean): string;
}

const TIME_SLICE_MS = 4;
/**
 * Chunks stay small: a multi-megabyte chunk is handed to the socket in one go, which held the
 * event loop for hundreds of milliseconds.
 */
const CHUNK_BYTES = 128 * 1024;

/**
 * Renders the derived families in slices of at most a few milliseconds, so `/metrics` for a
 * hundred thousand series never holds the event loop. Yields text chunks.
 */
export async function* renderDerived(
  registry: SeriesRegistry,
  families: readonly SeriesFamily[],
  textFamilies: readonly TextFamily[],
  openMetrics: boolean,
): AsyncGenerator<string | Buffer> {
  for (const f of families) {
    if (f.variants.length === 0) continue;
    yield `# HELP ${f.name} ${escapeHelp(f.help, openMetrics)}\n# TYPE ${f.name} gauge\n`;
    for (const variant of f.variants) yield* renderVariant(registry, f, variant);
  }
  for (const t of textFamilies) {
    const s = t.render(openMetrics);
    if (s !== '') yield s;
  }
}

async function* renderVariant(registry: SeriesRegistry, f: SeriesFamily, variant: FamilyVariant): AsyncGenerator<Buffer> {
  const prefix = f.name + '{';
  const suffix = variant.extraLabels + '} ';
  const fixedBytes = Buffer.byteLength(prefix) + Buffer.byteLength(suffix) + 32;
  const skipNaN = f.skip === 'nan';
  const skipNegative = f.skip === 'negative';
  let id = 0;
  while (id < registry.highWater) {
    const started = performance.now();
    // Lines are written straight into a buffer: building them as strings left a hundred
    // megabytes of garbage per scrape at 100,000 series, and its collection held the loop.
    let buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let pos = 0;
    const alive = registry.exposed;
    const text = registry.labelText;
    const values = variant.values();
    const hw = registry.highWater;
    for (let n = 0; id < hw; id++) {
      if (alive[id] !== 1) continue;
      const v = values[id]!;
      if ((skipNaN && v !== v) || (skipNegative && v < 0)) continue;
      const t = text[id]!;
      const need = fixedBytes + 3 * t.length;
      if (pos + need > buf.length) {
        if (pos > 0) break;
        buf = Buffer.allocUnsafe(need);
      }
      pos += buf.write(prefix, pos, 'latin1');
      pos += buf.write(t, pos, 'utf8');
      pos += buf.write(suffix, pos, 'latin1');
      pos = writeValue(buf, pos, v);
      buf[pos++] = 10;
      if (++n === 64) {
        n = 0;
        if (performance.now() - started > TIME_SLICE_MS) {
          id++;
          break;
        }
      }
    }
    if (pos > 0) yield buf.subarray(0, pos);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
