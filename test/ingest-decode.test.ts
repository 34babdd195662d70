import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Long from 'long';
import { Batch } from '../src/ingest/batch.js';
import { decodeV1 } from '../src/ingest/decode-v1.js';
import { V2Decoder } from '../src/ingest/decode-v2.js';
import type { LabelLimits } from '../src/ingest/labelset.js';
import { Receiver } from '../src/ingest/receiver.js';
import { WireReader } from '../src/ingest/wire.js';
import { AugurError } from '../src/errors.js';
import { MetricType } from '../src/series/kind.js';
import { V1WriteRequest, V1_CONTENT_TYPE, V2_CONTENT_TYPE, compress, encodeV1, encodeV2, encodeV2Raw } from './helpers/remote-write.js';
import { pw, sampleMsg, v1Label } from './helpers/protowire.js';
import { staleMarker } from './helpers/fuzz-corpus.js';

const LIMITS: LabelLimits = { maxLabels: 256, maxNameLength: 1024, maxValueLength: 65536 };

interface DecodedSeries {
  labels: [string, string][];
  name: string;
  samples: { value: number; time: number; stale: number }[];
  type: number;
  hash: string;
}

interface Decoded {
  series: DecodedSeries[];
  metadata: { name: string; type: number }[];
  histograms: number;
  exemplars: number;
  samples: number;
}

function str(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('utf8');
}

function view(batch: Batch): Decoded {
  const b = batch.buf;
  const series: DecodedSeries[] = [];
  for (let s = 0; s < batch.seriesCount; s++) {
    const labels: [string, string][] = [];
    const ls = batch.seriesLabelStart[s]!;
    for (let k = ls; k < ls + batch.seriesLabelCount[s]!; k++) {
      labels.push([str(b, batch.nameStart[k]!, batch.nameEnd[k]!), str(b, batch.valueStart[k]!, batch.valueEnd[k]!)]);
    }
    const samples = [];
    const ss = batch.seriesSampleStart[s]!;
    for (let k = ss; k < ss + batch.seriesSampleCount[s]!; k++) {
      samples.push({ value: batch.sampleValue[k]!, time: batch.sampleTime[k]!, stale: batch.sampleStale[k]! });
    }
    series.push({
      labels,
      name: labels[batch.seriesNameLabel[s]!]![1],
      samples,
      type: batch.seriesType[s]!,
      hash: `${batch.seriesHashHi[s]!.toString(16)}:${batch.seriesHashLo[s]!.toString(16)}:${batch.seriesKeyLen[s]}`,
    });
  }
  const metadata = [];
  for (let m = 0; m < batch.metadataCount; m++) {
    metadata.push({ name: str(b, batch.metaNameStart[m]!, batch.metaNameEnd[m]!), type: batch.metaType[m]! });
  }
  return { series, metadata, histograms: batch.histogramCount, exemplars: batch.exemplarCount, samples: batch.sampleCount };
}

const v2decoder = new V2Decoder();

function decode(raw: Uint8Array, version: 1 | 2, limits: LabelLimits = LIMITS, maxSeries = 0): Decoded {
  const batch = new Batch();
  batch.reset(raw);
  const r = new WireReader();
  r.reset(raw);
  if (version === 1) decodeV1(r, batch, limits, maxSeries);
  else v2decoder.decode(r, batch, limits, maxSeries);
  return view(batch);
}

/** Asserts that decoding throws an AugurError with `code` (without the prefix) and status 400. */
function rejects(raw: Uint8Array, version: 1 | 2, code: string, message?: RegExp, limits: LabelLimits = LIMITS, maxSeries = 0): AugurError {
  let err: unknown;
  try {
    decode(raw, version, limits, maxSeries);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof AugurError, `expected an AugurError ${code}, got ${err === undefined ? 'success' : String(err)}`);
  assert.equal(err.code, `AUGUR_ERR_${code}`, err.message);
  assert.equal(err.statusCode, 400);
  assert.ok(err.message.length > 0);
  if (message) assert.match(err.message, message);
  return err;
}

function nanWithBits(hi: number, lo: number): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setUint32(4, hi, true);
  dv.setUint32(0, lo, true);
  return dv.getFloat64(0, true);
}

