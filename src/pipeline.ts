import type { Batch } from './ingest/batch.js';
import { AugurError } from './errors.js';
import { SeriesRegistry, type SeriesInfo } from './series/registry.js';
import { grown, type GrowSteps, type SeriesComponent } from './series/component.js';
import { KIND_COUNTER } from './series/kind.js';
import type { Scorer } from './detect/scorer.js';
import type { ForecastEngine } from './forecast/engine.js';
import type { PeerEngine } from './cluster/engine.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * How far ahead of Augur's clock a sample may be (clock skew between hosts). One later sample would
 * otherwise become the series' latest and every true sample after it would be out of order, while
 * each request kept the series from going stale.
 */
export const FUTURE_TOLERANCE_MS = 10 * 60_000;

/**
 * A counter's rate is known only as well as its sample times: a scrape a few milliseconds late
 * changes a steady rate by a part in a thousand, which a perfectly steady counter would otherwise
 * score as a many-sigma event. Prometheus takes scrape times to the millisecond and moves a late
 * one by up to several.
 */
const RATE_JITTER_S = 0.01;
/** Of an integer counter's smallest step (one event per interval): one event more or less is noise. */
const RATE_QUANTUM_SHARE = 0.5;
/**
 * An integer gauge counting things (open files, threads, samples per scrape) from this magnitude
 * on moves by whole units: a level shift is held as an anomaly only when it is large against one
 * unit too (see Scorer.observe's `quantum`). 22 open files becoming 24 after a quiet hour was held
 * critical for 15 minutes in a soak. Below it, a unit is the change itself (a 0/1 state such as
 * `up`, replicas 3 to 1).
 */
const GAUGE_MIN_COUNT = 10;
const GAUGE_QUANTUM = 1;
/**
 * A counter that has not moved since its last change is scored again (at rate 0) once it has been
 * still for this many of its usual intervals between changes: a counter that moves once a minute
 * (Prometheus's metadata sends, a batch) is scored on its steps' rate, not as 11 zeros and a
 * spike per minute at 5 s scrapes, and one that stops is still caught.
 */
const STALL_CADENCES = 3;
/** How fast the usual interval between changes follows; one change moves it by at most x(1 + 3 r). */
const CADENCE_RATE = 0.1;

/** Counts the pipeline keeps for Augur's own metrics; plain numbers, read at scrape time. */
export class PipelineStats {
  samplesScored = 0;
  samplesOutOfOrder = 0;
  /** Samples more than FUTURE_TOLERANCE_MS ahead of the receiving clock, dropped. */
  samplesTooFarAhead = 0;
  samplesNonFinite = 0;
  /** Counter samples equal to the counter's last change, within its usual cadence: not scored. */
  samplesCounterUnchanged = 0;
  staleMarkers = 0;
  histograms = 0;
  exemplars = 0;
  kindChanges = 0;
  /** Samples of Augur's own derived families, sent back by Prometheus, which are not scored. */
  samplesDerivedIgnored = 0;
}

/** The last value each series was scored on (the per-second rate for counters), for the API. */
class LastValue implements SeriesComponent {
  value = new Float64Array(0);
  *grow(capacity: number, used: () => number): GrowSteps {
    this.value = yield* grown(this.value, capacity, used);
  }
  reset(id: number): void {
    this.value[id] = NaN;
  }
}

/**
 * Per-series memory of a counter's last change (raw value and time), to score counters on their
 * rate between changes, and its usual interval between changes (0 before the first).
 */
class CounterState implements SeriesComponent {
  prevValue = new Float64Array(0);
  prevTimeMs = new Float64Array(0);
  cadenceMs = new Float32Array(0);
  *grow(capacity: number, used: () => number): GrowSteps {
    this.prevValue = yield* grown(this.prevValue, capacity, used);
    this.prevTimeMs = yield* grown(this.prevTimeMs, capacity, used);
    this.cadenceMs = yield* grown(this.cadenceMs, capacity, used);
  }
  reset(id: number): void {
    this.prevValue[id] = NaN;
    this.prevTimeMs[id] = NaN;
    this.cadenceMs[id] = 0;
  }
}

