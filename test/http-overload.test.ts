import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { compress, encodeV1 } from './helpers/remote-write.js';
import { V1_CONTENT_TYPE, getMetrics, request, startAugur } from './helpers/server.js';

const T0 = Date.UTC(2024, 0, 1);
const body = () => compress(encodeV1([{ labels: { __name__: 'ov_up', job: 'a' }, samples: [{ value: 1, timestamp: T0 }] }]));
const headers = { 'content-type': V1_CONTENT_TYPE, 'content-encoding': 'snappy' };

test('a write beyond max_inflight_requests is shed with 503 + Retry-After before its body is read', async () => {
  const server = await startAugur((c) => {
    c.web.max_inflight_requests = 1;
  });
  try {
    const b = body();
    // A request whose body is still arriving holds the only slot.
    const slow = http.request(`${server.url}/api/v1/write`, { method: 'POST', headers: { ...headers, 'content-length': b.length } });
    slow.on('error', () => undefined);
    slow.write(b.subarray(0, 1));
    await new Promise((r) => setTimeout(r, 200));
    const r = await request(`${server.url}/api/v1/write`, { method: 'POST', headers, body: b });
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    const done = new Promise<number>((resolve) => slow.on('response', (res) => { res.resume(); resolve(res.statusCode!); }));
    slow.end(b.subarray(1));
    assert.equal(await done, 204);
    // The slot is free again.
    assert.equal((await request(`${server.url}/api/v1/write`, { method: 'POST', headers, body: b })).status, 204);
    const m = await getMetrics(server);
    assert.match(m, /augur_write_requests_shed_total\{cause="inflight"\} 1/);
    assert.match(m, /augur_write_requests_rejected_total\{reason="overloaded"\} 1/);
  } finally {
    await server.close();
  }
});

test('writes are shed while the event loop lags beyond web.max_event_loop_lag', async () => {
  const server = await startAugur((c) => {
    c.web.max_event_loop_lag = '100ms';
    c.web.decode_threads = 0;
  });
  try {
    const b = body();
    assert.equal((await request(`${server.url}/api/v1/write`, { method: 'POST', headers, body: b })).status, 204);
    const pending = request(`${server.url}/api/v1/write`, { method: 'POST', headers, body: b });
    // Block the event loop for 400 ms while the request is on its way.
    const until = performance.now() + 400;
    while (performance.now() < until);
    const r = await pending;
    assert.equal(r.status, 503, r.text);
    assert.equal(r.headers['retry-after'], '1');
    assert.match(r.text, /event loop lagging/);
    // The lag decays: writes are accepted again shortly after.
    let status = 0;
    for (let i = 0; i < 50 && status !== 204; i++) {
      await new Promise((res) => setTimeout(res, 200));
      status = (await request(`${server.url}/api/v1/write`, { method: 'POST', headers, body: b })).status;
    }
    assert.equal(status, 204);
    assert.match(await getMetrics(server), /augur_write_requests_shed_total\{cause="event_loop_lag"\} [1-9]/);
  } finally {
    await server.close();
  }
});
