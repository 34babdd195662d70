import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import type { AugurConfig } from '../config/schema.js';
import { Forest } from '../detect/forest.js';
import type { Pipeline } from '../pipeline.js';
import { SnapshotError, moveAside, openSnapshot, writeSnapshot, type FailureReason } from './snapshot.js';
import { collectClasses, fingerprint, type WalkOptions } from './walk.js';

export const SNAPSHOT_FILE = 'augur.snapshot';

/** Registry fields rebuilt by `rebuildIndexes()` instead of persisted, and the registry wiring. */
const REGISTRY_SKIP = new Set(['holdFreeIds', 'table', 'lru', 'freeIds', 'nameIntern', 'groupIndex', 'groupSize', 'freeGroups', 'groupFreeHooks', 'renamedText', 'droppedOnRestore', 'components', 'createHooks', 'removeHooks', 'options', 'lruGranularitySec', 'initializedTo', 'growth', 'growthTimer', 'growthOwed', 'stepGrowth']);
/** Classes whose state lives in a worker thread and is rebuilt there: not persisted. */
const SKIP_CLASSES = new Set(['LstmRunner']);

export interface SnapshotEvents {
  restoreFailed(reason: FailureReason): void;
  restored(series: number, seconds: number): void;
  written(bytes: number, seconds: number): void;
  writeFailed(): void;
}

export function walkOptions(pipeline: Pipeline): WalkOptions {
  const registry = pipeline.registry;
  return { skip: new Map([[registry, REGISTRY_SKIP]]), skipClasses: SKIP_CLASSES };
}

/** The parts of the config that shape model state: a snapshot taken under others is refused. */
export function modelConfigHash(config: AugurConfig): string {
  const { scoring, forecast, cluster, selectors } = config;
  return createHash('sha256').update(JSON.stringify({ scoring, forecast, cluster, selectors })).digest('hex').slice(0, 32);
}

/**
 * Snapshots the pipeline (registry, pipeline state, every model) to `<dir>/augur.snapshot` on an
 * interval and on demand, and restores it at start. Construct it before the pipeline has seen a
 * sample: the structural fingerprint is taken from the freshly constructed objects.
 */
export class Snapshotter {
  readonly file: string;
  private readonly fingerprint: string;
  private readonly classes: Map<string, object>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  lastWrite: { bytes: number; seconds: number; maxBlockMs: number } | null = null;

  constructor(
    readonly dir: string,
    private readonly pipeline: Pipeline,
    config: AugurConfig,
    private readonly log: Logger,
    private readonly events: SnapshotEvents,
  ) {
    this.file = join(dir, SNAPSHOT_FILE);
    this.fingerprint = `${fingerprint(pipeline, walkOptions(pipeline))}/${modelConfigHash(config)}`;
    this.classes = collectClasses(pipeline);
    this.classes.set('Forest', Forest.prototype);
  }

  /**
   * Temporary files of writes that never finished (the process was killed mid-write): each is as
   * large as a snapshot, and nothing else would ever remove them.
   */
  private async removeLeftovers(): Promise<void> {
    const prefix = `${basename(this.file)}.tmp-`;
    for (const name of await readdir(this.dir)) {
      if (!name.startsWith(prefix) || name === `${prefix}${process.pid}`) continue;
      try {
        await rm(join(this.dir, name), { force: true });
        this.log.info({ path: join(this.dir, name) }, 'removed the temporary file of an unfinished snapshot write');
      } catch (err) {
        this.log.warn({ err, path: join(this.dir, name) }, 'cannot remove the temporary file of an unfinished snapshot write');
      }
    }
  }

