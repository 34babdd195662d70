import type { Batch } from './batch.js';
import { hintId } from '../series/hashtable.js';

/**
 * Fills `b.seriesHint` with each series' id as guessed from the registry's shared identity slots
 * (null: not known yet, every hint -1) and marks the batch `hinted`. Runs in a decode worker, so
 * the main thread's lookups become a check of the guess.
 */
export function fillHints(b: Batch, identity: Int32Array | null): void {
  const hint = b.seriesHint;
  const n = b.seriesCount;
  b.hinted = true;
  if (identity === null) {
    hint.fill(-1, 0, n);
    return;
  }
  const lo = b.seriesHashLo;
  for (let s = 0; s < n; s++) hint[s] = hintId(identity, lo[s]!);
}
