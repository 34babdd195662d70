import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AugurConfig } from './config/schema.js';
import { durationMs } from './config/duration.js';
import { parseSelector, matches, type Matcher } from './config/matchers.js';
import { applyOverrides, type ScoringProfile } from './detect/profile.js';
import { Scorer } from './detect/scorer.js';
import { ForecastEngine } from './forecast/engine.js';
import type { ForecastConfig } from './forecast/config.js';
import { PeerEngine } from './cluster/engine.js';
import { SelfMetrics } from './expose/self-metrics.js';
import type { SeriesFamily, TextFamily } from './expose/derived.js';
import { anomalyFamilies, forecastFamilies, peerFamilies } from './families.js';
import { registerMetricsRoute } from './http/metrics-route.js';
import { methodNotAllowed, registerWriteRoute } from './http/write-route.js';
import { registerApiRoutes } from './http/api-routes.js';
import { Receiver } from './ingest/receiver.js';
import { DecodePool } from './ingest/decode-pool.js';
import { availableParallelism } from 'node:os';
import { Pipeline } from './pipeline.js';
import type { Server as HttpsServer } from 'node:https';
import { Authenticator, registerAuth } from './http/auth.js';
import { loadTls } from './http/tls.js';
import type { SecureContextOptions } from 'node:tls';
import { Snapshotter } from './persist/snapshotter.js';
import { SettingsError } from './config/load.js';
import { SeriesRegistry, type SeriesInfo } from './series/registry.js';

/** Longest piece of a staleness sweep on the event loop. */
const SWEEP_SLICE_MS = 4;

export interface Models {
  profiles: ScoringProfile[];
  forecasts: ForecastConfig[];
  profileFor: (info: SeriesInfo) => number;
}

/** Resolves per-selector settings: profile 0 is the default, then one per selector in order. */
export function resolveProfiles(config: AugurConfig): Models {
  const profiles: ScoringProfile[] = [config.scoring];
  const forecasts: ForecastConfig[] = [config.forecast];
  const selectors: Matcher[][] = [];
  for (const s of config.selectors) {
    const { match, forecast, ...overrides } = s;
    selectors.push(parseSelector(match));
    profiles.push(applyOverrides(config.scoring, overrides));
    forecasts.push(forecast ?? config.forecast);
  }
  return {
    profiles,
    forecasts,
    profileFor(info) {
      for (let i = 0; i < selectors.length; i++) if (matches(selectors[i]!, info.labels)) return i + 1;
      return 0;
    },
  };
}

/** Builds the scoring pipeline that `serve` and `backtest` share. */
export function createPipeline(config: AugurConfig, opts: { peers: boolean } = { peers: true }): Pipeline {
  const models = resolveProfiles(config);
  const registry = new SeriesRegistry({ maxActive: config.series.max_active, stalenessMs: durationMs(config.series.staleness) });
  const scorer = new Scorer(models.profiles);
  const anyForecast = models.forecasts.some((f) => f.enabled);
  const forecast = anyForecast ? new ForecastEngine(models.forecasts) : null;
  const peers = opts.peers && config.cluster.enabled ? new PeerEngine(config.cluster) : null;
  return new Pipeline(registry, scorer, forecast, peers, models.profileFor);
}

/**
 * The TLS pair and the credentials `web` names, read as `serve` starts (and as `check-config`
 * checks them). Throws one SettingsError with every problem.
 */
export function loadWebSecrets(web: AugurConfig['web']): { https: SecureContextOptions | null; auth: Authenticator | null } {
  const problems: SettingsError['problems'] = [];
  const load = <T>(f: () => T): T | null => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      problems.push(...e.problems);
      return null;
    }
  };
  const { tls, auth } = web;
  const loaded = { https: tls === undefined ? null : load(() => loadTls(tls)), auth: auth === undefined ? null : load(() => new Authenticator(auth)) };
  if (problems.length > 0) throw new SettingsError(problems);
  return loaded;
}

export class Augur {
  readonly app: FastifyInstance;
  readonly pipeline: Pipeline;
  readonly metrics: SelfMetrics;
  private ready = false;
  private readonly pool: DecodePool | null;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly families: SeriesFamily[];
  private readonly textFamilies: TextFamily[] = [];
  readonly snapshotter: Snapshotter | null = null;
  private readonly auth: Authenticator | null = null;
  private lagTimer: NodeJS.Timeout | undefined;
  /** Recent event-loop lag in ms (decaying maximum of the lateness of a 50 ms timer). */
  private lagMs = 0;
  private writesInFlight = 0;
  /** Aborted by a shutdown that comes while `listen` is still restoring and starting the models. */
  private readonly starting = new AbortController();