  /**
   * Restores the last snapshot into the (fresh) pipeline. Returns the number of series restored,
   * 0 when there is none. A bad snapshot is logged, counted, moved aside, and Augur starts fresh.
   * If it fails after it has begun to write into the pipeline, it throws (the snapshot is already
   * moved aside, so the next start is fresh rather than a crash loop). Aborted through `signal`
   * (a shutdown during the restore), it throws the abort and leaves the snapshot as it is.
   */
  async restore(signal?: AbortSignal): Promise<number> {
    await mkdir(this.dir, { recursive: true });
    await this.removeLeftovers();
    try {
      await stat(this.file);
    } catch {
      this.log.info({ path: this.file }, 'no snapshot to restore: starting fresh');
      return 0;
    }
    const started = performance.now();
    let applying = false;
    try {
      const reader = await openSnapshot(this.file);
      try {
        if (reader.manifest.fingerprint !== this.fingerprint) {
          throw new SnapshotError('incompatible', `${this.file}: taken by a different Augur version or model configuration (fingerprint ${reader.manifest.fingerprint}, this one ${this.fingerprint})`);
        }
        applying = true;
        const stats = await reader.restoreInto(this.pipeline, this.classes, signal);
        this.pipeline.registry.rebuildIndexes();
        const series = this.pipeline.registry.active;
        const dropped = this.pipeline.registry.droppedOnRestore;
        if (dropped > 0) this.log.warn({ dropped }, `the snapshot held ${dropped} series more than series.max_active: dropped, counted as evicted`);
        const seconds = (performance.now() - started) / 1000;
        this.events.restored(series, seconds);
        this.log.info({ path: this.file, series, bytes: reader.size, seconds: round(seconds), takenAt: new Date(reader.manifest.createdAt).toISOString(), kept: stats.kept.length > 0 ? stats.kept.slice(0, 5).join(' ') : undefined }, `restored ${series} series from snapshot`);
        return series;
      } finally {
        await reader.close();
      }
    } catch (e) {
      if (signal?.aborted === true) {
        this.log.warn({ path: this.file }, 'snapshot restore interrupted by shutdown: the snapshot is kept for the next start');
        throw e;
      }
      const reason: FailureReason = e instanceof SnapshotError ? e.reason : 'io';
      this.events.restoreFailed(reason);
      const aside = await moveAside(this.file);
      this.log.error({ path: this.file, reason, err: (e as Error).message, movedTo: aside }, `snapshot not restored (${reason}): moved aside, starting fresh`);
      if (applying) throw new Error(`snapshot restore failed half-way (${(e as Error).message}); moved to ${aside}; restart to start fresh`);
      return 0;
    }
  }

  /** Snapshots every `intervalMs`. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.snapshot('interval'), intervalMs);
    this.timer.unref();
  }

  /** Writes one snapshot (waits for one already running, then writes a new one). Never throws. */
  async snapshot(why: string): Promise<boolean> {
    while (this.running !== null) await this.running;
    let ok = false;
    const run = (async () => {
      const started = performance.now();
      // The arrays are written in slices while requests keep being scored. Ids are not reused
      // meanwhile, so that an id's identity and its labels, written at different moments, still
      // belong to one series; series created meanwhile get ids past the snapshot's high-water mark.
      const registry = this.pipeline.registry;
      // Arrays are recorded as they are now: none half grown.
      registry.completeGrowth();
      registry.holdFreeIds = true;
      try {
        const r = await writeSnapshot(this.file, this.pipeline, {
          fingerprint: this.fingerprint,
          meta: { series: this.pipeline.registry.active, why },
          walk: walkOptions(this.pipeline),
        });
        const seconds = (performance.now() - started) / 1000;
        this.lastWrite = { bytes: r.bytes, seconds, maxBlockMs: r.maxBlockMs };
        this.events.written(r.bytes, seconds);
        this.log.debug({ path: this.file, bytes: r.bytes, seconds: round(seconds), maxBlockMs: round(r.maxBlockMs), why }, 'snapshot written');
        ok = true;
      } catch (e) {
        this.events.writeFailed();
        this.log.error({ path: this.file, err: (e as Error).message, why }, 'snapshot failed; the previous one is kept');
      } finally {
        registry.holdFreeIds = false;
      }
    })();
    this.running = run;
    await run;
    this.running = null;
    return ok;
  }

  async stop(final: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (final) await this.snapshot('shutdown');
    else while (this.running !== null) await this.running;
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
