/**
 * Open-addressing hash table from a 64-bit series identity (two 32-bit halves plus the canonical
 * key length) to a series id. Linear probing with backward-shift deletion, so no tombstones.
 *
 * A slot is a pair (id, low hash half) in one Int32Array, so a probe compares the low half without
 * leaving the slot's cache line. The pairs live in shared memory: decode workers read them, racing
 * with the main thread's writes, to guess each decoded series' id (`hintId`). A guess is only a
 * hint: the main thread checks it against the series' own identity before using it.
 *
 * The table doubles at half load. Rebuilding it at once took 90 ms at half a million series, so it
 * is rebuilt as it fills: from 3/8 load each insert fills a share of the next table and moves a
 * share of the slots into it, while the current one stays complete and answers every lookup;
 * inserts and removals meanwhile are applied to both. At half load the next table takes over.
 */
export class IdentityTable {
  private slots: Int32Array;
  private mask: number;
  private size = 0;
  /** The table being built (see above), how much of it is filled with -1, and the next old slot to move. */
  private next: Int32Array | null = null;
  private nextMask = 0;
  private filled = 0;
  private cursor = 0;

  /** `limit`: the most entries it will hold (no next table is built that could never take over). */
  constructor(
    private readonly hashHi: () => Uint32Array,
    private readonly keyLen: () => Int32Array,
    initial = 1 << 12,
    private readonly limit = Infinity,
  ) {
    this.slots = sharedSlots(initial);
    this.mask = initial - 1;
  }

  get count(): number {
    return this.size;
  }

  /** The shared slot pairs, for `hintId` in another thread; a new array after each rehash. */
  get shared(): Int32Array {
    return this.slots;
  }

  find(lo: number, hi: number, len: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = lo & mask;
    for (;;) {
      const id = slots[2 * i]!;
      if (id < 0) return -1;
      if (slots[2 * i + 1] === (lo | 0) && this.hashHi()[id] === hi && this.keyLen()[id] === len) return id;
      i = (i + 1) & mask;
    }
  }

  insert(id: number, lo: number): void {
    const n = this.mask + 1;
    if ((this.size + 1) * 2 > n) {
      while (this.next === null || this.cursor < n) this.migrate(n);
      this.slots = this.next;
      this.mask = this.nextMask;
      this.next = null;
    } else if (this.size * 8 >= n * 3 && this.limit * 2 > n) this.migrate(MIGRATE_SLOTS);
    put(this.slots, this.mask, id, lo);
    this.size++;
    if (this.next !== null && this.filled === this.next.length) putIfAbsent(this.next, this.nextMask, id, lo);
  }

  /**
   * One share of the rebuild: fills the next table with -1 (once filled, inserts are applied to it
   * too), then moves up to `count` old slots into it, skipping entries already there.
   */
  private migrate(count: number): void {
    if (this.next === null) {
      this.next = new Int32Array(new SharedArrayBuffer((this.mask + 1) * 16));
      this.nextMask = (this.mask + 1) * 2 - 1;
      this.filled = 0;
      this.cursor = 0;
    }
    const next = this.next;
    if (this.filled < next.length) {
      const end = Math.min(next.length, this.filled + count * FILL_PER_SLOT);
      next.fill(-1, this.filled, end);
      this.filled = end;
      return;
    }
    const old = this.slots;
    const end = Math.min(this.mask + 1, this.cursor + count);
    for (let k = this.cursor; k < end; k++) {
      const id = old[2 * k]!;
      if (id >= 0) putIfAbsent(next, this.nextMask, id, old[2 * k + 1]!);
    }
    this.cursor = end;
  }

  remove(id: number, lo: number): void {
    // While the next table is built, an entry the shift below moves from a slot not yet moved to
    // one already moved would be missed: every entry it moves is put into the next table.
    const next = this.next !== null && this.filled === this.next.length ? this.next : null;
    if (!take(this.slots, this.mask, id, lo, next, this.nextMask)) return;
    this.size--;
    if (next !== null) take(next, this.nextMask, id, lo, null, 0);
  }
}

/** Old slots moved per insert from 3/8 load: the whole table is moved before half load, with room to spare. */
const MIGRATE_SLOTS = 16;
/** Int32 entries of the next table filled per slot of a share: it has four per old slot. */
const FILL_PER_SLOT = 8;

function put(slots: Int32Array, mask: number, id: number, lo: number): void {
  let i = lo & mask;
  while (slots[2 * i]! >= 0) i = (i + 1) & mask;
  slots[2 * i + 1] = lo;
  slots[2 * i] = id;
}

function putIfAbsent(slots: Int32Array, mask: number, id: number, lo: number): void {
  let i = lo & mask;
  for (;;) {
    const at = slots[2 * i]!;
    if (at === id) return;
    if (at < 0) break;
    i = (i + 1) & mask;
  }
  slots[2 * i + 1] = lo;
  slots[2 * i] = id;
}

/**
 * Removes `id` with backward-shift deletion (later members of the probe run are pulled into the
 * hole when their home allows), so that no tombstones are left. Each entry moved is also put into
 * `also` when given. Returns false when `id` is not there.
 */
function take(slots: Int32Array, mask: number, id: number, lo: number, also: Int32Array | null, alsoMask: number): boolean {
  let i = lo & mask;
  while (slots[2 * i] !== id) {
    if (slots[2 * i]! < 0) return false;
    i = (i + 1) & mask;
  }
  let hole = i;
  let j = (i + 1) & mask;
  while (slots[2 * j]! >= 0) {
    const home = slots[2 * j + 1]! & mask;
    const dist = (j - home) & mask;
    const holeDist = (j - hole) & mask;
    if (dist >= holeDist) {
      slots[2 * hole + 1] = slots[2 * j + 1]!;
      slots[2 * hole] = slots[2 * j]!;
      if (also !== null) putIfAbsent(also, alsoMask, slots[2 * j]!, slots[2 * j + 1]!);
      hole = j;
    }
    j = (j + 1) & mask;
  }
  slots[2 * hole] = -1;
  return true;
}

function sharedSlots(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 8)).fill(-1);
}

/** Probes per hint before giving up: runs are short at half load, and a racing write may leave a
 * worker's view without an empty slot for a moment. */
const HINT_PROBES = 32;

/**
 * The id whose slot holds the low hash half `lo`, read from a table's shared slots (see
 * `IdentityTable.shared`) in another thread, or -1. The main thread may be writing the slots at the
 * same time, so the answer can be wrong or stale: the caller verifies it.
 */
export function hintId(slots: Int32Array, lo: number): number {
  const mask = (slots.length >> 1) - 1;
  let i = lo & mask;
  for (let p = 0; p < HINT_PROBES; p++) {
    const id = slots[2 * i]!;
    if (id < 0) return -1;
    if (slots[2 * i + 1] === (lo | 0)) return id;
    i = (i + 1) & mask;
  }
  return -1;
}
