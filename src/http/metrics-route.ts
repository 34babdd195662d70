import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SelfMetrics } from '../expose/self-metrics.js';
import { renderDerived, type SeriesFamily, type TextFamily } from '../expose/derived.js';
import { renderSelfMetrics } from '../expose/self-text.js';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, acceptsGzip, wantsOpenMetrics } from '../expose/format.js';
import type { SeriesRegistry } from '../series/registry.js';

export interface MetricsDeps {
  registry: SeriesRegistry;
  metrics: SelfMetrics;
  families: () => readonly SeriesFamily[];
  textFamilies: () => readonly TextFamily[];
}

/** Sets the headers of a `/metrics` answer, GET or HEAD alike, from the request's Accept headers. */
function negotiate(req: FastifyRequest, reply: FastifyReply): { om: boolean; gzip: boolean } {
  const om = wantsOpenMetrics(req.headers.accept);
  const gzip = acceptsGzip(req.headers['accept-encoding']);
  reply.header('content-type', om ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE);
  reply.header('vary', 'Accept, Accept-Encoding');
  if (gzip) reply.header('content-encoding', 'gzip');
  return { om, gzip };
}

/**
 * `GET /metrics`: Augur's own metrics, then every derived family, streamed and optionally gzipped.
 * `HEAD /metrics` sends the same headers and renders nothing: fastify's automatic HEAD route runs
 * the GET handler and drains its stream, which rendered every series only to discard it.
 */
export function registerMetricsRoute(app: FastifyInstance, deps: MetricsDeps): void {
  app.head('/metrics', (req, reply) => {
    negotiate(req, reply);
    return reply.send();
  });
  app.get('/metrics', { exposeHeadRoute: false }, async (req, reply) => {
    const { om, gzip } = negotiate(req, reply);
    const started = performance.now();
    const { registry, metrics } = deps;
    const families = deps.families();
    const textFamilies = deps.textFamilies();
    const render = metrics.metricsRenderDuration;
    // Everything, Augur's own metrics included, is rendered inside the body in slices: the
    // handler itself does no work sized by the registry.
    async function* body(): AsyncGenerator<string | Buffer> {
      yield* renderSelfMetrics(metrics.register, om);
      yield* renderDerived(registry, families, textFamilies, om);
      if (om) yield '# EOF\n';
      render.observe((performance.now() - started) / 1000);
    }
    const stream = Readable.from(body(), { objectMode: false });
    return reply.send(gzip ? stream.pipe(createGzip({ level: 1 })) : stream);
  });
}