describe('remote write 1.0 decoder', () => {
  it('decodes labels and samples of several series', () => {
    const d = decode(
      encodeV1([
        { labels: { __name__: 'http_requests_total', job: 'api', instance: 'a:9090' }, samples: [{ value: 1.5, timestamp: 1700000000000 }, { value: 2.5, timestamp: 1700000015000 }] },
        { labels: { __name__: 'up', job: 'node' }, samples: [{ value: 0, timestamp: 1700000000001 }] },
      ]),
      1,
    );
    assert.equal(d.series.length, 2);
    assert.deepEqual(d.series[0]!.labels, [['__name__', 'http_requests_total'], ['instance', 'a:9090'], ['job', 'api']]);
    assert.equal(d.series[0]!.name, 'http_requests_total');
    assert.deepEqual(d.series[0]!.samples, [{ value: 1.5, time: 1700000000000, stale: 0 }, { value: 2.5, time: 1700000015000, stale: 0 }]);
    assert.deepEqual(d.series[1]!.labels, [['__name__', 'up'], ['job', 'node']]);
    assert.deepEqual(d.series[1]!.samples, [{ value: 0, time: 1700000000001, stale: 0 }]);
    assert.equal(d.series[0]!.type, -1);
    assert.equal(d.samples, 3);
    assert.equal(d.histograms, 0);
    assert.equal(d.exemplars, 0);
    assert.notEqual(d.series[0]!.hash, d.series[1]!.hash);
  });

  it('decodes an empty request and a series without samples', () => {
    assert.deepEqual(decode(new Uint8Array(0), 1).series, []);
    const d = decode(encodeV1([{ labels: { __name__: 'x' } }]), 1);
    assert.equal(d.series.length, 1);
    assert.deepEqual(d.series[0]!.samples, []);
  });

  it('decodes metadata-only requests', () => {
    const d = decode(
      encodeV1([], [
        { type: MetricType.COUNTER, metricFamilyName: 'http_requests', help: 'Requests.', unit: '' },
        { type: MetricType.GAUGE, metricFamilyName: 'queue_length_total', help: 'A gauge despite its name.' },
        { type: MetricType.HISTOGRAM, metricFamilyName: 'latency_seconds', unit: 'seconds' },
        { type: MetricType.SUMMARY, metricFamilyName: 'rpc_duration_seconds' },
      ]),
      1,
    );
    assert.equal(d.series.length, 0);
    assert.deepEqual(d.metadata, [
      { name: 'http_requests', type: MetricType.COUNTER },
      { name: 'queue_length_total', type: MetricType.GAUGE },
      { name: 'latency_seconds', type: MetricType.HISTOGRAM },
      { name: 'rpc_duration_seconds', type: MetricType.SUMMARY },
    ]);
  });

  it('sorts unsorted labels and gives them the identity of the sorted set', () => {
    const sorted = decode(encodeV1([{ labels: [['__name__', 'm'], ['a', '1'], ['b', '2'], ['zz', '3']] }]), 1).series[0]!;
    for (const order of [
      [['zz', '3'], ['b', '2'], ['a', '1'], ['__name__', 'm']],
      [['b', '2'], ['__name__', 'm'], ['zz', '3'], ['a', '1']],
      [['a', '1'], ['zz', '3'], ['__name__', 'm'], ['b', '2']],
    ] as [string, string][][]) {
      const s = decode(encodeV1([{ labels: order }]), 1).series[0]!;
      assert.deepEqual(s.labels, sorted.labels);
      assert.equal(s.hash, sorted.hash);
      assert.equal(s.name, 'm');
    }
    // Sorting is bytewise: upper case before '_' before lower case, shorter prefix first.
    const s = decode(encodeV1([{ labels: [['b', '1'], ['B', '2'], ['ab', '3'], ['a', '4'], ['__name__', 'x']] }]), 1).series[0]!;
    assert.deepEqual(s.labels.map((l) => l[0]), ['B', '__name__', 'a', 'ab', 'b']);
  });

  it('tells label sets apart by their bytes, not by concatenation', () => {
    const a = decode(encodeV1([{ labels: [['__name__', 'm'], ['a', 'bc']] }]), 1).series[0]!;
    const b = decode(encodeV1([{ labels: [['__name__', 'm'], ['ab', 'c']] }]), 1).series[0]!;
    const c = decode(encodeV1([{ labels: [['__name__', 'm'], ['a', 'b'], ['c', '']] }]), 1).series[0]!;
    const d = decode(encodeV1([{ labels: [['__name__', 'm'], ['a', 'b']] }]), 1).series[0]!;
    assert.notEqual(a.hash, b.hash);
    assert.notEqual(a.hash, d.hash);
    assert.equal(c.hash, d.hash);
  });

  it('treats a label with an empty value as absent', () => {
    const plain = decode(encodeV1([{ labels: { __name__: 'm', job: 'x' } }]), 1).series[0]!;
    const withEmpty = decode(encodeV1([{ labels: { __name__: 'm', job: 'x', instance: '', zone: '' } }]), 1).series[0]!;
    assert.deepEqual(withEmpty.labels, plain.labels);
    assert.equal(withEmpty.hash, plain.hash);
    // Two empty-valued labels with one name are not duplicates: both are absent.
    const twice = decode(encodeV1([{ labels: [['__name__', 'm'], ['job', 'x'], ['dup', ''], ['dup', '']] }]), 1).series[0]!;
    assert.equal(twice.hash, plain.hash);
  });

  it('rejects duplicate label names, sorted or not', () => {
    rejects(encodeV1([{ labels: [['__name__', 'm'], ['job', 'a'], ['job', 'b']] }]), 1, 'DUPLICATE_LABEL_NAME', /"job"/);
    rejects(encodeV1([{ labels: [['job', 'a'], ['__name__', 'm'], ['job', 'a']] }]), 1, 'DUPLICATE_LABEL_NAME', /"job"/);
    rejects(encodeV1([{ labels: [['__name__', 'm'], ['__name__', 'n']] }]), 1, 'DUPLICATE_LABEL_NAME', /__name__/);
  });

  it('rejects a series without __name__', () => {
    rejects(encodeV1([{ labels: { job: 'x' } }]), 1, 'MISSING_METRIC_NAME', /__name__/);
    rejects(encodeV1([{ labels: { __name__: '', job: 'x' } }]), 1, 'MISSING_METRIC_NAME');
    // The name label is recognised exactly.
    rejects(encodeV1([{ labels: { __name_: 'm', ___name__: 'n', __NAME__: 'o' } }]), 1, 'MISSING_METRIC_NAME');
  });

  it('rejects an empty label set', () => {
    rejects(encodeV1([{ labels: {} }]), 1, 'EMPTY_LABEL_SET');
    rejects(encodeV1([{ labels: { a: '', b: '' } }]), 1, 'EMPTY_LABEL_SET');
    // A bad series anywhere fails the request.
    rejects(encodeV1([{ labels: { __name__: 'ok' } }, { labels: {} }]), 1, 'EMPTY_LABEL_SET');
  });

  it('rejects an empty label name', () => {
    rejects(encodeV1([{ labels: [['__name__', 'm'], ['', 'v']] }]), 1, 'EMPTY_LABEL_NAME');
    rejects(encodeV1([{ labels: [['__name__', 'm'], ['', '']] }]), 1, 'EMPTY_LABEL_NAME');
  });

  it('rejects a series that carries samples and histograms', () => {
    rejects(
      encodeV1([{ labels: { __name__: 'h' }, samples: [{ value: 1, timestamp: 1 }], histograms: [{ countInt: 1, sum: 2, schema: 0, timestamp: 1 }] }]),
      1,
      'SAMPLES_AND_HISTOGRAMS',
    );
    // Histograms first, then samples, is the same mistake.
    const raw = pw()
      .bytesField(1, pw().bytesField(1, v1Label('__name__', 'h')).bytesField(4, pw().uint(1, 1).uint(15, 5)).bytesField(2, sampleMsg(1, 5)))
      .finish();
    rejects(raw, 1, 'SAMPLES_AND_HISTOGRAMS');
  });

  it('counts histograms and exemplars', () => {
    const d = decode(
      encodeV1([
        { labels: { __name__: 'h1' }, histograms: [{ countInt: 3, sum: 1, schema: 0, timestamp: 1 }, { countInt: 4, sum: 2, schema: 0, timestamp: 2 }] },
        { labels: { __name__: 'h2' }, histograms: [{ countFloat: 1.5, sum: 1, schema: 3, timestamp: 1, positiveSpans: [{ offset: 0, length: 1 }], positiveDeltas: [1] }] },
        {
          labels: { __name__: 'c_total' },
          samples: [{ value: 1, timestamp: 1 }],
          exemplars: [
            { labels: [{ name: 'trace_id', value: 'abc' }], value: 1, timestamp: 1 },
            { labels: [{ name: 'trace_id', value: 'def' }], value: 2, timestamp: 2 },
            { labels: [], value: 3, timestamp: 3 },
          ],
        },
      ]),
      1,
    );
    assert.equal(d.histograms, 3);
    assert.equal(d.exemplars, 3);
    assert.equal(d.samples, 1);
    assert.deepEqual(d.series.map((s) => s.samples.length), [0, 0, 1]);
  });

  it('keeps NaN, +Inf and -Inf values', () => {
    const d = decode(
      encodeV1([{ labels: { __name__: 'm' }, samples: [{ value: NaN, timestamp: 1 }, { value: Infinity, timestamp: 2 }, { value: -Infinity, timestamp: 3 }, { value: -0, timestamp: 4 }, { value: Number.MAX_VALUE, timestamp: 5 }, { value: Number.MIN_VALUE, timestamp: 6 }] }]),
      1,
    );
    const v = d.series[0]!.samples.map((s) => s.value);
    assert.ok(Number.isNaN(v[0]));
    assert.equal(v[1], Infinity);
    assert.equal(v[2], -Infinity);
    assert.ok(Object.is(v[3], -0));
    assert.equal(v[4], Number.MAX_VALUE);
    assert.equal(v[5], Number.MIN_VALUE);
    assert.deepEqual(d.series[0]!.samples.map((s) => s.stale), [0, 0, 0, 0, 0, 0]);
  });

  it('detects the stale marker by its exact bits and no other NaN', () => {
    // Built as objects one by one: V8 canonicalises NaN payloads inside arrays of doubles.
    const samples = [
      { value: staleMarker(), timestamp: 1 },
      { value: NaN, timestamp: 2 },
      { value: nanWithBits(0x7ff00000, 0x00000001), timestamp: 3 },
      { value: nanWithBits(0x7ff00000, 0x00000003), timestamp: 4 },
      { value: nanWithBits(0xfff00000, 0x00000002), timestamp: 5 },
      { value: nanWithBits(0x7ff80000, 0x00000002), timestamp: 6 },
      { value: 1, timestamp: 7 },
    ];
    const d = decode(encodeV1([{ labels: { __name__: 'm' }, samples }]), 1);
    assert.deepEqual(d.series[0]!.samples.map((s) => s.stale), [1, 0, 0, 0, 0, 0, 0]);
    assert.ok(Number.isNaN(d.series[0]!.samples[0]!.value));
    // Hand-encoded bits, independent of how protobufjs writes a NaN.
    const raw = pw()
      .bytesField(1, pw().bytesField(1, v1Label('__name__', 'm')).bytesField(2, pw().doubleBits(1, 0x7ff00000, 2).uint(2, 10)).bytesField(2, pw().doubleBits(1, 0x7ff80000, 0).uint(2, 11)))
      .finish();
    const h = decode(raw, 1);
    assert.deepEqual(h.series[0]!.samples.map((s) => [s.stale, s.time]), [[1, 10], [0, 11]]);
  });

  it('decodes negative and huge timestamps', () => {
    const times: (number | Long)[] = [0, -1, -1000, -86_400_000, 1_700_000_000_000, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 40, Long.MAX_VALUE, Long.MIN_VALUE];
    const raw = V1WriteRequest.encode(V1WriteRequest.fromObject({ timeseries: [{ labels: [{ name: '__name__', value: 'm' }], samples: times.map((timestamp, i) => ({ value: i, timestamp })) }] })).finish();
    const got = decode(raw, 1).series[0]!.samples.map((s) => s.time);
    assert.deepEqual(got.slice(0, 8), [0, -1, -1000, -86_400_000, 1_700_000_000_000, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 40]);
    assert.equal(got[8], 9223372036854775807);
    assert.equal(got[9], -9223372036854775808);
    // Each sample's value still lines up with its timestamp.
    assert.deepEqual(decode(raw, 1).series[0]!.samples.map((s) => s.value), times.map((_, i) => i));
  });

  it('skips unknown fields of every wire type at every level', () => {
    const label = pw().uint(7, 99).bytesField(1, 'job').fixed32(9, 5).bytesField(2, 'x').double(3, 1.5);
    const sample = pw().uint(9, 2 ** 60).double(1, 42).fixed32(8, 1).uint(2, 1234).bytesField(5, 'junk');
    const series = pw()
      .bytesField(9, 'unknown')
      .bytesField(1, v1Label('__name__', 'm'))
      .uint(10, 7)
      .bytesField(1, label)
      .double(11, 3)
      .bytesField(2, sample)
      .fixed32(12, 3);
    const meta = pw().uint(7, 1).uint(1, MetricType.GAUGE).bytesField(4, 'help').bytesField(2, 'm').bytesField(5, 'unit').fixed32(6, 0);
    const raw = pw().uint(2, 5).bytesField(1, series).fixed32(15, 1).double(16, 2).bytesField(3, meta).bytesField(1000, 'big field number').finish();
    const d = decode(raw, 1);
    assert.deepEqual(d.series[0]!.labels, [['__name__', 'm'], ['job', 'x']]);
    assert.deepEqual(d.series[0]!.samples, [{ value: 42, time: 1234, stale: 0 }]);
    assert.deepEqual(d.metadata, [{ name: 'm', type: MetricType.GAUGE }]);
  });

  it('accepts UTF-8 names and values with dots, spaces, quotes and newlines', () => {
    const name = 'my.metric "quoted" with\nnewline and \\ backslash ü 温度';
    const d = decode(encodeV1([{ labels: { __name__: name, 'http.method': 'GET "x"\n', 'label with space': 'ä', 'quote"name': 'v' }, samples: [{ value: 1, timestamp: 1 }] }]), 1);
    const s = d.series[0]!;
    assert.equal(s.name, name);
    assert.deepEqual(Object.fromEntries(s.labels), { __name__: name, 'http.method': 'GET "x"\n', 'label with space': 'ä', 'quote"name': 'v' });
  });

  it('rejects corrupt protobuf with a 400', () => {
    const good = encodeV1([{ labels: { __name__: 'm', job: 'x' }, samples: [{ value: 1, timestamp: 1 }] }]);
    // Every proper prefix that cuts a field is corrupt; none may throw anything but an AugurError.
    for (let n = 1; n < good.length; n++) {
      try {
        decode(good.subarray(0, n), 1);
      } catch (e) {
        assert.ok(e instanceof AugurError, `prefix ${n}: ${String(e)}`);
        assert.equal(e.statusCode, 400);
      }
    }
    rejects(good.subarray(0, good.length - 1), 1, 'PROTOBUF_CORRUPT');
    rejects(Uint8Array.from([0x00]), 1, 'PROTOBUF_CORRUPT', /field number 0/);
    rejects(Uint8Array.from([0x0a, 0x05, 0x01]), 1, 'PROTOBUF_CORRUPT', /runs past/);
    rejects(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), 1, 'PROTOBUF_CORRUPT');
    rejects(Uint8Array.from([0x0b]), 1, 'PROTOBUF_CORRUPT', /wire type 3/);
    rejects(Uint8Array.from([0x0f]), 1, 'PROTOBUF_CORRUPT', /wire type 7/);
    rejects(Uint8Array.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 1, 'PROTOBUF_CORRUPT', /longer than 10 bytes/);
    rejects(Uint8Array.from([0x10, 0xff, 0xff]), 1, 'PROTOBUF_CORRUPT', /truncated varint/);
    rejects(Uint8Array.from([0x09, 1, 2, 3]), 1, 'PROTOBUF_CORRUPT', /fixed64/);
    rejects(Uint8Array.from([0x0d, 1, 2]), 1, 'PROTOBUF_CORRUPT', /fixed32/);
    // A sample whose double is cut short inside an otherwise well-framed series.
    rejects(pw().bytesField(1, pw().bytesField(1, v1Label('__name__', 'm')).bytesField(2, pw().tag(1, 1).raw([1, 2, 3]))).finish(), 1, 'PROTOBUF_CORRUPT');
  });

  it('accepts ten-byte varints where protobuf allows them', () => {
    // A negative int32 metadata type is sign-extended to ten bytes.
    const d = decode(pw().bytesField(3, pw().uint(1, -1n).bytesField(2, 'm')).finish(), 1);
    assert.equal(d.metadata.length, 1);
    assert.equal(d.metadata[0]!.type, -1);
  });

  it('enforces the label and series limits', () => {
    const many: Record<string, string> = { __name__: 'm' };
    for (let i = 0; i < 10; i++) many[`l${i}`] = 'v';
    rejects(encodeV1([{ labels: many }]), 1, 'TOO_MANY_LABELS', undefined, { ...LIMITS, maxLabels: 5 });
    rejects(encodeV1([{ labels: { __name__: 'm', ['n'.repeat(20)]: 'v' } }]), 1, 'LABEL_TOO_LONG', undefined, { ...LIMITS, maxNameLength: 10 });
    rejects(encodeV1([{ labels: { __name__: 'm', n: 'v'.repeat(20) } }]), 1, 'LABEL_TOO_LONG', undefined, { ...LIMITS, maxValueLength: 10 });
    rejects(encodeV1([{ labels: { __name__: 'a' } }, { labels: { __name__: 'b' } }, { labels: { __name__: 'c' } }]), 1, 'TOO_MANY_SERIES', undefined, LIMITS, 2);
    assert.equal(decode(encodeV1([{ labels: { __name__: 'a' } }, { labels: { __name__: 'b' } }]), 1, LIMITS, 2).series.length, 2);
  });

  it('handles requests larger than the initial scratch arrays', () => {
    const series = [];
    for (let i = 0; i < 3000; i++) {
      series.push({ labels: { __name__: 'm', i: String(i), a: 'x', b: 'y' }, samples: [{ value: i, timestamp: 1 }, { value: i + 0.5, timestamp: 2 }] });
    }
    const d = decode(encodeV1(series), 1);
    assert.equal(d.series.length, 3000);
    assert.equal(d.samples, 6000);
    assert.equal(new Set(d.series.map((s) => s.hash)).size, 3000);
    assert.deepEqual(d.series[2999]!.samples.map((s) => s.value), [2999, 2999.5]);
    assert.deepEqual(Object.fromEntries(d.series[1234]!.labels), { __name__: 'm', i: '1234', a: 'x', b: 'y' });
  });
});

