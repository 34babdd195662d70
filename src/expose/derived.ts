import type { SeriesRegistry } from '../series/registry.js';
import { escapeHelp, formatValue } from './format.js';

/** One derived family with one series per scored series, read from a typed array by id. */
export interface SeriesFamily {
  readonly name: string;
  readonly help: string;
  /** Extra label text appended inside the braces, e.g. `,horizon="1h"` (leading comma). */
  readonly extraLabels: string;
  /** Fetched once per render chunk: arrays are reallocated when the registry grows. */
  values(): ArrayLike<number>;
  /** Lines whose value is NaN are left out (no band before warm-up, for example). */
  readonly skipNaN: boolean;
}

/** Families that are not per series (group ratios, cluster sizes): rendered whole. */
export interface TextFamily {
  readonly name: string;
  render(openMetrics: boolean): string;
}

const TIME_SLICE_MS = 8;

/**
 * Renders the derived families in slices of at most a few milliseconds, so `/metrics` for a
 * hundred thousand series never holds the event loop. Yields text chunks.
 */
export async function* renderDerived(
  registry: SeriesRegistry,
  families: readonly SeriesFamily[],
  textFamilies: readonly TextFamily[],
  openMetrics: boolean,
): AsyncGenerator<string> {
  for (const f of families) {
    yield `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} gauge\n`;
    const prefix = f.name + '{';
    const suffix = f.extraLabels + '} ';
    let id = 0;
    while (id < registry.highWater) {
      const started = performance.now();
      let chunk = '';
      const alive = registry.exposed;
      const text = registry.labelText;
      const values = f.values();
      const skip = f.skipNaN;
      const hw = registry.highWater;
      for (let n = 0; id < hw; id++) {
        if (alive[id] !== 1) continue;
        const v = values[id]!;
        if (skip && v !== v) continue;
        chunk += prefix + text[id] + suffix + formatValue(v) + '\n';
        if (++n === 512) {
          n = 0;
          if (performance.now() - started > TIME_SLICE_MS) {
            id++;
            break;
          }
        }
      }
      if (chunk !== '') yield chunk;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  for (const t of textFamilies) {
    const s = t.render(openMetrics);
    if (s !== '') yield s;
  }
}
