import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { Augur } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { MetricType } from '../src/series/kind.js';
import { compress, encodeV1, encodeV2, encodeV2Raw, type V1Series } from './helpers/remote-write.js';
import { pw, sampleMsg, v1Label } from './helpers/protowire.js';
import { staleMarker } from './helpers/fuzz-corpus.js';
import {
  V1_CONTENT_TYPE,
  V2_CONTENT_TYPE,
  counterValue,
  find,
  getMetrics,
  parseExposition,
  postProto,
  postRaw,
  request,
  startAugur,
  type Response,
  type Server,
} from './helpers/server.js';

const H_SAMPLES = 'x-prometheus-remote-write-samples-written';
const H_HISTOGRAMS = 'x-prometheus-remote-write-histograms-written';
const H_EXEMPLARS = 'x-prometheus-remote-write-exemplars-written';

const T0 = Date.UTC(2024, 0, 1);

/** `n` samples one second apart from `t0`, values from `f`. */
function series(n: number, f: (k: number) => number, t0 = T0): { value: number; timestamp: number }[] {
  const out = [];
  for (let k = 0; k < n; k++) out.push({ value: f(k), timestamp: t0 + k * 1000 });
  return out;
}

function noise(k: number): number {
  return Math.sin(k * 12.9898) * 0.5;
}

function assertWrittenHeaders(res: Response, samples: number, histograms: number, exemplars: number): void {
  assert.equal(res.headers[H_SAMPLES], String(samples), 'samples written');
  assert.equal(res.headers[H_HISTOGRAMS], String(histograms), 'histograms written');
  assert.equal(res.headers[H_EXEMPLARS], String(exemplars), 'exemplars written');
}

function assertNoWrittenHeaders(res: Response): void {
  assert.equal(res.headers[H_SAMPLES], undefined);
  assert.equal(res.headers[H_HISTOGRAMS], undefined);
  assert.equal(res.headers[H_EXEMPLARS], undefined);
}

function assertBadRequest(res: Response, message: RegExp): void {
  assert.equal(res.status, 400, res.text);
  assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
  assert.match(res.text, message);
  assert.ok(res.text.length < 500, 'a short message');
}

