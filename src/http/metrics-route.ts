import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
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

/** `GET /metrics`: Augur's own metrics, then every derived family, streamed and optionally gzipped. */
export function registerMetricsRoute(app: FastifyInstance, deps: MetricsDeps): void {
  app.get('/metrics', async (req, reply) => {
    const om = wantsOpenMetrics(req.headers.accept);
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
    let stream: NodeJS.ReadableStream = Readable.from(body(), { objectMode: false });
    reply.header('content-type', om ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE);
    reply.header('vary', 'Accept, Accept-Encoding');
    if (acceptsGzip(req.headers['accept-encoding'])) {
      reply.header('content-encoding', 'gzip');
      stream = stream.pipe(createGzip({ level: 1 }));
    }
    return reply.send(stream);
  });
}