describe('remote write 2.0 decoder', () => {
  it('decodes labels, samples and the per-series type', () => {
    const d = decode(
      encodeV2([
        { labels: { __name__: 'http_requests_total', job: 'api' }, samples: [{ value: 7, timestamp: 1700000000000 }], type: MetricType.COUNTER, help: 'Requests.' },
        { labels: { __name__: 'temp', job: 'api' }, samples: [{ value: -3.5, timestamp: 1700000000000 }], type: MetricType.GAUGE },
        { labels: { __name__: 'plain' }, samples: [{ value: 1, timestamp: 1 }] },
      ]),
      2,
    );
    assert.equal(d.series.length, 3);
    assert.deepEqual(d.series[0]!.labels, [['__name__', 'http_requests_total'], ['job', 'api']]);
    assert.deepEqual(d.series[0]!.samples, [{ value: 7, time: 1700000000000, stale: 0 }]);
    assert.equal(d.series[0]!.type, MetricType.COUNTER);
    assert.equal(d.series[1]!.type, MetricType.GAUGE);
    assert.equal(d.series[2]!.type, -1);
    assert.equal(d.metadata.length, 0);
  });

  it('gives a series the same identity as in 1.0', () => {
    const labels = { __name__: 'm', job: 'x', instance: 'i:1' };
    const v1 = decode(encodeV1([{ labels }]), 1).series[0]!;
    const v2 = decode(encodeV2([{ labels }]), 2).series[0]!;
    assert.equal(v2.hash, v1.hash);
    assert.deepEqual(v2.labels, v1.labels);
  });

  it('sorts unsorted labels and drops empty values', () => {
    const sorted = decode(encodeV2([{ labels: [['__name__', 'm'], ['a', '1'], ['b', '2']] }]), 2).series[0]!;
    const unsorted = decode(encodeV2([{ labels: [['b', '2'], ['x', ''], ['__name__', 'm'], ['a', '1']] }]), 2).series[0]!;
    assert.deepEqual(unsorted.labels, sorted.labels);
    assert.equal(unsorted.hash, sorted.hash);
  });

  it('rejects duplicates, a missing name and an empty label set', () => {
    rejects(encodeV2([{ labels: [['__name__', 'm'], ['a', '1'], ['a', '2']] }]), 2, 'DUPLICATE_LABEL_NAME');
    rejects(encodeV2([{ labels: { job: 'x' } }]), 2, 'MISSING_METRIC_NAME');
    rejects(encodeV2([{ labels: {} }]), 2, 'EMPTY_LABEL_SET');
    rejects(encodeV2([{ labels: [['__name__', 'm'], ['', 'v']] }]), 2, 'EMPTY_LABEL_NAME');
    // Name ref 0 (the empty string) with an empty value.
    rejects(encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2, 0, 0] }] }), 2, 'EMPTY_LABEL_NAME');
  });

  it('rejects bad symbol references in labels, help, unit and exemplars', () => {
    rejects(encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 3] }] }), 2, 'BAD_SYMBOL_REFERENCE', /symbol 3/);
    rejects(encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [7, 2] }] }), 2, 'BAD_SYMBOL_REFERENCE');
    rejects(encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 0xffffffff] }] }), 2, 'BAD_SYMBOL_REFERENCE');
    rejects(encodeV2Raw({ symbols: [], timeseries: [{ labelsRefs: [0, 0] }] }), 2, 'BAD_SYMBOL_REFERENCE');
    rejects(encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2], metadata: { type: 1, helpRef: 3 } }] }), 2, 'BAD_SYMBOL_REFERENCE', /help_ref/);
    rejects(encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2], metadata: { type: 1, unitRef: 99 } }] }), 2, 'BAD_SYMBOL_REFERENCE', /unit_ref/);
    rejects(
      encodeV2Raw({ symbols: ['', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2], samples: [{ value: 1, timestamp: 1 }], exemplars: [{ labelsRefs: [1, 5], value: 1, timestamp: 1 }] }] }),
      2,
      'BAD_SYMBOL_REFERENCE',
      /exemplar/,
    );
    // In range everywhere: fine.
    const d = decode(
      encodeV2Raw({ symbols: ['', '__name__', 'm', 'trace_id', 'abc', 'help', 'bytes'], timeseries: [{ labelsRefs: [1, 2], samples: [{ value: 1, timestamp: 1 }], exemplars: [{ labelsRefs: [3, 4], value: 1, timestamp: 1 }], metadata: { type: 2, helpRef: 5, unitRef: 6 } }] }),
      2,
    );
    assert.equal(d.exemplars, 1);
    assert.equal(d.series[0]!.type, 2);
  });

  it('rejects symbols[0] that is not the empty string', () => {
    rejects(encodeV2Raw({ symbols: ['x', '__name__', 'm'], timeseries: [{ labelsRefs: [1, 2] }] }), 2, 'FIRST_SYMBOL_NOT_EMPTY');
    rejects(encodeV2Raw({ symbols: ['__name__', 'm'], timeseries: [] }), 2, 'FIRST_SYMBOL_NOT_EMPTY');
  });

  it('rejects an odd labels_refs length', () => {
    rejects(encodeV2Raw({ symbols: ['', '__name__', 'm', 'job'], timeseries: [{ labelsRefs: [1, 2, 3] }] }), 2, 'ODD_LABEL_REFS');
    rejects(encodeV2Raw({ symbols: ['', '__name__'], timeseries: [{ labelsRefs: [1] }] }), 2, 'ODD_LABEL_REFS');
    rejects(
      encodeV2Raw({ symbols: ['', '__name__', 'm', 'trace_id'], timeseries: [{ labelsRefs: [1, 2], exemplars: [{ labelsRefs: [3], value: 1, timestamp: 1 }] }] }),
      2,
      'ODD_LABEL_REFS',
    );
    // Unpacked exemplar refs, odd in total.
    const ts = pw().packed(1, [1, 2]).bytesField(4, pw().uint(1, 3).double(2, 1).uint(3, 1));
    rejects(pw().bytesField(4, '').bytesField(4, '__name__').bytesField(4, 'm').bytesField(4, 'trace_id').bytesField(5, ts).finish(), 2, 'ODD_LABEL_REFS');
    // A pair split across two packed runs is even in total.
    const split = pw().packed(1, [1, 2]).bytesField(4, pw().packed(1, [3]).packed(1, [4]).double(2, 1).uint(3, 1));
    const ok = decode(pw().bytesField(4, '').bytesField(4, '__name__').bytesField(4, 'm').bytesField(4, 'trace_id').bytesField(4, 'abc').bytesField(5, split).finish(), 2);
    assert.equal(ok.exemplars, 1);
  });

  it('rejects a series with samples and histograms', () => {
    rejects(
      encodeV2([{ labels: { __name__: 'h' }, samples: [{ value: 1, timestamp: 1 }], histograms: [{ countInt: 1, sum: 1, schema: 0, timestamp: 1 }] }]),
      2,
      'SAMPLES_AND_HISTOGRAMS',
    );
  });

  it('counts histograms and exemplars', () => {
    const d = decode(
      encodeV2([
        { labels: { __name__: 'h' }, histograms: [{ countInt: 1, sum: 1, schema: 0, timestamp: 1 }, { countInt: 2, sum: 2, schema: 0, timestamp: 2 }], type: MetricType.HISTOGRAM },
        { labels: { __name__: 'c_total' }, samples: [{ value: 1, timestamp: 1 }, { value: 2, timestamp: 2 }], exemplars: [{ labels: { trace_id: 'a' }, value: 1, timestamp: 1 }, { labels: { trace_id: 'b' }, value: 2, timestamp: 2 }] },
        { labels: { __name__: 'g' }, exemplars: [{ value: 5, timestamp: 5 }] },
      ]),
      2,
    );
    assert.equal(d.histograms, 2);
    assert.equal(d.exemplars, 3);
    assert.equal(d.samples, 2);
    assert.equal(d.series[0]!.type, MetricType.HISTOGRAM);
  });

  it('keeps special values, detects the stale marker and reads negative timestamps', () => {
    const d = decode(
      encodeV2([{ labels: { __name__: 'm' }, samples: [{ value: staleMarker(), timestamp: -5 }, { value: NaN, timestamp: -1 }, { value: Infinity, timestamp: 0 }, { value: -Infinity, timestamp: 2 ** 45 }] }]),
      2,
    );
    const s = d.series[0]!.samples;
    assert.deepEqual(s.map((x) => x.stale), [1, 0, 0, 0]);
    assert.deepEqual(s.map((x) => x.time), [-5, -1, 0, 2 ** 45]);
    assert.ok(Number.isNaN(s[1]!.value));
    assert.equal(s[2]!.value, Infinity);
    assert.equal(s[3]!.value, -Infinity);
  });

  it('reads start_timestamp without mistaking it for the timestamp', () => {
    const sample = pw().double(1, 3).uint(3, 100).uint(2, 200).uint(3, 300);
    const ts = pw().packed(1, [1, 2]).bytesField(2, sample);
    const d = decode(pw().bytesField(4, '').bytesField(4, '__name__').bytesField(4, 'm').bytesField(5, ts).finish(), 2);
    assert.deepEqual(d.series[0]!.samples, [{ value: 3, time: 200, stale: 0 }]);
  });

  it('accepts packed and unpacked labels_refs alike', () => {
    const symbols = ['', '__name__', 'm', 'job', 'x', 'zone', 'z'];
    const head = (w: ReturnType<typeof pw>) => {
      for (const s of symbols) w.bytesField(4, s);
      return w;
    };
    const packed = head(pw()).bytesField(5, pw().packed(1, [1, 2, 3, 4, 5, 6]).bytesField(2, sampleMsg(1, 1))).finish();
    const unpacked = head(pw()).bytesField(5, pw().uint(1, 1).uint(1, 2).uint(1, 3).uint(1, 4).uint(1, 5).uint(1, 6).bytesField(2, sampleMsg(1, 1))).finish();
    // Mixed: a pair split across a packed run and an unpacked element.
    const mixed = head(pw()).bytesField(5, pw().packed(1, [1, 2, 3]).uint(1, 4).packed(1, [5, 6]).bytesField(2, sampleMsg(1, 1))).finish();
    const a = decode(packed, 2).series[0]!;
    const b = decode(unpacked, 2).series[0]!;
    const c = decode(mixed, 2).series[0]!;
    assert.deepEqual(a.labels, [['__name__', 'm'], ['job', 'x'], ['zone', 'z']]);
    assert.deepEqual(b.labels, a.labels);
    assert.deepEqual(c.labels, a.labels);
    assert.equal(b.hash, a.hash);
    assert.equal(c.hash, a.hash);
  });

  it('resolves symbols that come after the series in the byte stream', () => {
    const ts = pw().packed(1, [1, 2, 3, 4]).bytesField(2, sampleMsg(9, 99));
    const raw = pw().bytesField(5, ts).bytesField(4, '').bytesField(4, '__name__').bytesField(5, pw().packed(1, [1, 5]).bytesField(2, sampleMsg(1, 1))).bytesField(4, 'm').bytesField(4, 'job').bytesField(4, 'x').bytesField(4, 'n').finish();
    const d = decode(raw, 2);
    assert.deepEqual(d.series.map((s) => s.labels), [[['__name__', 'm'], ['job', 'x']], [['__name__', 'n']]]);
    assert.deepEqual(d.series[0]!.samples, [{ value: 9, time: 99, stale: 0 }]);
  });

  it('skips unknown fields', () => {
    const meta = pw().uint(1, MetricType.GAUGE).uint(2, 77).bytesField(9, 'x').uint(3, 0);
    const ts = pw().bytesField(6, 'reserved field').packed(1, [1, 2]).fixed32(20, 1).double(21, 2).bytesField(2, pw().double(1, 5).fixed32(9, 0).uint(2, 50)).bytesField(5, meta);
    const raw = pw().uint(1, 3).bytesField(2, 'old').bytesField(4, '').bytesField(4, '__name__').double(3, 1).bytesField(4, 'm').bytesField(5, ts).fixed32(99, 9).finish();
    const d = decode(raw, 2);
    assert.deepEqual(d.series[0]!.labels, [['__name__', 'm']]);
    assert.deepEqual(d.series[0]!.samples, [{ value: 5, time: 50, stale: 0 }]);
    assert.equal(d.series[0]!.type, MetricType.GAUGE);
  });

  it('accepts UTF-8 names with dots, spaces, quotes and newlines', () => {
    const name = 'k8s.pod "cpu"\nusage ☃';
    const d = decode(encodeV2([{ labels: { __name__: name, 'service.name': 'a b', 'q"': '\\' }, samples: [{ value: 1, timestamp: 1 }] }]), 2);
    assert.equal(d.series[0]!.name, name);
    assert.deepEqual(Object.fromEntries(d.series[0]!.labels), { __name__: name, 'service.name': 'a b', 'q"': '\\' });
  });

  it('rejects corrupt protobuf with a 400 and never anything else', () => {
    const good = encodeV2([{ labels: { __name__: 'm', job: 'x' }, samples: [{ value: 1, timestamp: 1 }], exemplars: [{ labels: { t: 'a' }, value: 1, timestamp: 1 }], type: 1, help: 'h' }]);
    let failures = 0;
    for (let n = 1; n < good.length; n++) {
      try {
        decode(good.subarray(0, n), 2);
      } catch (e) {
        assert.ok(e instanceof AugurError, `prefix ${n}: ${String(e)}`);
        assert.equal(e.statusCode, 400);
        failures++;
      }
    }
    assert.ok(failures > good.length / 2);
    rejects(Uint8Array.from([0x22, 0x05, 0x61]), 2, 'PROTOBUF_CORRUPT');
    rejects(Uint8Array.from([0x00, 0x00]), 2, 'PROTOBUF_CORRUPT');
  });

  it('starts every request with a fresh symbol table', () => {
    decode(encodeV2([{ labels: { __name__: 'a', b: 'c', d: 'e', f: 'g' } }]), 2);
    // The same decoder, now with fewer symbols: refs past the new table are bad.
    rejects(encodeV2Raw({ symbols: ['', '__name__', 'x'], timeseries: [{ labelsRefs: [1, 5] }] }), 2, 'BAD_SYMBOL_REFERENCE');
    const d = decode(encodeV2([{ labels: { __name__: 'z' } }]), 2);
    assert.deepEqual(d.series[0]!.labels, [['__name__', 'z']]);
  });

  it('handles a large symbol table and many series', () => {
    const series = [];
    for (let i = 0; i < 2500; i++) series.push({ labels: { __name__: `m${i % 7}`, id: `id-${i}` }, samples: [{ value: i, timestamp: i }] });
    const d = decode(encodeV2(series), 2);
    assert.equal(d.series.length, 2500);
    assert.deepEqual(Object.fromEntries(d.series[2222]!.labels), { __name__: 'm3', id: 'id-2222' });
    assert.deepEqual(d.series[2222]!.samples, [{ value: 2222, time: 2222, stale: 0 }]);
  });
});