/** The whole suite runs with decoding in a worker thread and on the main thread. */
for (const [mode, threads] of [['decoding in a worker thread', 1], ['decoding on the main thread', 0]] as const) describe(`POST /api/v1/write, ${mode}`, () => {
  let server: Server;
  before(async () => {
    server = await startAugur((c) => {
      c.web.decode_threads = threads;
    });
  });
  after(async () => {
    await server.close();
  });

  it('answers 204 to remote write 1.0 without the written-count headers', async () => {
    const res = await postProto(server, encodeV1([{ labels: { __name__: 'v1_ok', job: 'j' }, samples: [{ value: 1, timestamp: T0 }] }]));
    assert.equal(res.status, 204, res.text);
    assert.equal(res.body.length, 0);
    assertNoWrittenHeaders(res);
    // Without proto= it is 1.0 too.
    const bare = await postRaw(server, compress(encodeV1([{ labels: { __name__: 'v1_ok', job: 'j' }, samples: [{ value: 2, timestamp: T0 + 1000 }] }])), { contentType: 'application/x-protobuf' });
    assert.equal(bare.status, 204);
    assertNoWrittenHeaders(bare);
    // An empty message is a valid, empty request.
    assert.equal((await postRaw(server, compress(new Uint8Array(0)))).status, 204);
  });

  it('answers 204 to remote write 2.0 with exact written counts', async () => {
    const res = await postProto(
      server,
      encodeV2([
        { labels: { __name__: 'v2_ok', job: 'j' }, samples: series(3, (k) => k), exemplars: [{ labels: { trace_id: 'a' }, value: 1, timestamp: T0 }], type: MetricType.GAUGE },
        { labels: { __name__: 'v2_ok', job: 'k' }, samples: series(2, (k) => k), exemplars: [{ value: 1, timestamp: T0 }, { value: 2, timestamp: T0 + 1000 }] },
        { labels: { __name__: 'v2_hist' }, histograms: [{ countInt: 1, sum: 1, schema: 0, timestamp: T0 }, { countInt: 2, sum: 2, schema: 0, timestamp: T0 + 1 }], type: MetricType.HISTOGRAM },
      ]),
      2,
    );
    assert.equal(res.status, 204, res.text);
    assert.equal(res.body.length, 0);
    assertWrittenHeaders(res, 5, 2, 3);
    // Samples dropped as out of order (older than, or as old as, the series' latest) are not written.
    const ooo = await postProto(server, encodeV2([
      { labels: { __name__: 'v2_ooo', job: 'j' }, samples: [T0 + 2000, T0, T0 + 1000, T0 + 2000, T0 + 3000].map((timestamp) => ({ value: 1, timestamp })) },
    ]), 2);
    assert.equal(ooo.status, 204, ooo.text);
    assertWrittenHeaders(ooo, 2, 0, 0);
    const resent = await postProto(server, encodeV2([{ labels: { __name__: 'v2_ooo', job: 'j' }, samples: [{ value: 1, timestamp: T0 + 3000 }] }]), 2);
    assertWrittenHeaders(resent, 0, 0, 0);
    // An empty v2 request: all zero.
    const empty = await postProto(server, encodeV2Raw({ symbols: [''] }), 2);
    assert.equal(empty.status, 204);
    assertWrittenHeaders(empty, 0, 0, 0);
  });

  it('accepts remote write 1.0 histograms and exemplars', async () => {
    const res = await postProto(server, encodeV1([
      { labels: { __name__: 'v1_hist' }, histograms: [{ countInt: 1, sum: 1, schema: 0, timestamp: T0 }] },
      { labels: { __name__: 'v1_ex_total' }, samples: [{ value: 1, timestamp: T0 }], exemplars: [{ labels: [{ name: 'trace_id', value: 'x' }], value: 1, timestamp: T0 }] },
    ]));
    assert.equal(res.status, 204, res.text);
    assertNoWrittenHeaders(res);
  });

  it('carries zero written counts on 2.0 failures and none on 1.0 failures', async () => {
    const bad2 = await postProto(server, encodeV2([{ labels: { job: 'no_name' }, samples: [{ value: 1, timestamp: T0 }] }]), 2);
    assertBadRequest(bad2, /__name__/);
    assertWrittenHeaders(bad2, 0, 0, 0);
    const corrupt2 = await postRaw(server, Buffer.from([0x05, 0x00]), { contentType: V2_CONTENT_TYPE });
    assert.equal(corrupt2.status, 400);
    assertWrittenHeaders(corrupt2, 0, 0, 0);
    const enc2 = await postRaw(server, compress(encodeV2([])), { contentType: V2_CONTENT_TYPE, encoding: 'gzip' });
    assert.equal(enc2.status, 415);
    assertWrittenHeaders(enc2, 0, 0, 0);
    const bad1 = await postProto(server, encodeV1([{ labels: { job: 'no_name' }, samples: [{ value: 1, timestamp: T0 }] }]));
    assertBadRequest(bad1, /__name__/);
    assertNoWrittenHeaders(bad1);
  });

  it('answers 415 to other content types and proto= values', async () => {
    const body = compress(encodeV1([{ labels: { __name__: 'ct' }, samples: [{ value: 1, timestamp: T0 }] }]));
    for (const ct of [
      'application/json',
      'text/plain',
      'application/protobuf',
      'application/octet-stream',
      'application/x-protobuf;proto=io.prometheus.write.v3.Request',
      'application/x-protobuf;proto=prometheus.WriteRequestV2',
      'application/x-protobuf; proto=',
      'application/x-protobuf;proto=io.prometheus.write.v2.RequestX',
      'multipart/form-data; boundary=x',
      'application/x-protobuf;proto=io.prometheus.write.v2.Request;proto=prometheus.WriteRequest',
      'application/x-protobuf, application/json',
      '',
    ]) {
      const res = await postRaw(server, body, { contentType: ct });
      assert.equal(res.status, 415, `${ct}: ${res.status} ${res.text}`);
      assert.match(res.text, /Content-Type|proto=/, ct);
      // A request that is not 2.0 as the decoder reads it carries no 2.0 counts.
      if (!ct.includes('v2.Request') || ct.includes(';proto=prometheus')) assertNoWrittenHeaders(res);
    }
    const none = await postRaw(server, body, { contentType: null });
    assert.equal(none.status, 415, none.text);
  });

  it('answers 415 to encodings other than snappy', async () => {
    const body = compress(encodeV1([{ labels: { __name__: 'enc' }, samples: [{ value: 1, timestamp: T0 }] }]));
    for (const enc of ['gzip', 'zstd', 'deflate', 'br', 'identity', 'snappy-framed', 'gzip, snappy']) {
      const res = await postRaw(server, body, { encoding: enc });
      assert.equal(res.status, 415, `${enc}: ${res.status} ${res.text}`);
      assert.match(res.text, /snappy/);
    }
    const none = await postRaw(server, body, { encoding: null });
    assert.equal(none.status, 415);
    assert.match(none.text, /Content-Encoding/);
  });

  it('parses Content-Type and Content-Encoding tolerantly', async () => {
    const v1 = compress(encodeV1([{ labels: { __name__: 'tolerant' }, samples: [{ value: 1, timestamp: T0 }] }]));
    // Each 2.0 body a second later than the one before, so that every one writes its sample.
    let t = T0;
    const v2Next = () => compress(encodeV2([{ labels: { __name__: 'tolerant2' }, samples: [{ value: 1, timestamp: (t += 1000) }] }]));
    for (const ct of ['application/x-protobuf; proto=prometheus.WriteRequest', 'Application/X-Protobuf;Proto=PROMETHEUS.WRITEREQUEST', 'application/x-protobuf ; proto = "prometheus.WriteRequest" ; charset=utf-8', ' application/x-protobuf ']) {
      const res = await postRaw(server, v1, { contentType: ct });
      assert.equal(res.status, 204, `${ct}: ${res.text}`);
      assertNoWrittenHeaders(res);
    }
    for (const ct of ['application/x-protobuf; proto=io.prometheus.write.v2.Request', 'APPLICATION/X-PROTOBUF;PROTO="io.prometheus.write.v2.Request"', 'application/x-protobuf ;  proto = io.prometheus.write.v2.request ']) {
      const res = await postRaw(server, v2Next(), { contentType: ct });
      assert.equal(res.status, 204, `${ct}: ${res.text}`);
      assertWrittenHeaders(res, 1, 0, 0);
    }
    for (const enc of ['SNAPPY', ' snappy ', 'Snappy']) {
      const res = await postRaw(server, v1, { encoding: enc });
      assert.equal(res.status, 204, `${enc}: ${res.text}`);
    }
    // A parameter that only ends in "proto" is not proto=: the body is 1.0, and answered as 1.0.
    const xproto = await postRaw(server, v1, { contentType: 'application/x-protobuf;xproto=io.prometheus.write.v2.Request' });
    assert.equal(xproto.status, 204, xproto.text);
    assertNoWrittenHeaders(xproto);
    // The version header is informational: a mismatch changes nothing.
    const res = await postRaw(server, v2Next(), { contentType: V2_CONTENT_TYPE, headers: { 'x-prometheus-remote-write-version': '0.1.0' } });
    assert.equal(res.status, 204);
    assertWrittenHeaders(res, 1, 0, 0);
  });

  it('answers 405 to other methods, those the router does not know included', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'SEARCH', 'LOCK', 'COPY']) {
      const res = await postRaw(server, method === 'GET' || method === 'HEAD' || method === 'TRACE' ? new Uint8Array(0) : compress(encodeV1([])), { method });
      assert.equal(res.status, 405, `${method}: ${res.status}`);
      assert.equal(res.headers['allow'], 'POST');
      assertNoWrittenHeaders(res);
      const v2 = await postRaw(server, method === 'GET' || method === 'HEAD' || method === 'TRACE' ? new Uint8Array(0) : compress(encodeV2([])), { method, contentType: V2_CONTENT_TYPE });
      assert.equal(v2.status, 405, `${method} 2.0: ${v2.status}`);
      assertWrittenHeaders(v2, 0, 0, 0);
    }
    const m = parseExposition(await getMetrics(server));
    assert.ok(counterValue(m, 'augur_write_requests_rejected_total', { reason: 'method_not_allowed' }) >= 22);
    // Elsewhere, an unknown method is still a 404.
    assert.equal((await request(server.url + '/nowhere', { method: 'TRACE' })).status, 404);
  });

  it('answers 400 with a readable reason to every validation error', async () => {
    const cases: [string, Uint8Array, 1 | 2, RegExp][] = [
      ['corrupt protobuf', Uint8Array.from([0x0a, 0x20, 0x01]), 1, /protobuf/],
      ['field number 0', Uint8Array.from([0x00, 0x00]), 1, /protobuf/],
      ['missing __name__', encodeV1([{ labels: { job: 'x' }, samples: [{ value: 1, timestamp: T0 }] }]), 1, /__name__/],
      ['empty label set', encodeV1([{ labels: {}, samples: [{ value: 1, timestamp: T0 }] }]), 1, /no labels/],
      ['duplicate label', encodeV1([{ labels: [['__name__', 'd'], ['job', 'a'], ['job', 'b']], samples: [{ value: 1, timestamp: T0 }] }]), 1, /"job" more than once/],
      ['empty label name', encodeV1([{ labels: [['__name__', 'd'], ['', 'v']] }]), 1, /empty name/],
      ['samples and histograms', encodeV1([{ labels: { __name__: 'sh' }, samples: [{ value: 1, timestamp: T0 }], histograms: [{ countInt: 1, sum: 1, schema: 0, timestamp: T0 }] }]), 1, /both samples and histograms/],
      ['invalid UTF-8', pw().bytesField(1, pw().bytesField(1, v1Label('__name__', 'x')).bytesField(1, pw().bytesField(1, 'job').bytesField(2, Uint8Array.from([0xff, 0xfe]))).bytesField(2, sampleMsg(1, T0))).finish(), 1, /UTF-8/],
      ['invalid UTF-8 metadata name', pw().bytesField(3, pw().uint(1, MetricType.COUNTER).bytesField(2, Uint8Array.from([0x6d, 0xff]))).finish(), 1, /UTF-8/],
      ['v2 missing __name__', encodeV2([{ labels: { job: 'x' } }]), 2, /__name__/],
      ['v2 duplicate label', encodeV2([{ labels: [['__name__', 'd'], ['a', '1'], ['a', '2']] }]), 2, /"a" more than once/],
      ['v2 bad label ref', encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 9] }] }), 2, /symbol 9/],
      ['v2 bad help_ref', encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2], metadata: { type: 2, helpRef: 40 } }] }), 2, /help_ref/],
      ['v2 bad unit_ref', encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2], metadata: { type: 2, unitRef: 41 } }] }), 2, /unit_ref/],
      ['v2 bad exemplar ref', encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2], exemplars: [{ labelsRefs: [1, 77], value: 1, timestamp: 1 }] }] }), 2, /exemplar/],
      ['v2 symbols[0] not empty', encodeV2Raw({ symbols: ['x', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2] }] }), 2, /symbols\[0\]/],
      ['v2 odd labels_refs', encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2, 1] }] }), 2, /odd/],
      ['v2 samples and histograms', encodeV2([{ labels: { __name__: 'sh' }, samples: [{ value: 1, timestamp: T0 }], histograms: [{ countInt: 1, sum: 1, schema: 0, timestamp: T0 }] }]), 2, /both/],
      ['v2 empty label set', encodeV2([{ labels: {} }]), 2, /no labels/],
      ['v2 empty label name (symbol 0)', encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2, 0, 0] }] }), 2, /empty name/],
      ['v2 empty label name (another empty symbol)', encodeV2Raw({ symbols: ['', '__name__', 'm', ''], timeseries: [{ labelsRefs: [1, 2, 3, 3] }] }), 2, /empty name/],
    ];
    for (const [what, raw, version, message] of cases) {
      const res = await postProto(server, raw, version);
      assert.equal(res.status, 400, `${what}: ${res.status} ${res.text}`);
      assert.match(res.text, message, what);
    }
    // Corrupt snappy.
    for (const body of [Buffer.alloc(0), Buffer.from([0x80]), Buffer.from([0x05, 0x00, 0x61]), Buffer.from([0x04, 0x01, 0x05])]) {
      const res = await postRaw(server, body);
      assertBadRequest(res, /snappy/);
    }
  });

  it('rejects a whole request when one series is bad, changing no model', async () => {
    const res = await postProto(server, encodeV1([
      { labels: { __name__: 'innocent_bystander' }, samples: [{ value: 1, timestamp: T0 }] },
      { labels: { job: 'guilty' }, samples: [{ value: 1, timestamp: T0 }] },
    ]));
    assert.equal(res.status, 400);
    const m = parseExposition(await getMetrics(server));
    assert.equal(find(m, 'augur_anomaly_score', { metric: 'innocent_bystander' }).length, 0);
  });

  it('accepts metadata-only requests, and their type decides the kind', async () => {
    const meta = await postProto(server, encodeV1([], [
      { type: MetricType.GAUGE, metricFamilyName: 'queue_depth_total', help: 'A gauge whose name ends in _total.' },
      { type: MetricType.COUNTER, metricFamilyName: 'jobs_done', help: 'A counter without the suffix.' },
    ]));
    assert.equal(meta.status, 204, meta.text);
    assertNoWrittenHeaders(meta);
    // Same shape of data for each: a steady climb of 10 per second from 1000.
    const climb = series(40, (k) => 1000 + 10 * k + noise(k));
    const res = await postProto(server, encodeV1([
      { labels: { __name__: 'queue_depth_total', job: 'kind' }, samples: climb },
      { labels: { __name__: 'other_depth_total', job: 'kind' }, samples: climb },
      { labels: { __name__: 'jobs_done', job: 'kind' }, samples: climb },
      { labels: { __name__: 'plain_gauge', job: 'kind' }, samples: climb },
    ]));
    assert.equal(res.status, 204, res.text);
    const m = parseExposition(await getMetrics(server));
    const expected = (name: string): number => {
      const f = find(m, 'augur_expected', { metric: name, job: 'kind' });
      assert.equal(f.length, 1, `augur_expected for ${name}`);
      return f[0]!.value;
    };
    // Gauges are scored on their value (about 1400 by now), counters on their rate (about 10/s).
    assert.ok(expected('queue_depth_total') > 500, `gauge by metadata: ${expected('queue_depth_total')}`);
    assert.ok(expected('plain_gauge') > 500);
    assert.ok(Math.abs(expected('other_depth_total') - 10) < 5, `counter by suffix: ${expected('other_depth_total')}`);
    assert.ok(Math.abs(expected('jobs_done') - 10) < 5, `counter by metadata: ${expected('jobs_done')}`);
  });

  it('takes the kind from a 2.0 series type', async () => {
    const climb = series(40, (k) => 1000 + 10 * k + noise(k));
    const res = await postProto(server, encodeV2([
      { labels: { __name__: 'v2_gauge_total', job: 'kind2' }, samples: climb, type: MetricType.GAUGE },
      { labels: { __name__: 'v2_counter', job: 'kind2' }, samples: climb, type: MetricType.COUNTER },
    ]), 2);
    assert.equal(res.status, 204, res.text);
    assertWrittenHeaders(res, 80, 0, 0);
    const m = parseExposition(await getMetrics(server));
    assert.ok(find(m, 'augur_expected', { metric: 'v2_gauge_total' })[0]!.value > 500);
    assert.ok(Math.abs(find(m, 'augur_expected', { metric: 'v2_counter' })[0]!.value - 10) < 5);
  });

  it('merges two 2.0 metadata fields of one series as protobuf does: a missing type keeps the first', async () => {
    const series2 = pw().packed(1, [1, 2]);
    for (let k = 0; k < 40; k++) series2.bytesField(2, sampleMsg(1000 + 10 * k + noise(k), T0 + k * 1000));
    series2.bytesField(5, pw().uint(1, MetricType.COUNTER)).bytesField(5, pw().uint(3, 3));
    const raw = pw().bytesField(4, '').bytesField(4, '__name__').bytesField(4, 'merged_meta_gauge').bytesField(4, 'help').bytesField(5, series2).finish();
    const res = await postProto(server, raw, 2);
    assert.equal(res.status, 204, res.text);
    const m = parseExposition(await getMetrics(server));
    const expected = find(m, 'augur_expected', { metric: 'merged_meta_gauge' })[0]!.value;
    assert.ok(Math.abs(expected - 10) < 5, `scored as a counter (rate about 10/s): ${expected}`);
  });

  it('takes the kind from a 2.0 series sent with its type and no samples', async () => {
    const climb = (from: number) => series(40, (k) => 1000 + 10 * (from + k) + noise(k), T0 + from * 1000);
    assert.equal((await postProto(server, encodeV2([{ labels: { __name__: 'v2_meta_only', job: 'kind2' }, samples: climb(0) }]), 2)).status, 204);
    let m = parseExposition(await getMetrics(server));
    assert.ok(find(m, 'augur_expected', { metric: 'v2_meta_only' })[0]!.value > 500, 'a gauge without a type');
    assert.equal((await postProto(server, encodeV2([{ labels: { __name__: 'v2_meta_only', job: 'kind2' }, samples: [], type: MetricType.COUNTER }]), 2)).status, 204);
    assert.equal((await postProto(server, encodeV2([{ labels: { __name__: 'v2_meta_only', job: 'kind2' }, samples: climb(40) }]), 2)).status, 204);
    m = parseExposition(await getMetrics(server));
    const expected = find(m, 'augur_expected', { metric: 'v2_meta_only' })[0]!.value;
    assert.ok(Math.abs(expected - 10) < 5, `a counter now (rate about 10/s): ${expected}`);
  });

  it('drops a sample more than 10 minutes ahead of its clock, which would freeze the series', async () => {
    const now = Date.now();
    const at = (t: number, v = 1) => encodeV2([{ labels: { __name__: 'from_the_future', job: 'j' }, samples: [{ value: v, timestamp: t }] }]);
    const before = parseExposition(await getMetrics(server));
    assertWrittenHeaders(await postProto(server, at(now - 30_000), 2), 1, 0, 0);
    assertWrittenHeaders(await postProto(server, at(now + 10 * 365 * 86_400_000, 2), 2), 0, 0, 0);
    // Within the tolerance for clock skew between hosts: written.
    assertWrittenHeaders(await postProto(server, at(now + 5 * 60_000, 3), 2), 1, 0, 0);
    assertWrittenHeaders(await postProto(server, at(now + 5 * 60_000 + 15_000, 4), 2), 1, 0, 0);
    const after = parseExposition(await getMetrics(server));
    assert.equal(counterValue(after, 'augur_samples_too_far_ahead_total') - counterValue(before, 'augur_samples_too_far_ahead_total'), 1);
  });

  it('switches a series to the kind its metadata gives when metadata arrives later', async () => {
    const first = await postProto(server, encodeV1([{ labels: { __name__: 'late_meta_total' }, samples: series(40, (k) => 1000 + 10 * k + noise(k)) }]));
    assert.equal(first.status, 204);
    let m = parseExposition(await getMetrics(server));
    assert.ok(Math.abs(find(m, 'augur_expected', { metric: 'late_meta_total' })[0]!.value - 10) < 5, 'a counter by its suffix');
    assert.equal((await postProto(server, encodeV1([], [{ type: MetricType.GAUGE, metricFamilyName: 'late_meta_total' }]))).status, 204);
    const second = await postProto(server, encodeV1([{ labels: { __name__: 'late_meta_total' }, samples: series(40, (k) => 1400 + 10 * k + noise(k), T0 + 40_000) }]));
    assert.equal(second.status, 204);
    m = parseExposition(await getMetrics(server));
    assert.ok(find(m, 'augur_expected', { metric: 'late_meta_total' })[0]!.value > 500, 'now a gauge');
    assert.ok(counterValue(m, 'augur_metric_families_known') >= 1);
  });

  it('accepts NaN and infinities without poisoning the score', async () => {
    const before = parseExposition(await getMetrics(server));
    const warm = series(45, (k) => 10 + noise(k));
    const t = T0 + 45_000;
    const res = await postProto(server, encodeV1([{
      labels: { __name__: 'poison_test', job: 'p' },
      samples: [...warm, { value: NaN, timestamp: t }, { value: Infinity, timestamp: t + 1000 }, { value: -Infinity, timestamp: t + 2000 }, ...series(5, (k) => 10 + noise(k + 50), t + 3000)],
    }]));
    assert.equal(res.status, 204, res.text);
    const after = parseExposition(await getMetrics(server));
    const score = find(after, 'augur_anomaly_score', { metric: 'poison_test' });
    assert.equal(score.length, 1);
    assert.ok(Number.isFinite(score[0]!.value) && score[0]!.value >= 0 && score[0]!.value <= 1, `score ${score[0]!.value}`);
    assert.ok(score[0]!.value < 0.99, 'ordinary values after the NaN are not anomalous');
    assert.equal(find(after, 'augur_anomaly', { metric: 'poison_test' })[0]!.value, 0);
    for (const fam of ['augur_expected', 'augur_expected_lower', 'augur_expected_upper']) {
      const f = find(after, fam, { metric: 'poison_test' });
      assert.equal(f.length, 1, fam);
      assert.ok(Number.isFinite(f[0]!.value) && Math.abs(f[0]!.value - 10) < 10, `${fam} ${f[0]!.value}`);
    }
    assert.equal(counterValue(after, 'augur_samples_non_finite_total') - counterValue(before, 'augur_samples_non_finite_total'), 3);
    // Only non-finite values: accepted, never exposed with a NaN score.
    const only = await postProto(server, encodeV1([{ labels: { __name__: 'only_nan' }, samples: [{ value: NaN, timestamp: T0 }, { value: Infinity, timestamp: T0 + 1 }] }]));
    assert.equal(only.status, 204);
    for (const s of find(parseExposition(await getMetrics(server)), 'augur_anomaly_score', { metric: 'only_nan' })) assert.ok(!Number.isNaN(s.value));
  });

  it('removes a series from /metrics at its stale marker', async () => {
    const name = 'stale_test';
    assert.equal((await postProto(server, encodeV1([{ labels: { __name__: name, job: 's' }, samples: series(5, (k) => k) }]))).status, 204);
    let m = parseExposition(await getMetrics(server));
    assert.equal(find(m, 'augur_anomaly_score', { metric: name }).length, 1);
    const before = counterValue(m, 'augur_stale_markers_total');
    const stale = await postProto(server, encodeV1([{ labels: { __name__: name, job: 's' }, samples: [{ value: staleMarker(), timestamp: T0 + 10_000 }] }]));
    assert.equal(stale.status, 204);
    m = parseExposition(await getMetrics(server));
    for (const fam of ['augur_anomaly_score', 'augur_anomaly', 'augur_anomaly_severity', 'augur_expected']) assert.equal(find(m, fam, { metric: name }).length, 0, fam);
    assert.equal(counterValue(m, 'augur_stale_markers_total') - before, 1);
    // It comes back with its next sample.
    assert.equal((await postProto(server, encodeV1([{ labels: { __name__: name, job: 's' }, samples: [{ value: 3, timestamp: T0 + 20_000 }] }]))).status, 204);
    m = parseExposition(await getMetrics(server));
    assert.equal(find(m, 'augur_anomaly_score', { metric: name }).length, 1);
    // A stale marker older than the latest sample is out of order: it does not end the series.
    assert.equal((await postProto(server, encodeV1([{ labels: { __name__: name, job: 's' }, samples: [{ value: staleMarker(), timestamp: T0 + 15_000 }] }]))).status, 204);
    m = parseExposition(await getMetrics(server));
    assert.equal(find(m, 'augur_anomaly_score', { metric: name }).length, 1);
    assert.equal(counterValue(m, 'augur_stale_markers_total') - before, 1);
    // A 2.0 stale marker works the same.
    assert.equal((await postProto(server, encodeV2([{ labels: { __name__: name, job: 's' }, samples: [{ value: staleMarker(), timestamp: T0 + 30_000 }] }]), 2)).status, 204);
    m = parseExposition(await getMetrics(server));
    assert.equal(find(m, 'augur_anomaly_score', { metric: name }).length, 0);
  });

  it('exposes UTF-8 metric names correctly escaped in the metric label', async () => {
    const name = 'my.metric "quoted" with\nnewline \\ and ü';
    const res = await postProto(server, encodeV1([{ labels: { __name__: name, 'http.method': 'GET', job: 'utf8', path: 'a"b\\c\nd' }, samples: series(3, (k) => k) }]));
    assert.equal(res.status, 204, res.text);
    const text = await getMetrics(server);
    assert.ok(text.includes('augur_anomaly_score{metric="my.metric \\"quoted\\" with\\nnewline \\\\ and ü",'), 'escaped metric label');
    const m = find(parseExposition(text), 'augur_anomaly_score', { job: 'utf8' });
    assert.equal(m.length, 1);
    assert.equal(m[0]!.labels['metric'], name);
    assert.equal(m[0]!.labels['http_method'], 'GET');
    assert.equal(m[0]!.labels['path'], 'a"b\\c\nd');
    // Through 2.0 the same series text comes out.
    const v2 = await postProto(server, encodeV2([{ labels: { __name__: 'k8s.pod cpu', 'service.name': 'x y' }, samples: [{ value: 1, timestamp: T0 }] }]), 2);
    assert.equal(v2.status, 204);
    const m2 = find(parseExposition(await getMetrics(server)), 'augur_anomaly_score', { metric: 'k8s.pod cpu' });
    assert.equal(m2.length, 1);
    assert.equal(m2[0]!.labels['service_name'], 'x y');
  });

  it('moves an original metric label to exported_metric', async () => {
    assert.equal((await postProto(server, encodeV1([{ labels: { __name__: 'has_metric_label', metric: 'orig' }, samples: [{ value: 1, timestamp: T0 }] }]))).status, 204);
    const m = find(parseExposition(await getMetrics(server)), 'augur_anomaly_score', { metric: 'has_metric_label' });
    assert.equal(m.length, 1);
    assert.equal(m[0]!.labels['exported_metric'], 'orig');
  });

  it('counts rejections by reason in its own metrics', async () => {
    const before = parseExposition(await getMetrics(server));
    const dup = encodeV1([{ labels: [['__name__', 'd'], ['a', '1'], ['a', '2']], samples: [{ value: 1, timestamp: T0 }, { value: 2, timestamp: T0 + 1 }] }]);
    await postProto(server, dup);
    await postProto(server, dup);
    await postRaw(server, compress(dup), { contentType: 'application/json' });
    await postRaw(server, compress(dup), { contentType: '' });
    await postRaw(server, compress(dup), { encoding: 'gzip' });
    await postRaw(server, Buffer.from([0x80]));
    await postRaw(server, new Uint8Array(0), { method: 'GET' });
    await postProto(server, encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2, 1] }] }), 2);
    const after = parseExposition(await getMetrics(server));
    const delta = (name: string, labels: Record<string, string>): number => counterValue(after, name, labels) - counterValue(before, name, labels);
    assert.equal(delta('augur_write_requests_rejected_total', { reason: 'duplicate_label_name' }), 2);
    assert.equal(delta('augur_write_requests_rejected_total', { reason: 'unsupported_media_type' }), 2);
    assert.equal(delta('augur_write_requests_rejected_total', { reason: 'unsupported_encoding' }), 1);
    assert.equal(delta('augur_write_requests_rejected_total', { reason: 'snappy_corrupt' }), 1);
    assert.equal(delta('augur_write_requests_rejected_total', { reason: 'method_not_allowed' }), 1);
    assert.equal(delta('augur_write_requests_rejected_total', { reason: 'odd_label_refs' }), 1);
    assert.equal(delta('augur_samples_rejected_total', { reason: 'duplicate_label_name' }), 4);
    assert.equal(delta('augur_http_requests_total', { handler: '/api/v1/write', code: '400' }), 4);
    assert.equal(delta('augur_http_requests_total', { handler: '/api/v1/write', code: '415' }), 3);
    assert.equal(delta('augur_http_requests_total', { handler: '/api/v1/write', code: '405' }), 1);
    // Accepted samples are counted too.
    const ok = await postProto(server, encodeV1([{ labels: { __name__: 'counted' }, samples: series(7, (k) => k) }]));
    assert.equal(ok.status, 204);
    const later = parseExposition(await getMetrics(server));
    assert.equal(counterValue(later, 'augur_samples_accepted_total') - counterValue(after, 'augur_samples_accepted_total'), 7);
  });
});

