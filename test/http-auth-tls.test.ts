import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { compress, encodeV1 } from './helpers/remote-write.js';
import { V1_CONTENT_TYPE, V2_CONTENT_TYPE, request, startAugur, type Server } from './helpers/server.js';

const T0 = Date.UTC(2024, 0, 1);
let dir = '';
const body = () => compress(encodeV1([{ labels: { __name__: 'auth_up', job: 'a' }, samples: [{ value: 1, timestamp: T0 }] }]));
const writeHeaders = { 'content-type': V1_CONTENT_TYPE, 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'augur-auth-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function selfSigned(name: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { cert, key };
}

async function bcryptAvailable(): Promise<boolean> {
  try {
    const name = 'bcryptjs';
    await import(name);
    return true;
  } catch {
    return false;
  }
}

describe('bearer-token authentication', () => {
  let server: Server;
  before(async () => {
    const tokens = join(dir, 'tokens');
    writeFileSync(tokens, '# tokens, one per line\nsecret-token-1\n\nsecret-token-2\n');
    server = await startAugur((c) => {
      c.web.auth = { bearer_tokens_file: tokens, basic_auth_users: {} };
    });
  });
  after(() => server.close());

  it('rejects an unauthenticated write with 401 and WWW-Authenticate, and counts it', async () => {
    const r = await request(`${server.url}/api/v1/write`, { method: 'POST', headers: writeHeaders, body: body() });
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /^Bearer realm="augur"/);
    const wrong = await request(`${server.url}/api/v1/write`, { method: 'POST', headers: { ...writeHeaders, authorization: 'Bearer secret-token-3' }, body: body() });
    assert.equal(wrong.status, 401);
    assert.equal(r.headers['x-prometheus-remote-write-samples-written'], undefined);
    // A 2.0 refusal says nothing was written.
    const v2 = await request(`${server.url}/api/v1/write`, { method: 'POST', headers: { ...writeHeaders, 'content-type': V2_CONTENT_TYPE, 'x-prometheus-remote-write-version': '2.0.0' }, body: body() });
    assert.equal(v2.status, 401);
    for (const what of ['samples', 'histograms', 'exemplars']) assert.equal(v2.headers[`x-prometheus-remote-write-${what}-written`], '0', what);
    assert.equal(server.augur.pipeline.registry.active, 0, 'nothing reached the models');
  });

  it('accepts an authenticated write', async () => {
    const r = await request(`${server.url}/api/v1/write`, { method: 'POST', headers: { ...writeHeaders, authorization: 'Bearer secret-token-2' }, body: body() });
    assert.equal(r.status, 204, r.text);
    assert.equal(server.augur.pipeline.registry.active, 1);
  });

  it('protects /metrics, /-/ready and the API but not /-/healthy', async () => {
    for (const path of ['/metrics', '/-/ready', '/api/v1/series', '/nope']) {
      assert.equal((await request(`${server.url}${path}`)).status, 401, path);
    }
    assert.equal((await request(`${server.url}/-/healthy`)).status, 200);
    const m = await request(`${server.url}/metrics`, { headers: { authorization: 'Bearer secret-token-1' } });
    assert.equal(m.status, 200);
    assert.match(m.text, /augur_http_auth_failures_total\{reason="missing"\} [1-9]/);
    assert.match(m.text, /augur_http_auth_failures_total\{reason="invalid"\} [1-9]/);
    assert.match(m.text, /augur_write_requests_rejected_total\{reason="unauthorized"\} 3/);
    assert.doesNotMatch(m.text, /secret-token/);
  });
});

describe('basic authentication with bcrypt hashes', () => {
  it('accepts the right password, rejects others (needs bcryptjs)', async (t) => {
    if (!(await bcryptAvailable())) {
      t.skip('bcryptjs is not installed');
      return;
    }
    const name = 'bcryptjs';
    const bcrypt = (await import(name)) as { default: { hashSync(p: string, r: number): string } };
    const hash = bcrypt.default.hashSync('s3cret', 4);
    const server = await startAugur((c) => {
      c.web.auth = { basic_auth_users: { prometheus: hash } };
    });
    try {
      const auth = (u: string, p: string) => ({ authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });
      assert.equal((await request(`${server.url}/api/v1/write`, { method: 'POST', headers: writeHeaders, body: body() })).status, 401);
      assert.equal((await request(`${server.url}/api/v1/write`, { method: 'POST', headers: { ...writeHeaders, ...auth('prometheus', 'wrong') }, body: body() })).status, 401);
      assert.equal((await request(`${server.url}/api/v1/write`, { method: 'POST', headers: { ...writeHeaders, ...auth('nobody', 's3cret') }, body: body() })).status, 401);
      assert.equal((await request(`${server.url}/api/v1/write`, { method: 'POST', headers: { ...writeHeaders, ...auth('prometheus', 's3cret') }, body: body() })).status, 204);
      assert.equal((await request(`${server.url}/api/v1/write`, { method: 'POST', headers: { ...writeHeaders, ...auth('prometheus', 's3cret') }, body: body() })).status, 204, 'cached');
    } finally {
      await server.close();
    }
  });
});

function tlsGet(url: string, ca: string[], minVersion?: 'TLSv1.2' | 'TLSv1.3', maxVersion?: 'TLSv1.2' | 'TLSv1.3'): Promise<{ status: number; text: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, minVersion, maxVersion, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString(), fingerprint: (res.socket as TLSSocket).getPeerCertificate().fingerprint256 }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}

describe('TLS', () => {
  it('serves HTTPS with the configured certificate, honours min_version, and reloads the certificate', async () => {
    const first = selfSigned('one', 'augur-one');
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    const { readFileSync } = await import('node:fs');
    writeFileSync(live.cert, readFileSync(first.cert));
    writeFileSync(live.key, readFileSync(first.key));
    const server = await startAugur((c) => {
      c.web.tls = { cert_file: live.cert, key_file: live.key, min_version: 'TLS13' };
    });
    try {
      assert.match(server.url, /^https:\/\//);
      const ca1 = readFileSync(first.cert, 'utf8');
      const r = await tlsGet(`${server.url}/-/healthy`, [ca1]);
      assert.equal(r.status, 200);
      const fp1 = r.fingerprint;
      await assert.rejects(tlsGet(`${server.url}/-/healthy`, [ca1], 'TLSv1.2', 'TLSv1.2'), 'TLS 1.2 refused when min_version is TLS13');
      // Plain HTTP to the TLS port does not get a response.
      await assert.rejects(request(server.url.replace('https:', 'http:') + '/-/healthy', { timeoutMs: 3000 }).then((x) => (x.status === 200 ? x : Promise.reject(new Error('not 200')))));
      // Replace the files and reload (what SIGHUP does): new connections get the new certificate.
      const second = selfSigned('two', 'augur-two');
      writeFileSync(live.cert, readFileSync(second.cert));
      writeFileSync(live.key, readFileSync(second.key));
      assert.deepEqual(server.augur.reload(), []);
      const ca2 = readFileSync(second.cert, 'utf8');
      const r2 = await tlsGet(`${server.url}/-/healthy`, [ca2]);
      assert.equal(r2.status, 200);
      assert.notEqual(r2.fingerprint, fp1);
      // A broken file on reload keeps the current certificate.
      writeFileSync(live.key, 'garbage');
      const errors = server.augur.reload();
      assert.equal(errors.length, 1);
      assert.equal((await tlsGet(`${server.url}/-/healthy`, [ca2])).status, 200);
    } finally {
      await server.close();
    }
  });
});