describe('receiver', () => {
  const receiver = new Receiver({ ...LIMITS, maxDecodedBytes: 1 << 20, maxSeriesPerRequest: 0 });

  it('picks the protocol from Content-Type and decodes through snappy', () => {
    const v1 = compress(encodeV1([{ labels: { __name__: 'a' }, samples: [{ value: 1, timestamp: 1 }] }]));
    const v2 = compress(encodeV2([{ labels: { __name__: 'b' }, samples: [{ value: 2, timestamp: 2 }] }]));
    assert.equal(receiver.decode(v1, V1_CONTENT_TYPE, 'snappy'), 1);
    assert.equal(view(receiver.batch).series[0]!.name, 'a');
    assert.equal(receiver.decode(v1, 'application/x-protobuf', 'snappy'), 1);
    assert.equal(receiver.decode(v2, V2_CONTENT_TYPE, 'snappy'), 2);
    assert.equal(view(receiver.batch).series[0]!.name, 'b');
    assert.equal(receiver.decode(v2, ' Application/X-Protobuf ; PROTO = "io.prometheus.write.v2.Request" ', ' Snappy '), 2);
  });

  it('maps protocol errors to 415 and payload errors to 400', () => {
    const body = compress(encodeV1([{ labels: { __name__: 'a' } }]));
    const status = (ct: string | undefined, enc: string | undefined, b: Uint8Array = body): number => {
      try {
        receiver.decode(b, ct, enc);
        return 204;
      } catch (e) {
        assert.ok(e instanceof AugurError);
        return e.statusCode;
      }
    };
    assert.equal(status('application/json', 'snappy'), 415);
    assert.equal(status(undefined, 'snappy'), 415);
    assert.equal(status('application/x-protobuf;proto=io.prometheus.write.v3.Request', 'snappy'), 415);
    assert.equal(status(V1_CONTENT_TYPE, 'gzip'), 415);
    assert.equal(status(V1_CONTENT_TYPE, undefined), 415);
    assert.equal(status(V1_CONTENT_TYPE, 'snappy', Uint8Array.from([0x05, 0x00])), 400);
    assert.equal(status(V1_CONTENT_TYPE, 'snappy', compress(Uint8Array.from([0x0a, 0x09]))), 400);
  });
});