describe('overload', () => {
  let server: Server;
  before(async () => {
    server = await startAugur((c) => {
      c.web.decode_threads = 1;
      c.web.max_inflight_requests = 1;
    });
  });
  after(async () => {
    await server.close();
  });

  it('sheds requests past max_inflight_requests with 503 and Retry-After', async () => {
    const series = [];
    for (let i = 0; i < 2000; i++) series.push({ labels: { __name__: 'load', job: 'o', instance: `host-${i}`, pad: 'x'.repeat(40) }, samples: [{ value: i, timestamp: T0 }] });
    const v1 = compress(encodeV1(series));
    const v2 = compress(encodeV2(series));
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => postRaw(server, i % 2 === 0 ? v1 : v2, { contentType: i % 2 === 0 ? V1_CONTENT_TYPE : V2_CONTENT_TYPE })));
    const shed = results.filter((r) => r.status === 503);
    assert.ok(shed.length >= 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    for (const r of results) assert.ok(r.status === 204 || r.status === 503, `status ${r.status}`);
    for (const r of shed) {
      assert.match(String(r.headers['retry-after']), /^\d+$/);
      assert.match(r.text, /overloaded/);
    }
    results.forEach((r, i) => {
      if (i % 2 === 1 && r.status === 503) assertWrittenHeaders(r, 0, 0, 0);
      if (i % 2 === 0) assertNoWrittenHeaders(r);
    });
    const m = parseExposition(await getMetrics(server));
    assert.equal(counterValue(m, 'augur_write_requests_rejected_total', { reason: 'overloaded' }), shed.length);
    // Once the burst is over, requests go through again.
    assert.equal((await postRaw(server, v1)).status, 204);
  });
});

