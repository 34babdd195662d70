import { grown, type GrowSteps, type SeriesComponent } from '../series/component.js';

/** Calibrated level (sigmas) at which a sample starts a surprise event. */
const EVENT_Z = 3;
const KEEP = 4;
const DAY = 86_400_000;
/** Relative tolerance on the interval between events for them to count as periodic. */
const TOL = 0.03;

/**
 * Remembers the start times of a series' last few surprise events. An event that starts one
 * interval after an earlier pair with the same interval (a cron job's spike every day, a batch
 * every 8 hours) is recurring, i.e. expected, whatever the period; so is one that starts about one
 * or two days after a remembered one (a nightly job). `update` returns 1 while such an event lasts.
 */
export class Recurrence implements SeriesComponent {
  /** Start times in whole seconds since the epoch, 0 for none: the tolerances are far wider. */
  starts = new Uint32Array(0);
  state = new Uint8Array(0);

  *grow(capacity: number, used: () => number): GrowSteps {
    this.starts = yield* grown(this.starts, capacity, used, KEEP);
    this.state = yield* grown(this.state, capacity, used);
  }

  reset(id: number): void {
    this.starts.fill(0, id * KEEP, id * KEEP + KEEP);
    this.state[id] = 0;
  }

  /**
   * Whether `update` has anything to do for this sample: the series is in an event, or `z` starts
   * one. Most samples are quiet; this check is small enough to be inlined where `update` is not.
   */
  engaged(id: number, z: number, eventZ = EVENT_Z): boolean {
    return this.state[id] !== 0 || z >= eventZ;
  }

  /** state: 0 quiet, 1 in a novel event, 2 in a recurring event. Returns 1 if recurring. */
  update(id: number, tMs: number, z: number, dtMs: number, eventZ = EVENT_Z): number {
    const st = this.state[id]!;
    if (st !== 0) {
      if (z < eventZ * 0.5) { this.state[id] = 0; return 0; }
      return st === 2 ? 1 : 0;
    }
    if (z < eventZ) return 0;
    const b = id * KEEP;
    const s = this.starts;
    let recurring = 0;
    for (let i = 0; i < KEEP - 1 && recurring === 0; i++) {
      const si = s[b + i]!;
      if (si === 0) break;
      const ei = si * 1000;
      const d1 = tMs - ei;
      for (let j = i + 1; j < KEEP; j++) {
        const sj = s[b + j]!;
        if (sj === 0) break;
        const d2 = ei - sj * 1000;
        const diff = d1 - d2;
        if ((diff < 0 ? -diff : diff) <= TOL * d1 + 1.5 * dtMs) { recurring = 1; break; }
      }
    }
    if (recurring === 0) {
      // A daily event (a backup, a cron job): one started about one or two days ago.
      for (let i = 0; i < KEEP; i++) {
        const si = s[b + i]!;
        if (si === 0) break;
        const d = tMs - si * 1000;
        const off = d - Math.round(d / DAY) * DAY;
        if (d > 0.5 * DAY && d < 2.5 * DAY && (off < 0 ? -off : off) <= TOL * DAY * 0.5 + 1.5 * dtMs) { recurring = 1; break; }
      }
    }
    for (let i = KEEP - 1; i > 0; i--) s[b + i] = s[b + i - 1]!;
    const sec = Math.round(tMs / 1000);
    s[b] = sec < 1 ? 1 : sec > 0xffffffff ? 0xffffffff : sec;
    this.state[id] = recurring === 1 ? 2 : 1;
    return recurring;
  }
}
