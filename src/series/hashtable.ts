/**
 * Open-addressing hash table from a 64-bit series identity (two 32-bit halves plus the canonical
 * key length) to a series id. Linear probing with backward-shift deletion, so no tombstones.
 */
export class IdentityTable {
  private slots: Int32Array;
  private mask: number;
  private size = 0;

  constructor(
    private readonly hashLo: () => Uint32Array,
    private readonly hashHi: () => Uint32Array,
    private readonly keyLen: () => Int32Array,
    initial = 1 << 12,
  ) {
    this.slots = new Int32Array(initial).fill(-1);
    this.mask = initial - 1;
  }

  get count(): number {
    return this.size;
  }

  find(lo: number, hi: number, len: number): number {
    const slots = this.slots;
    const los = this.hashLo();
    const his = this.hashHi();
    const lens = this.keyLen();
    let i = lo & this.mask;
    for (;;) {
      const id = slots[i]!;
      if (id < 0) return -1;
      if (los[id] === lo && his[id] === hi && lens[id] === len) return id;
      i = (i + 1) & this.mask;
    }
  }

  insert(id: number, lo: number): void {
    if ((this.size + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    let i = lo & this.mask;
    while (this.slots[i]! >= 0) i = (i + 1) & this.mask;
    this.slots[i] = id;
    this.size++;
  }

  remove(id: number, lo: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = lo & mask;
    while (slots[i] !== id) {
      if (slots[i]! < 0) return;
      i = (i + 1) & mask;
    }
    const los = this.hashLo();
    // Backward-shift: pull later members of the probe run into the hole when their home allows.
    let hole = i;
    let j = (i + 1) & mask;
    while (slots[j]! >= 0) {
      const home = los[slots[j]!]! & mask;
      const dist = (j - home) & mask;
      const holeDist = (j - hole) & mask;
      if (dist >= holeDist) {
        slots[hole] = slots[j]!;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    slots[hole] = -1;
    this.size--;
  }

  private rehash(n: number): void {
    const old = this.slots;
    const los = this.hashLo();
    this.slots = new Int32Array(n).fill(-1);
    this.mask = n - 1;
    for (let k = 0; k < old.length; k++) {
      const id = old[k]!;
      if (id < 0) continue;
      let i = los[id]! & this.mask;
      while (this.slots[i]! >= 0) i = (i + 1) & this.mask;
      this.slots[i] = id;
    }
  }
}