describe('overload by event-loop lag', () => {
  let server: Server;
  before(async () => {
    server = await startAugur((c) => {
      c.web.max_event_loop_lag = '100ms';
    });
  });
  after(async () => {
    await server.close();
  });

  it('sheds writes with 503 and Retry-After while the event loop lags, then recovers', async () => {
    const body = compress(encodeV2([{ labels: { __name__: 'lagged' }, samples: [{ value: 1, timestamp: T0 }] }]));
    // Accepted when the loop is calm (retrying, as a sender would, on a busy machine).
    const accepted = async (): Promise<number> => {
      let status = 0;
      for (let attempt = 0; attempt < 20 && status !== 204; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 500));
        status = (await postRaw(server, body, { contentType: V2_CONTENT_TYPE })).status;
      }
      return status;
    };
    assert.equal(await accepted(), 204);
    // Hold the event loop (the server shares this process) well past the limit.
    const until = performance.now() + 600;
    while (performance.now() < until) {
      // busy
    }
    await new Promise((r) => setTimeout(r, 5));
    const res = await postRaw(server, body, { contentType: V2_CONTENT_TYPE });
    assert.equal(res.status, 503, res.text);
    assert.match(String(res.headers['retry-after']), /^\d+$/);
    assert.match(res.text, /event loop/);
    assertWrittenHeaders(res, 0, 0, 0);
    // Reads are never shed.
    assert.equal((await request(server.url + '/-/healthy')).status, 200);
    // Back to normal once the lag has decayed.
    assert.equal(await accepted(), 204);
  });
});

