import snappy from 'snappy';

/**
 * A synthetic node-exporter-like workload: `series` label sets of six labels, 30% counters, each
 * request carries `perRequest` series with one sample each, as Prometheus's sender does. Bodies
 * are encoded by hand (protobuf v1) and compressed with native snappy, ahead of time, so that the
 * measured window spends the generator's CPU only on sending.
 */
export interface Workload {
  series: number;
  perRequest: number;
  /** Every series' encoded labels back to back, `labelOffsets[i]..labelOffsets[i+1]`. */
  labels: Buffer;
  labelOffsets: Uint32Array;
  isCounter: Uint8Array;
}

export function makeWorkload(series: number, perRequest: number): Workload {
  const blocks: Buffer[] = new Array(series);
  const isCounter = new Uint8Array(series);
  for (let i = 0; i < series; i++) {
    const counter = i % 10 < 3;
    isCounter[i] = counter ? 1 : 0;
    const metric = counter ? `node_bench_events_${i % 37}_total` : `node_bench_level_${i % 53}`;
    const labels: [string, string][] = [
      ['__name__', metric],
      ['cpu', String(i % 16)],
      ['instance', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:9100`],
      ['job', 'node'],
      ['mode', ['user', 'system', 'idle', 'iowait'][i % 4]!],
      ['region', ['eu-west-1', 'us-east-1', 'ap-south-1'][i % 3]!],
    ];
    const parts: Buffer[] = [];
    for (const [n, v] of labels) {
      const nb = Buffer.from(n);
      const vb = Buffer.from(v);
      const inner = Buffer.concat([Buffer.from([0x0a]), varint(nb.length), nb, Buffer.from([0x12]), varint(vb.length), vb]);
      parts.push(Buffer.from([0x0a]), varint(inner.length), inner);
    }
    blocks[i] = Buffer.concat(parts);
  }
  // One contiguous buffer: a million small pooled Buffers would pin their 8 KiB pool slabs and
  // blur the memory benchmark.
  const labelOffsets = new Uint32Array(series + 1);
  for (let i = 0; i < series; i++) labelOffsets[i + 1] = labelOffsets[i]! + blocks[i]!.length;
  const labels = Buffer.allocUnsafeSlow(labelOffsets[series]!);
  for (let i = 0; i < series; i++) blocks[i]!.copy(labels, labelOffsets[i]!);
  return { series, perRequest, labels, labelOffsets, isCounter };
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/**
 * Bodies for `rounds` passes over every series, timestamps `stepMs` apart per round. `compress`
 * defaults to native snappy; the memory benchmark passes a JavaScript one, because the native
 * module's own allocator (mimalloc) keeps what it once held resident and would count as Augur's.
 */
export function encodeRounds(w: Workload, firstRound: number, rounds: number, stepMs: number, t0: number, compress: (b: Buffer) => Buffer = snappy.compressSync): Buffer[] {
  const bodies: Buffer[] = [];
  const scratch = Buffer.alloc(w.perRequest * 256);
  for (let r = firstRound; r < firstRound + rounds; r++) {
    const t = t0 + r * stepMs;
    for (let start = 0; start < w.series; start += w.perRequest) {
      let pos = 0;
      const end = Math.min(w.series, start + w.perRequest);
      for (let i = start; i < end; i++) {
        const labels = w.labels.subarray(w.labelOffsets[i]!, w.labelOffsets[i + 1]!);
        const value = w.isCounter[i] ? r * (1 + (i % 7)) * 15 : 50 + 10 * Math.sin((r + i) / 5) + ((r * 7919 + i * 104729) % 100) / 50;
        const sampleLen = 1 + 8 + 1 + varintLen(t);
        const tsLen = labels.length + 1 + varintLen(sampleLen) + sampleLen;
        scratch[pos++] = 0x0a;
        pos = writeVarint(scratch, pos, tsLen);
        labels.copy(scratch, pos);
        pos += labels.length;
        scratch[pos++] = 0x12;
        pos = writeVarint(scratch, pos, sampleLen);
        scratch[pos++] = 0x09;
        scratch.writeDoubleLE(value, pos);
        pos += 8;
        scratch[pos++] = 0x10;
        pos = writeVarint(scratch, pos, t);
      }
      bodies.push(compress(scratch.subarray(0, pos)));
    }
  }
  return bodies;
}

function varintLen(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}