/**
 * The scoring path shared by `serve` and `backtest`: series identity and kind, counter rates,
 * staleness markers and ordering, then every model, all on the request path and allocation-free
 * for a known series.
 */
export class Pipeline {
  readonly stats = new PipelineStats();
  private readonly counters = new CounterState();
  private readonly last = new LastValue();
  private ids = new Int32Array(1024);
  private resolvedFor: Batch | null = null;

  constructor(
    readonly registry: SeriesRegistry,
    readonly scorer: Scorer,
    readonly forecast: ForecastEngine | null,
    readonly peers: PeerEngine | null,
    private readonly profileFor: (info: SeriesInfo) => number,
  ) {
    registry.addComponent(this.counters);
    registry.addComponent(this.last);
    registry.addComponent(scorer);
    if (forecast !== null) registry.addComponent(forecast);
    if (peers !== null) registry.addComponent(peers);
    registry.onCreate((info) => this.setUp(info));
    if (peers !== null) registry.onRemove((id) => peers.removeSeries(id));
    if (forecast !== null) {
      // A removed series leaves the forecasts, breach times and model usage at once, not when its
      // id is reused, and its group too (the LSTM's rounds walk every id); a freed group's data
      // goes (its id may name another pair next).
      registry.onRemove((id) => forecast.remove(id));
      registry.onGroupFree((g) => forecast.lstm?.dropGroup(g));
    }
  }

  /** What a series' models take from its labels: the selector profile, its group, its peer group. */
  private setUp(info: SeriesInfo): void {
    const { scorer, forecast, peers } = this;
    const p = this.profileFor(info);
    const group = this.registry.group[info.id]!;
    scorer.setProfile(info.id, p);
    scorer.setGroup(info.id, group);
    if (forecast !== null) {
      forecast.setProfile(info.id, p);
      forecast.setGroup(info.id, group);
    }
    if (peers !== null) peers.addSeries(info.id, info.name, info.labels);
  }

  get lastValue(): Float64Array {
    return this.last.value;
  }