describe('size limits', () => {
  let server: Server;
  before(async () => {
    server = await startAugur((c) => {
      c.web.max_body_bytes = 4096;
      c.web.max_decoded_bytes = 2048;
    });
  });
  after(async () => {
    await server.close();
  });

  it('answers 413 to a body over max_body_bytes', async () => {
    const big = new Uint8Array(5000).fill(1);
    const res = await postRaw(server, big);
    assert.equal(res.status, 413, res.text);
    assert.match(res.text, /4096/);
    assertNoWrittenHeaders(res);
    const v2 = await postRaw(server, big, { contentType: V2_CONTENT_TYPE });
    assert.equal(v2.status, 413, v2.text);
    assertWrittenHeaders(v2, 0, 0, 0);
    // Also when it arrives chunked, without a Content-Length.
    const chunked = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ request: req }) => {
        const r = req(server.url + '/api/v1/write', { method: 'POST', headers: { 'content-type': V1_CONTENT_TYPE, 'content-encoding': 'snappy', 'transfer-encoding': 'chunked' } }, (res2) => {
          res2.resume();
          res2.on('end', () => resolve(res2.statusCode ?? 0));
        });
        r.on('error', reject);
        for (let i = 0; i < 10; i++) r.write(Buffer.alloc(1000, 1));
        r.end();
      }, reject);
    });
    assert.equal(chunked, 413);
    const m = parseExposition(await getMetrics(server));
    assert.ok(counterValue(m, 'augur_write_requests_rejected_total', { reason: 'body_too_large' }) >= 1);
  });

  it('answers 400 when the declared decoded size is over the cap', async () => {
    // Compresses to far less than the body limit, decodes to more than the decoded limit.
    const labels: Record<string, string> = { __name__: 'big' };
    for (let i = 0; i < 40; i++) labels[`label_${i}`] = 'x'.repeat(60);
    const raw = encodeV1([{ labels, samples: [{ value: 1, timestamp: T0 }] }]);
    assert.ok(raw.length > 2048);
    const body = compress(raw);
    assert.ok(body.length < 4096);
    const res = await postRaw(server, body);
    assertBadRequest(res, /exceeds the limit of 2048/);
    // A header declaring 4 GiB with a tiny body.
    const bomb = await postRaw(server, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00]));
    assert.equal(bomb.status, 400);
    const m = parseExposition(await getMetrics(server));
    assert.ok(counterValue(m, 'augur_write_requests_rejected_total', { reason: 'decoded_too_large' }) >= 2);
    // Just under both limits is fine.
    const ok = await postProto(server, encodeV1([{ labels: { __name__: 'small' }, samples: [{ value: 1, timestamp: T0 }] }]));
    assert.equal(ok.status, 204);
  });
});

