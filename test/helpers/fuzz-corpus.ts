import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MetricType } from '../../src/series/kind.js';
import { encodeV1, encodeV2, encodeV2Raw } from './remote-write.js';

/** Shared by the fuzz and decoder tests: valid messages to mutate, special values, a forced GC. */
export const FUZZ_T0 = Date.UTC(2024, 0, 1);
const T0 = FUZZ_T0;

/** A snappy block's header: the varint of its decoded length (any length, for bad headers too). */
export function snappyHeader(n: number): number[] {
  const out: number[] = [];
  let x = n;
  while (x >= 0x80) {
    out.push((x % 128) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
  return out;
}

export function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export function staleMarker(): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setUint32(4, 0x7ff00000, true);
  dv.setUint32(0, 2, true);
  return dv.getFloat64(0, true);
}

/** Valid messages to mutate: plain, special values, metadata, histograms, exemplars, UTF-8. */
export function corpus(): { v1: Uint8Array[]; v2: Uint8Array[] } {
  const samples = (n: number, f: (k: number) => number) => Array.from({ length: n }, (_, k) => ({ value: f(k), timestamp: T0 + k * 1000 }));
  const v1 = [
    encodeV1([{ labels: { __name__: 'fz_up', job: 'a', instance: 'i:1' }, samples: samples(3, (k) => k) }]),
    encodeV1([
      { labels: { __name__: 'fz_requests_total', job: 'api', code: '200' }, samples: samples(5, (k) => 100 * k) },
      { labels: { __name__: 'fz_temp', job: 'api' }, samples: [{ value: NaN, timestamp: T0 }, { value: Infinity, timestamp: T0 + 1 }, { value: staleMarker(), timestamp: T0 + 2 }] },
    ]),
    encodeV1([], [{ type: MetricType.COUNTER, metricFamilyName: 'fz_requests', help: 'h', unit: 'u' }, { type: MetricType.GAUGE, metricFamilyName: 'fz_q_total' }]),
    encodeV1([
      { labels: { __name__: 'fz_hist' }, histograms: [{ countInt: 3, sum: 1.5, schema: 1, timestamp: T0, positiveSpans: [{ offset: 0, length: 2 }], positiveDeltas: [1, 1] }] },
      { labels: { __name__: 'fz_ex_total' }, samples: samples(1, () => 1), exemplars: [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 1, timestamp: T0 }] },
    ]),
    encodeV1([{ labels: { __name__: 'fz.utf8 "name"\n', 'http.method': 'GET', z: 'ü' }, samples: samples(2, (k) => -k) }]),
  ];
  const v2 = [
    encodeV2([{ labels: { __name__: 'fz2_up', job: 'a' }, samples: samples(3, (k) => k), type: MetricType.GAUGE, help: 'help text' }]),
    encodeV2([
      { labels: { __name__: 'fz2_c_total', job: 'b' }, samples: samples(4, (k) => k * 2), exemplars: [{ labels: { trace_id: 'x' }, value: 1, timestamp: T0 }], type: MetricType.COUNTER },
      { labels: { __name__: 'fz2_h' }, histograms: [{ countInt: 1, sum: 1, schema: 0, timestamp: T0 }], type: MetricType.HISTOGRAM },
    ]),
    encodeV2Raw({ symbols: ['', '__name__', 'fz2_raw', 'job', 'j'], timeseries: [{ labelsRefs: [1, 2, 3, 4], samples: [{ value: 1, timestamp: T0 }], metadata: { type: 2, helpRef: 0, unitRef: 0 } }] }),
    encodeV2([{ labels: { __name__: 'fz2 utf8.name', 'a.b': 'c"d' }, samples: [{ value: staleMarker(), timestamp: T0 }] }]),
  ];
  return { v1, v2 };
}
