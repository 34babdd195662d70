/**
 * Open-addressing hash table from a 64-bit series identity (two 32-bit halves plus the canonical
 * key length) to a series id. Linear probing with backward-shift deletion, so no tombstones.
 *
 * A slot is a pair (id, low hash half) in one Int32Array, so a probe compares the low half without
 * leaving the slot's cache line. The pairs live in shared memory: decode workers read them, racing
 * with the main thread's writes, to guess each decoded series' id (`hintId`). A guess is only a
 * hint: the main thread checks it against the series' own identity before using it.
 */
export class IdentityTable {
  private slots: Int32Array;
  private mask: number;
  private size = 0;

  constructor(
    private readonly hashHi: () => Uint32Array,
    private readonly keyLen: () => Int32Array,
    initial = 1 << 12,
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
    if ((this.size + 1) * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
    const slots = this.slots;
    let i = lo & this.mask;
    while (slots[2 * i]! >= 0) i = (i + 1) & this.mask;
    slots[2 * i + 1] = lo;
    slots[2 * i] = id;
    this.size++;
  }

  remove(id: number, lo: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = lo & mask;
    while (slots[2 * i] !== id) {
      if (slots[2 * i]! < 0) return;
      i = (i + 1) & mask;
    }
    // Backward-shift: pull later members of the probe run into the hole when their home allows.
    let hole = i;
    let j = (i + 1) & mask;
    while (slots[2 * j]! >= 0) {
      const home = slots[2 * j + 1]! & mask;
      const dist = (j - home) & mask;
      const holeDist = (j - hole) & mask;
      if (dist >= holeDist) {
        slots[2 * hole + 1] = slots[2 * j + 1]!;
        slots[2 * hole] = slots[2 * j]!;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    slots[2 * hole] = -1;
    this.size--;
  }

  private rehash(n: number): void {
    const old = this.slots;
    const slots = sharedSlots(n);
    const mask = n - 1;
    for (let k = 0; k < old.length; k += 2) {
      const id = old[k]!;
      if (id < 0) continue;
      const lo = old[k + 1]!;
      let i = lo & mask;
      while (slots[2 * i]! >= 0) i = (i + 1) & mask;
      slots[2 * i + 1] = lo;
      slots[2 * i] = id;
    }
    this.slots = slots;
    this.mask = mask;
  }
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
