/**
 * Stable cluster ids: each new cluster takes the old id it shares the most members with (greedy
 * on overlap, largest first); clusters left unmatched get fresh ids. `prev` holds each point's id
 * from the last round (-1 when it had none). Returns the id of each new cluster index and the next
 * free id.
 */
export function matchIds(
  prev: Int32Array,
  assign: Int32Array,
  n: number,
  k: number,
  nextId: number,
): { ids: Int32Array; nextId: number } {
  const overlap = new Map<number, Int32Array>();
  for (let i = 0; i < n; i++) {
    const p = prev[i]!;
    if (p < 0) continue;
    let row = overlap.get(p);
    if (!row) overlap.set(p, (row = new Int32Array(k)));
    row[assign[i]!]!++;
  }
  const pairs: [count: number, prevId: number, c: number][] = [];
  for (const [p, row] of overlap) for (let c = 0; c < k; c++) if (row[c]! > 0) pairs.push([row[c]!, p, c]);
  pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  const ids = new Int32Array(k).fill(-1);
  const taken = new Set<number>();
  for (const [, p, c] of pairs) {
    if (ids[c] !== -1 || taken.has(p)) continue;
    ids[c] = p;
    taken.add(p);
  }
  for (let c = 0; c < k; c++) {
    if (ids[c] !== -1) continue;
    while (taken.has(nextId)) nextId++;
    ids[c] = nextId++;
  }
  return { ids, nextId };
}