describe('GET /metrics and health', () => {
  let server: Server;
  before(async () => {
    server = await startAugur();
    const res = await postProto(server, encodeV1([
      { labels: { __name__: 'expo_a', job: 'e' }, samples: series(40, (k) => 5 + noise(k)) },
      { labels: { __name__: 'expo_b_total', job: 'e' }, samples: series(40, (k) => 100 * k) },
    ]));
    assert.equal(res.status, 204);
  });
  after(async () => {
    await server.close();
  });

  it('serves the text format 0.0.4 by default', async () => {
    const res = await request(server.url + '/metrics');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(res.headers['content-encoding'], undefined);
    assert.ok(!res.text.includes('# EOF'));
    assert.ok(res.text.endsWith('\n'));
    const m = parseExposition(res.text);
    assert.equal(find(m, 'augur_anomaly_score', { metric: 'expo_a', job: 'e' }).length, 1);
    assert.equal(find(m, 'augur_anomaly_score', { metric: 'expo_b_total', job: 'e' }).length, 1);
    assert.ok(find(m, 'augur_http_requests_total').length > 0);
    assert.match(res.text, /^# TYPE augur_anomaly_score gauge$/m);
    assert.match(res.text, /^# TYPE augur_http_requests_total counter$/m);
  });

  it('serves OpenMetrics when the Accept header asks, ending in # EOF', async () => {
    const res = await request(server.url + '/metrics', { headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
    assert.ok(res.text.endsWith('# EOF\n'));
    assert.equal(res.text.indexOf('# EOF'), res.text.length - 6, 'one # EOF, at the end');
    // OpenMetrics counter families drop _total in metadata and keep it on samples.
    assert.match(res.text, /^# TYPE augur_http_requests counter$/m);
    assert.match(res.text, /^augur_http_requests_total\{/m);
    assert.doesNotMatch(res.text, /_total_total/);
    assert.equal(find(parseExposition(res.text), 'augur_anomaly_score', { metric: 'expo_a' }).length, 1);
    // Text preferred by q: text.
    const text = await request(server.url + '/metrics', { headers: { accept: 'application/openmetrics-text;q=0.3,text/plain;q=0.9' } });
    assert.match(text.headers['content-type'] ?? '', /^text\/plain/);
    assert.ok(!text.text.includes('# EOF'));
  });

  it('gzips when asked and only then', async () => {
    for (const accept of [undefined, 'application/openmetrics-text']) {
      const headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate' };
      if (accept) headers['accept'] = accept;
      const res = await request(server.url + '/metrics', { headers });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], 'gzip');
      const text = gunzipSync(res.body).toString('utf8');
      assert.equal(find(parseExposition(text), 'augur_anomaly_score', { metric: 'expo_a' }).length, 1);
      if (accept) assert.ok(text.endsWith('# EOF\n'));
    }
    for (const refused of ['identity', 'gzip;q=0, identity']) {
      const plain = await request(server.url + '/metrics', { headers: { 'accept-encoding': refused } });
      assert.equal(plain.headers['content-encoding'], undefined, refused);
      assert.equal(plain.headers['vary'], 'Accept, Accept-Encoding');
    }
  });

  it('answers /-/healthy and /-/ready, 404 elsewhere', async () => {
    const healthy = await request(server.url + '/-/healthy');
    assert.equal(healthy.status, 200);
    assert.ok(healthy.text.length > 0);
    const ready = await request(server.url + '/-/ready');
    assert.equal(ready.status, 200);
    const missing = await request(server.url + '/nope');
    assert.equal(missing.status, 404);
  });

  it('answers /-/ready 503, and everything but health 503, until it has restored and listens', async () => {
    const augur = new Augur(defaultConfig(), createLogger('silent', 'json'));
    try {
      const res = await augur.app.inject({ method: 'GET', url: '/-/ready' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '1');
      assert.equal((await augur.app.inject({ method: 'GET', url: '/-/healthy' })).statusCode, 200);
      // Until then (a snapshot being restored) everything else is a 503 to retry, writes included.
      for (const [method, url] of [['GET', '/metrics'], ['GET', '/api/v1/anomalies'], ['POST', '/api/v1/write']] as const) {
        const r = await augur.app.inject({ method, url, headers: { 'content-type': V2_CONTENT_TYPE, 'content-encoding': 'snappy' }, payload: method === 'POST' ? Buffer.from(compress(encodeV2([]))) : undefined });
        assert.equal(r.statusCode, 503, `${method} ${url}`);
        assert.equal(r.headers['retry-after'], '1');
        assert.match(r.body, /not ready/);
        if (method === 'POST') assert.equal(r.headers[H_SAMPLES], '0');
      }
    } finally {
      await augur.close();
    }
  });
});