  async start(): Promise<void> {
    this.scorer.start();
    this.peers?.start();
    await this.forecast?.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.scorer.stop(), this.forecast?.stop(), this.peers?.stop()]);
  }

  /** True when every series of the batch is already known (a lite batch then suffices). */
  allKnown(batch: Batch): boolean {
    const ids = this.resolve(batch);
    for (let s = 0; s < batch.seriesCount; s++) if (ids[s]! < 0) return false;
    this.resolvedFor = batch;
    return true;
  }

  /** Looks up every series of the batch into `this.ids` (-1 for a series not seen yet). */
  private resolve(batch: Batch): Int32Array {
    const reg = this.registry;
    const n = batch.seriesCount;
    if (this.ids.length < n) this.ids = new Int32Array(Math.max(n, this.ids.length * 2));
    const ids = this.ids;
    const lo = batch.seriesHashLo, hi = batch.seriesHashHi, len = batch.seriesKeyLen;
    if (batch.hinted) {
      const hint = batch.seriesHint;
      for (let s = 0; s < n; s++) ids[s] = reg.findHinted(hint[s]!, lo[s]!, hi[s]!, len[s]!);
    } else {
      for (let s = 0; s < n; s++) ids[s] = reg.find(lo[s]!, hi[s]!, len[s]!);
    }
    return ids;
  }

  /**
   * Applies a decoded request. Every series is resolved (and new label sets validated) before any
   * sample is scored, so a request that is rejected changes no model. Returns the samples written:
   * all but those dropped as out of order or as Augur's own derived series.
   */
  ingest(batch: Batch, nowMs: number): number {
    const reg = this.registry;
    const n = batch.seriesCount;
    // allKnown() has just resolved this batch (nothing can run in between): reuse its lookups.
    const ids = this.resolvedFor === batch ? this.ids : this.resolve(batch);
    this.resolvedFor = null;
    for (let s = 0; s < n; s++) if (ids[s]! < 0) validateUtf8(batch, s);
    if (batch.metadataCount > 0) {
      // Every family name is checked before any is applied: a rejected request changes nothing.
      const names: string[] = new Array(batch.metadataCount);
      for (let m = 0; m < batch.metadataCount; m++) {
        try {
          names[m] = utf8.decode(batch.buf.subarray(batch.metaNameStart[m]!, batch.metaNameEnd[m]!));
        } catch {
          throw new AugurError('INVALID_UTF8', `metadata entry ${m} has a metric family name that is not valid UTF-8`);
        }
      }
      for (let m = 0; m < batch.metadataCount; m++) reg.setMetadata(names[m]!, batch.metaType[m]!);
    }
    let accepted = 0;
    const stats = this.stats;
    const droppedBefore = stats.samplesOutOfOrder + stats.samplesDerivedIgnored + stats.samplesTooFarAhead;
    const latest = nowMs + FUTURE_TOLERANCE_MS;
    const evicted = reg.evicted;
    for (let s = 0; s < n; s++) {
      let id = ids[s]!;
      // An eviction earlier in this request may have freed, and handed on, an id resolved above.
      if (id < 0 || reg.evicted !== evicted) {
        id = reg.find(batch.seriesHashLo[s]!, batch.seriesHashHi[s]!, batch.seriesKeyLen[s]!);
        if (id < 0) id = this.createFromBatch(batch, s, nowMs);
      }
      // Metadata alone (a v2 series without samples) may set the kind too.
      if (reg.refreshKind(id, batch.seriesType[s]!)) this.resetModels(id);
      reg.touch(id, nowMs);
      const count = batch.seriesSampleCount[s]!;
      const start = batch.seriesSampleStart[s]!;
      for (let k = start; k < start + count; k++) {
        const t = batch.sampleTime[k]!;
        if (t > latest) stats.samplesTooFarAhead++;
        else this.observe(id, t, batch.sampleValue[k]!, batch.sampleStale[k]!);
      }
      accepted += count;
    }
    stats.histograms += batch.histogramCount;
    stats.exemplars += batch.exemplarCount;
    return accepted - (stats.samplesOutOfOrder + stats.samplesDerivedIgnored + stats.samplesTooFarAhead - droppedBefore);
  }

  /** One sample of series `id` at sample time `tMs`; `stale` marks Prometheus's stale NaN. */
  observe(id: number, tMs: number, value: number, stale: number): void {
    const reg = this.registry;
    if (reg.ignored[id] === 1) {
      this.stats.samplesDerivedIgnored++;
      return;
    }
    // A stale marker is a sample too: one older than the series' latest does not end it.
    if (!(tMs > reg.lastTimeMs[id]!)) {
      this.stats.samplesOutOfOrder++;
      return;
    }
    reg.lastTimeMs[id] = tMs;
    if (stale !== 0) {
      reg.exposed[id] = 0;
      this.stats.staleMarkers++;
      if (this.peers !== null) this.peers.stale(id);
      return;
    }
    if (value !== value || value === Infinity || value === -Infinity) {
      // Accepted, never learned from: one NaN or Inf must not poison a model.
      this.stats.samplesNonFinite++;
      return;
    }
    let x = value;
    let resolution = 0;
    const counter = reg.kind[id] === KIND_COUNTER;
    if (counter) {
      const c = this.counters;
      const prev = c.prevValue[id]!;
      const prevT = c.prevTimeMs[id]!;
      if (prev !== prev) {
        c.prevValue[id] = value;
        c.prevTimeMs[id] = tMs;
        return;
      }
      const elapsed = tMs - prevT;
      const cadence = c.cadenceMs[id]!;
      if (value === prev) {
        // No change since the last one: nothing new to score while within its usual cadence (the
        // outputs stay those of its last change), a rate of 0 once it has been still for longer.
        if (elapsed < STALL_CADENCES * cadence) {
          if (this.last.value[id] === this.last.value[id]) reg.exposed[id] = 1;
          this.stats.samplesCounterUnchanged++;
          return;
        }
        x = 0;
      } else {
        x = (value > prev ? value - prev : value) / (elapsed / 1000);
        const step = elapsed < 4 * cadence || cadence === 0 ? elapsed : 4 * cadence;
        c.cadenceMs[id] = cadence === 0 ? step : cadence + CADENCE_RATE * (step - cadence);
        c.prevValue[id] = value;
        c.prevTimeMs[id] = tMs;
      }
      const integer = value === Math.floor(value) && prev === Math.floor(prev);
      resolution = ((x < 0 ? -x : x) * RATE_JITTER_S + (integer ? RATE_QUANTUM_SHARE : 0)) / (elapsed / 1000);
    }
    let quantum = 0;
    if (!counter && (value >= GAUGE_MIN_COUNT || value <= -GAUGE_MIN_COUNT) && value === Math.floor(value)) {
      const before = this.last.value[id]!;
      if (before === Math.floor(before)) quantum = GAUGE_QUANTUM;
    }
    const scorer = this.scorer;
    this.last.value[id] = x;
    scorer.observe(id, tMs, x, resolution, quantum);
    reg.exposed[id] = 1;
    this.stats.samplesScored++;
    if (this.forecast !== null) this.forecast.observe(id, tMs, x);
    if (counter) this.floorRates(id);
    if (this.peers !== null) this.peers.observe(id, tMs, x, scorer.anomaly[id] === 1 ? 1 : 0, resolution);
  }

  /** A counter's rate is never negative: neither are its band, its forecasts and their intervals. */
  private floorRates(id: number): void {
    const s = this.scorer;
    if (s.lower[id]! < 0) s.lower[id] = 0;
    if (s.expected[id]! < 0) s.expected[id] = 0;
    const f = this.forecast;
    if (f === null) return;
    for (let h = 0; h < f.forecast.length; h++) {
      if (f.lower[h]![id]! < 0) f.lower[h]![id] = 0;
      if (f.forecast[h]![id]! < 0) f.forecast[h]![id] = 0;
      if (f.upper[h]![id]! < 0) f.upper[h]![id] = 0;
    }
  }

  /** A kind change: the models start again, with the settings the series' labels give them. */
  private resetModels(id: number): void {
    this.stats.kindChanges++;
    this.counters.reset(id);
    this.scorer.reset(id);
    this.forecast?.reset(id);
    this.setUp({ id, name: this.registry.names[id]!, labels: this.registry.labels(id) });
  }

  private createFromBatch(batch: Batch, s: number, nowMs: number): number {
    const b = batch.buf;
    const start = batch.seriesLabelStart[s]!;
    const count = batch.seriesLabelCount[s]!;
    const labels: [string, string][] = new Array(count);
    for (let k = 0; k < count; k++) {
      const l = start + k;
      labels[k] = [text(b, batch.nameStart[l]!, batch.nameEnd[l]!), text(b, batch.valueStart[l]!, batch.valueEnd[l]!)];
    }
    const name = labels[batch.seriesNameLabel[s]!]![1];
    return this.registry.create(batch.seriesHashLo[s]!, batch.seriesHashHi[s]!, batch.seriesKeyLen[s]!, labels, name, batch.seriesType[s]!, nowMs);
  }
}

