import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Augur } from '../../src/augur.js';
import { defaultConfig } from '../../src/config/load.js';
import type { AugurConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { V1_CONTENT_TYPE, V2_CONTENT_TYPE, compress } from './remote-write.js';

export { V1_CONTENT_TYPE, V2_CONTENT_TYPE };

export interface Server {
  augur: Augur;
  url: string;
  agent: http.Agent;
  close(): Promise<void>;
}

/**
 * A real Augur on 127.0.0.1, port 0, with the default config changed by `edit`. Shedding writes
 * on event-loop lag is off unless `edit` turns it on: on a busy CI machine it would answer 503 to
 * tests that are about something else.
 */
export async function startAugur(edit?: (c: AugurConfig) => void): Promise<Server> {
  const config = defaultConfig();
  config.web.max_event_loop_lag = '0s';
  if (edit) edit(config);
  const augur = new Augur(config, createLogger('silent', 'json'));
  const url = await augur.listen('127.0.0.1', 0);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  return {
    augur,
    url,
    agent,
    async close() {
      agent.destroy();
      await augur.close();
    },
  };
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  agent?: http.Agent;
  /** Abort the request after this many milliseconds (default 20 s). */
  timeoutMs?: number;
}

/** One HTTP request with node:http, so that headers and bodies arrive exactly as sent. */
export function request(url: string, opts: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined) headers['content-length'] = opts.body.length;
    const req = http.request(url, { method: opts.method ?? 'GET', headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 20_000, () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.end(opts.body);
    else req.end();
  });
}

export interface WriteOptions {
  contentType?: string | null;
  encoding?: string | null;
  method?: string;
  agent?: http.Agent;
  headers?: Record<string, string>;
}

/** POSTs an already compressed body to /api/v1/write. `null` leaves a header out. */
export function postRaw(server: Server, body: Uint8Array, opts: WriteOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const ct = opts.contentType === undefined ? V1_CONTENT_TYPE : opts.contentType;
  const enc = opts.encoding === undefined ? 'snappy' : opts.encoding;
  if (ct !== null) headers['content-type'] = ct;
  if (enc !== null) headers['content-encoding'] = enc;
  return request(server.url + '/api/v1/write', { method: opts.method ?? 'POST', headers, body, agent: opts.agent ?? server.agent });
}

/** Compresses a protobuf message and POSTs it as v1 or v2. */
export function postProto(server: Server, raw: Uint8Array, version: 1 | 2 = 1): Promise<Response> {
  return postRaw(server, compress(raw), { contentType: version === 2 ? V2_CONTENT_TYPE : V1_CONTENT_TYPE });
}

export async function getMetrics(server: Server, accept?: string): Promise<string> {
  const headers: Record<string, string> = {};
  if (accept) headers['accept'] = accept;
  const res = await request(server.url + '/metrics', { headers, agent: server.agent });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${res.text}`);
  return res.headers['content-encoding'] === 'gzip' ? gunzipSync(res.body).toString('utf8') : res.text;
}

export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  line: string;
}

/** Parses the sample lines of the text format (0.0.4 or OpenMetrics); comments are skipped. */
export function parseExposition(text: string): ExpositionSample[] {
  const out: ExpositionSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
    const name = line.slice(0, i);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        const eq = line.indexOf('=', i);
        const ln = line.slice(i, eq);
        i = eq + 1;
        if (line[i] !== '"') throw new Error(`bad label value in ${JSON.stringify(line)}`);
        i++;
        let v = '';
        while (line[i] !== '"') {
          if (i >= line.length) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
          if (line[i] === '\\') {
            const c = line[i + 1];
            v += c === 'n' ? '\n' : c;
            i += 2;
          } else v += line[i++];
        }
        i++;
        labels[ln] = v;
        if (line[i] === ',') i++;
      }
      i++;
    }
    const rest = line.slice(i).trim().split(' ');
    const vs = rest[0]!;
    const value = vs === '+Inf' ? Infinity : vs === '-Inf' ? -Infinity : vs === 'NaN' ? NaN : Number(vs);
    out.push({ name, labels, value, line });
  }
  return out;
}

/** Samples of family `name` whose labels include all of `match`. */
export function find(samples: ExpositionSample[], name: string, match: Record<string, string> = {}): ExpositionSample[] {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** A counter's value in the exposition, 0 when absent. */
export function counterValue(samples: ExpositionSample[], name: string, match: Record<string, string> = {}): number {
  const f = find(samples, name, match);
  return f.length === 0 ? 0 : f[0]!.value;
}

/** A small seeded PRNG, so failures reproduce. */
export { mulberry32 as prng } from '../../src/util/prng.js';
