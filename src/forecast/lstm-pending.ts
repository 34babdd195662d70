/**
 * Windows of one peer group waiting for their targets, as parallel typed arrays (row k: series
 * id, bucket count when taken, the normalised window plus its scale, per horizon the last value
 * until the target arrives and then the normalised change, and whether it arrived). Rows are
 * reused round after round: a round allocates nothing once the pool has reached its working size,
 * so the main thread's garbage collector has no per-window objects to trace or promote.
 */
export class PendingWindows {
  count = 0;
  id: Int32Array;
  n: Uint32Array;
  /** `width` values per row: the window, then its scale. */
  x: Float32Array;
  y: Float32Array;
  got: Uint8Array;

  constructor(
    readonly width: number,
    readonly outputs: number,
    private readonly max: number,
    initial = 128,
  ) {
    const c = Math.min(initial, max);
    this.id = new Int32Array(c);
    this.n = new Uint32Array(c);
    this.x = new Float32Array(c * width);
    this.y = new Float32Array(c * outputs);
    this.got = new Uint8Array(c * outputs);
  }

  get full(): boolean {
    return this.count >= this.max;
  }

  /** Appends a row (growing the pool if needed) and returns its index; -1 when full. */
  push(id: number, n: number): number {
    if (this.count >= this.max) return -1;
    if (this.count === this.id.length) this.grow(Math.min(this.max, this.id.length * 2));
    const k = this.count++;
    this.id[k] = id;
    this.n[k] = n;
    this.got.fill(0, k * this.outputs, (k + 1) * this.outputs);
    return k;
  }

  /** Copies row `from` onto row `to` (to <= from), for compaction in order. */
  move(from: number, to: number): void {
    if (from === to) return;
    const w = this.width;
    const o = this.outputs;
    this.id[to] = this.id[from]!;
    this.n[to] = this.n[from]!;
    this.x.copyWithin(to * w, from * w, from * w + w);
    this.y.copyWithin(to * o, from * o, from * o + o);
    this.got.copyWithin(to * o, from * o, from * o + o);
  }

  private grow(c: number): void {
    const id = new Int32Array(c);
    id.set(this.id);
    const n = new Uint32Array(c);
    n.set(this.n);
    const x = new Float32Array(c * this.width);
    x.set(this.x);
    const y = new Float32Array(c * this.outputs);
    y.set(this.y);
    const got = new Uint8Array(c * this.outputs);
    got.set(this.got);
    this.id = id;
    this.n = n;
    this.x = x;
    this.y = y;
    this.got = got;
  }
}