/** A Buffer over the body being read, made once per body rather than once per label. */
let textView: Buffer<ArrayBufferLike> = Buffer.alloc(0);
let textOf: Uint8Array | null = null;

function text(b: Uint8Array, s: number, e: number): string {
  if (textOf !== b) {
    textView = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    textOf = b;
  }
  return textView.toString('utf8', s, e);
}

function validateUtf8(batch: Batch, s: number): void {
  const b = batch.buf;
  const start = batch.seriesLabelStart[s]!;
  const end = start + batch.seriesLabelCount[s]!;
  for (let l = start; l < end; l++) {
    if (!ascii(b, batch.nameStart[l]!, batch.nameEnd[l]!) || !ascii(b, batch.valueStart[l]!, batch.valueEnd[l]!)) {
      try {
        utf8.decode(b.subarray(batch.nameStart[l]!, batch.nameEnd[l]!));
        utf8.decode(b.subarray(batch.valueStart[l]!, batch.valueEnd[l]!));
      } catch {
        throw new AugurError('INVALID_UTF8', `series ${s} has a label that is not valid UTF-8`);
      }
    }
  }
}

function ascii(b: Uint8Array, s: number, e: number): boolean {
  for (let p = s; p < e; p++) if (b[p]! >= 0x80) return false;
  return true;
}
