import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { fileURLToPath } from 'node:url';

const root = new protobuf.Root();
root.loadSync([
  fileURLToPath(new URL('../../proto/remote-write-v1.proto', import.meta.url)),
  fileURLToPath(new URL('../../proto/remote-write-v2.proto', import.meta.url)),
]);
export const V1WriteRequest = root.lookupType('prometheus.WriteRequest');
export const V2Request = root.lookupType('io.prometheus.write.v2.Request');

export const V1_CONTENT_TYPE = 'application/x-protobuf;proto=prometheus.WriteRequest';
export const V2_CONTENT_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';

export interface V1Series {
  labels: Record<string, string> | [string, string][];
  samples?: { value: number; timestamp: number }[];
  histograms?: object[];
  exemplars?: object[];
}

function labelList(l: Record<string, string> | [string, string][]): { name: string; value: string }[] {
  const pairs = Array.isArray(l) ? l : Object.entries(l);
  return pairs.map(([name, value]) => ({ name, value }));
}

export function encodeV1(series: V1Series[], metadata: { type: number; metricFamilyName: string; help?: string; unit?: string }[] = []): Uint8Array {
  const msg = V1WriteRequest.fromObject({
    timeseries: series.map((s) => ({ labels: labelList(s.labels), samples: s.samples ?? [], histograms: s.histograms ?? [], exemplars: s.exemplars ?? [] })),
    metadata,
  });
  return V1WriteRequest.encode(msg).finish();
}

export interface V2Series {
  labels: Record<string, string> | [string, string][];
  samples?: { value: number; timestamp: number }[];
  histograms?: object[];
  exemplars?: { labels?: Record<string, string>; value: number; timestamp: number }[];
  type?: number;
  help?: string;
}

/** Builds a v2 request with its symbol table (symbols[0] = ''). */
export function encodeV2(series: V2Series[]): Uint8Array {
  const symbols = [''];
  const index = new Map<string, number>([['', 0]]);
  const ref = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = symbols.length;
      symbols.push(s);
      index.set(s, i);
    }
    return i;
  };
  const timeseries = series.map((s) => {
    const pairs = Array.isArray(s.labels) ? s.labels : Object.entries(s.labels);
    const labelsRefs: number[] = [];
    for (const [n, v] of pairs) labelsRefs.push(ref(n), ref(v));
    return {
      labelsRefs,
      samples: s.samples ?? [],
      histograms: s.histograms ?? [],
      exemplars: (s.exemplars ?? []).map((e) => ({ labelsRefs: Object.entries(e.labels ?? {}).flatMap(([n, v]) => [ref(n), ref(v)]), value: e.value, timestamp: e.timestamp })),
      metadata: s.type !== undefined ? { type: s.type, helpRef: s.help ? ref(s.help) : 0 } : undefined,
    };
  });
  return V2Request.encode(V2Request.fromObject({ symbols, timeseries })).finish();
}

export function encodeV2Raw(obj: object): Uint8Array {
  return V2Request.encode(V2Request.fromObject(obj)).finish();
}

export function compress(raw: Uint8Array): Buffer {
  return Buffer.from(snappy.compress(raw));
}
