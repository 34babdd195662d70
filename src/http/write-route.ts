import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAugurError } from '../errors.js';
import type { Receiver } from '../ingest/receiver.js';
import type { DecodePool, Decoded } from '../ingest/decode-pool.js';
import type { Batch } from '../ingest/batch.js';
import { PROTO_V2, checkEncoding, protocolOf } from '../ingest/protocol.js';
import type { Pipeline } from '../pipeline.js';
import type { SelfMetrics } from '../expose/self-metrics.js';
import type { Logger } from 'pino';

const EMPTY = Buffer.alloc(0);

export interface WriteDeps {
  receiver: Receiver;
  /** Decoding in worker threads; null decodes on the main thread. */
  pool: DecodePool | null;
  pipeline: Pipeline;
  metrics: SelfMetrics;
  log: Logger;
  /** Returns a non-empty reason when Augur should shed this request with 503. */
  overloaded(): string;
}

/** `POST /api/v1/write`: remote write 1.0 and 2.0. Answers only after every sample is scored. */
export function registerWriteRoute(app: FastifyInstance, deps: WriteDeps): void {
  const { receiver, pipeline, metrics } = deps;
  app.route({
    method: ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: '/api/v1/write',
    onSend: zeroCountsUnlessSet,
    handler(req, reply) {
      return methodNotAllowed(req, reply, metrics);
    },
  });
  app.post('/api/v1/write', { onSend: zeroCountsUnlessSet }, async (req: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const shed = deps.overloaded();
    if (shed !== '') {
      metrics.overloaded.inc();
      metrics.writeRejected.inc({ reason: 'overloaded' });
      return reply.code(503).header('retry-after', '1').type('text/plain; charset=utf-8').send(`overloaded: ${shed}; retry later\n`);
    }
    const body = (req.body as Buffer | undefined) ?? EMPTY;
    let batch: Batch | null = null;
    let decoded: Decoded | null = null;
    try {
      const contentType = req.headers['content-type'];
      const contentEncoding = req.headers['content-encoding'] as string | undefined;
      let version: number;
      if (deps.pool !== null) {
        protocolOf(contentType);
        checkEncoding(contentEncoding);
        decoded = await deps.pool.decode(body, contentType, contentEncoding);
        version = decoded.version;
        batch = decoded.batch;
        // New series need their label bytes: decode this body again here (rare once warm).
        if (batch.lite && !pipeline.allKnown(batch)) {
          batch = receiver.batch;
          receiver.decode(body, contentType, contentEncoding);
        }
      } else {
        batch = receiver.batch;
        version = receiver.decode(body, contentType, contentEncoding);
      }
      const scoring = performance.now();
      const written = pipeline.ingest(batch, Date.now());
      const done = performance.now();
      metrics.scoringDuration.observe((done - scoring) / 1000);
      metrics.samplesAccepted.inc(batch.sampleCount);
      metrics.writeDuration.observe((done - started) / 1000);
      if (version === PROTO_V2) writtenHeaders(reply, written, batch.histogramCount, batch.exemplarCount);
      return reply.code(204).send();
    } catch (e) {
      if (!isAugurError(e)) throw e;
      metrics.writeRejected.inc({ reason: e.reason });
      // Samples decoded before the error: the worker reports its count; a batch decoded here has it.
      const decoded = (e as { samples?: number }).samples ?? batch?.sampleCount ?? 0;
      if (decoded > 0) metrics.samplesRejected.inc({ reason: e.reason }, decoded);
      deps.log.debug({ err: e.message, code: e.code }, 'remote write rejected');
      return reply.code(e.statusCode).type('text/plain; charset=utf-8').send(e.message + '\n');
    } finally {
      if (decoded !== null) deps.pool!.release(decoded);
    }
  });
}

/** 405 for every method but POST, including those the router does not know (TRACE, PROPFIND...). */
export function methodNotAllowed(req: FastifyRequest, reply: FastifyReply, metrics: SelfMetrics): FastifyReply {
  metrics.writeRejected.inc({ reason: 'method_not_allowed' });
  if (isV2(req.headers['content-type'])) writtenHeaders(reply, 0, 0, 0);
  return reply.code(405).header('allow', 'POST').type('text/plain; charset=utf-8').send('method not allowed: remote write takes POST\n');
}

/**
 * Remote write 2.0 answers carry the written counts, failures included: replies that did not set
 * them (shed, rejected, unauthorized, body too large, internal error) wrote nothing.
 */
function zeroCountsUnlessSet(req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void {
  if (!reply.hasHeader(SAMPLES_WRITTEN) && isV2(req.headers['content-type'])) writtenHeaders(reply, 0, 0, 0);
  done(null, payload);
}

const SAMPLES_WRITTEN = 'x-prometheus-remote-write-samples-written';

/** Whether the request is remote write 2.0, read as the decoder reads it (a bad type is not). */
export function isV2(contentType: string | undefined): boolean {
  if (contentType === undefined || !/v2/i.test(contentType)) return false;
  try {
    return protocolOf(contentType) === PROTO_V2;
  } catch {
    return false;
  }
}

export function writtenHeaders(reply: FastifyReply, samples: number, histograms: number, exemplars: number): void {
  reply.header(SAMPLES_WRITTEN, String(samples));
  reply.header('x-prometheus-remote-write-histograms-written', String(histograms));
  reply.header('x-prometheus-remote-write-exemplars-written', String(exemplars));
}
