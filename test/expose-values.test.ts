import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import client from 'prom-client';
import { formatValue } from '../src/expose/format.js';
import { writeValue } from '../src/expose/value-writer.js';
import { renderSelfMetrics, writeSelfMetrics } from '../src/expose/self-text.js';

function written(v: number): string {
  const buf = Buffer.alloc(64, 0x7e);
  const end = writeValue(buf, 3, v);
  assert.equal(buf[2], 0x7e, 'nothing written before pos');
  assert.equal(buf[end], 0x7e, 'nothing written past the returned position');
  return buf.toString('latin1', 3, end);
}

describe('writeValue', () => {
  it('spells values exactly as formatValue does', () => {
    const values = [0, -0, 1, -1, 4, 10, 99, 100, 123456789, -987654321, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 60, 1e21, 1e22,
      0.1, -2.5, 0.30000000000000004, 1.5e-7, 1e-7, Number.MAX_VALUE, -Number.MIN_VALUE, NaN, Infinity, -Infinity, 1 / 3];
    for (const v of values) assert.equal(written(v), formatValue(v), String(v));
  });

  it('agrees with formatValue on random integers and decimals', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 20_000; i++) {
      const r = rnd();
      for (const v of [Math.floor(r * 10 ** (i % 16)), -Math.floor(r * 1e6), r, r * 1e6, Math.round(r * 1e4) / 100]) assert.equal(written(v), formatValue(v), String(v));
    }
  });
});

describe('self metrics rendered in slices', () => {
  it('renders the same text as writeSelfMetrics over getMetricsAsJSON', async () => {
    const r = new client.Registry();
    new client.Counter({ name: 'demo_requests_total', help: 'Requests.', labelNames: ['path'], registers: [r] }).inc({ path: '/a"b' }, 3);
    new client.Gauge({ name: 'demo_temperature_celsius', help: 'A gauge.', registers: [r] }).set(-Infinity);
    new client.Histogram({ name: 'demo_seconds', help: 'A histogram.', buckets: [0.1, 1], registers: [r] }).observe(0.5);
    for (const om of [false, true]) {
      let text = '';
      for await (const s of renderSelfMetrics(r, om)) text += s;
      assert.equal(text, writeSelfMetrics(await r.getMetricsAsJSON(), om));
    }
  });
});