  constructor(readonly config: AugurConfig, readonly log: Logger) {
    this.pipeline = createPipeline(config);
    this.metrics = new SelfMetrics(this.pipeline, config.series.max_active);
    this.families = anomalyFamilies(this.pipeline.scorer);
    if (this.pipeline.forecast !== null) this.families.push(...forecastFamilies(this.pipeline.forecast));
    if (this.pipeline.peers !== null) {
      const pf = peerFamilies(this.pipeline.peers);
      this.families.push(...pf.series);
      this.textFamilies.push(...pf.text);
    }
    const limits = {
      maxDecodedBytes: config.web.max_decoded_bytes,
      maxSeriesPerRequest: config.limits.series_per_request,
      maxLabels: config.limits.labels_per_series,
      maxNameLength: config.limits.label_name_length,
      maxValueLength: config.limits.label_value_length,
    };
    const receiver = new Receiver(limits);
    const threads = config.web.decode_threads >= 0 ? config.web.decode_threads : availableParallelism() > 1 ? 1 : 0;
    this.pool = threads > 0 ? new DecodePool(limits, threads, () => this.pipeline.registry.identitySlots) : null;
    const pool = this.pool;
    const maxInflight = config.web.max_inflight_requests;
    const { https, auth } = loadWebSecrets(config.web);
    this.auth = auth;
    if (config.storage.path !== '') {
      const m = this.metrics;
      this.snapshotter = new Snapshotter(config.storage.path, this.pipeline, config, log, {
        restoreFailed: (reason) => m.snapshotRestoreFailures.inc({ reason }),
        restored: (series) => m.snapshotRestoredSeries.set(series),
        written: (bytes, seconds) => {
          m.snapshotBytes.set(bytes);
          m.snapshotDuration.set(seconds);
          m.snapshotLastSuccess.set(Date.now() / 1000);
        },
        writeFailed: () => m.snapshotFailures.inc(),
      });
    }
    const app = Fastify({
      ...(https !== null ? { https } : {}),
      logger: false,
      bodyLimit: config.web.max_body_bytes,
      requestTimeout: durationMs(config.web.request_timeout),
      keepAliveTimeout: 75_000,
      forceCloseConnections: 'idle',
      return503OnClosing: true,
    });
    this.app = app as unknown as FastifyInstance;
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.web.max_body_bytes }, (_req, body, done) => done(null, body));
    app.addHook('onResponse', (req, reply, done) => {
      this.metrics.httpRequests.inc({ handler: req.routeOptions.url ?? 'other', code: String(reply.statusCode) });
      done();
    });
    app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (req.routeOptions.url === '/api/v1/write') {
        const reason = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'body_too_large' : status === 415 ? 'unsupported_media_type' : status === 500 ? 'internal' : 'bad_request';
        this.metrics.writeRejected.inc({ reason });
      }
      if (status === 500) this.log.error({ err }, 'request failed');
      const message =
        err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body exceeds the limit of ${config.web.max_body_bytes} bytes`
        : status === 415 ? `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: expected application/x-protobuf`
        : status === 500 ? 'internal error' : err.message;
      return reply.code(status).type('text/plain; charset=utf-8').send(message + '\n');
    });
    // Until the snapshot is restored and the models started, and again once shutdown begins, only
    // the health endpoints answer: the port is open, so probes see "alive, not ready" rather than
    // a refused connection during a long restore.
    app.addHook('onRequest', (req, reply, done) => {
      if (this.ready) return done();
      const path = req.url.split('?')[0]!;
      if (path === '/-/healthy' || path === '/-/ready') return done();
      if (path === '/api/v1/write') this.metrics.writeRejected.inc({ reason: 'not_ready' });
      void reply.code(503).header('retry-after', '1').type('text/plain; charset=utf-8').send('Augur is not ready (starting: restoring its snapshot, or shutting down); retry later\n');
    });
    if (this.auth !== null) {
      registerAuth(this.app, this.auth, (req, reason) => {
        this.metrics.authFailures.inc({ reason });
        if (req.url.startsWith('/api/v1/write')) this.metrics.writeRejected.inc({ reason: 'unauthorized' });
      });
    }
    const maxLagMs = durationMs(config.web.max_event_loop_lag);
    // Sheds before the body is read: bounds the memory of bodies being received, not only decoded.
    app.addHook('onRequest', (req, reply, done) => {
      if (req.method !== 'POST' || req.url.split('?')[0] !== '/api/v1/write') return done();
      let cause = '';
      if (this.writesInFlight >= maxInflight) cause = 'inflight';
      else if (maxLagMs > 0 && this.lagMs > maxLagMs) cause = 'event_loop_lag';
      if (cause !== '') {
        this.metrics.overloaded.inc();
        this.metrics.shed.inc({ cause });
        this.metrics.writeRejected.inc({ reason: 'overloaded' });
        const why = cause === 'inflight' ? `${this.writesInFlight} write requests in flight` : `event loop lagging ${Math.round(this.lagMs)} ms`;
        void reply.code(503).header('retry-after', '1').type('text/plain; charset=utf-8').send(`overloaded: ${why}; retry later\n`);
        return;
      }
      this.writesInFlight++;
      reply.raw.once('close', () => this.writesInFlight--);
      done();
    });
    app.setNotFoundHandler((req, reply) => {
      const path = req.url.split('?')[0]!;
      if (path === '/api/v1/write') return methodNotAllowed(req, reply, this.metrics);
      return reply.code(404).type('text/plain; charset=utf-8').send(`not found: ${req.method} ${path}\n`);
    });
    registerWriteRoute(app, {
      receiver,
      pool,
      pipeline: this.pipeline,
      metrics: this.metrics,
      log: this.log,
      overloaded: () => {
        if (pool !== null && pool.inFlight >= maxInflight) {
          this.metrics.shed.inc({ cause: 'inflight' });
          return `${pool.inFlight} write requests already in flight`;
        }
        return '';
      },
    });
    registerMetricsRoute(app, { registry: this.pipeline.registry, metrics: this.metrics, families: () => this.families, textFamilies: () => this.textFamilies });
    registerApiRoutes(app, this.pipeline);
    app.get('/-/healthy', (_req, reply) => reply.type('text/plain; charset=utf-8').send('Augur is Healthy.\n'));
    app.get('/-/ready', (_req, reply) => {
      if (this.ready) return reply.type('text/plain; charset=utf-8').send('Augur is Ready.\n');
      return reply.code(503).header('retry-after', '1').type('text/plain; charset=utf-8').send('Augur is not ready.\n');
    });
  }

  /**
   * An empty host is every interface, as in Prometheus's `:9090`: IPv6 and IPv4 on one dual-stack
   * socket, or IPv4 alone where the kernel has no IPv6.
   */
  private async listenOn(host: string, port: number): Promise<string> {
    if (host !== '') return this.app.listen({ host, port });
    try {
      return await this.app.listen({ host: '::', port, ipv6Only: false });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw e;
      return this.app.listen({ host: '0.0.0.0', port });
    }
  }

  async listen(host: string, port: number): Promise<string> {
    await this.auth?.prepare();
    let last = performance.now();
    this.lagTimer = setInterval(() => {
      const now = performance.now();
      const late = Math.max(0, now - last - 50);
      last = now;
      this.lagMs = Math.max(late, this.lagMs * 0.5);
    }, 50);
    this.lagTimer.unref();
    const address = await this.listenOn(host, port);
    const signal = this.starting.signal;
    let started = false;
    try {
      await this.snapshotter?.restore(signal);
      signal.throwIfAborted();
      started = true;
      await this.pipeline.start();
      signal.throwIfAborted();
    } catch (e) {
      if (this.lagTimer) clearInterval(this.lagTimer);
      await this.app.close();
      await this.pool?.close();
      // The models may hold half a snapshot: they are stopped, never snapshotted.
      if (started) await this.pipeline.stop();
      throw e;
    }
    const reg = this.pipeline.registry;
    // In slices of a few milliseconds: a million ids, or a departed target's series all going
    // stale at once, are too much for one turn of the loop.
    let sweeping = false;
    const sweepPass = (): void => {
      sweeping = this.sweepTimer !== undefined && !reg.sweepSlice(Date.now(), SWEEP_SLICE_MS);
      if (sweeping) setImmediate(sweepPass);
    };
    this.sweepTimer = setInterval(() => {
      if (!sweeping) sweepPass();
    }, Math.min(15_000, Math.max(1000, reg.options.stalenessMs / 4)));
    this.sweepTimer.unref();
    this.snapshotter?.start(durationMs(this.config.storage.snapshot_interval));
    this.ready = true;
    return address;
  }

  /**
   * SIGHUP: re-reads the TLS certificate and key and the bearer-token sources. A failure keeps the
   * previous ones and is returned as messages (which never contain secrets).
   */
  reload(): string[] {
    const errors: string[] = [];
    const tls = this.config.web.tls;
    if (tls !== undefined) {
      try {
        (this.app.server as unknown as HttpsServer).setSecureContext(loadTls(tls));
        this.metrics.tlsReloads.inc({ result: 'success' });
      } catch (e) {
        this.metrics.tlsReloads.inc({ result: 'failure' });
        errors.push((e as Error).message);
      }
    }
    if (this.auth !== null) {
      try {
        this.auth.reload();
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    return errors;
  }

  /** True once `listen` has restored the snapshot and started the models. */
  get isReady(): boolean {
    return this.ready;
  }

  /**
   * A shutdown before `listen` is done: the restore stops at its next read and `listen` rejects
   * with an AbortError, leaving the snapshot file as it was. Returns false once ready (then `close`).
   */
  abortStart(): boolean {
    if (this.ready) return false;
    this.starting.abort();
    return true;
  }

  /** Stops accepting, finishes what is in flight, stops background work. */
  async close(): Promise<void> {
    this.ready = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    if (this.lagTimer) clearInterval(this.lagTimer);
    await this.app.close();
    await this.pool?.close();
    const accepted = (await this.metrics.samplesAccepted.get()).values[0]?.value ?? 0;
    this.log.info({ samplesAccepted: accepted }, 'stopped accepting writes');
    // Every request answered is in the models: the last snapshot holds all of it.
    await this.snapshotter?.stop(true);
    await this.pipeline.stop();
    this.metrics.stop();
  }
}
