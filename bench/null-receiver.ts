import Fastify from 'fastify';

// The baseline: the same HTTP stack as Augur, reading the whole body and answering 204.
const app = Fastify({ logger: false, bodyLimit: 32 * 1024 * 1024 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/api/v1/write', (_req, reply) => reply.code(204).send());
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
