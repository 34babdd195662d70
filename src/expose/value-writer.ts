import { formatValue } from './format.js';

const MAX_SAFE = 2 ** 53;

/**
 * Writes `v` as `formatValue(v)` spells it, straight into `buf` at `pos`, and returns the new
 * position. Integers (anomaly flags, severities, cluster ids) are written digit by digit: `'' + v`
 * would allocate a string per line. Other values go through `formatValue`: computed doubles
 * mostly need 16 or 17 digits, which only V8's shortest-digits search finds cheaply.
 * `buf` needs 32 bytes free at `pos`.
 */
export function writeValue(buf: Buffer, pos: number, v: number): number {
  if (v === Math.floor(v) && v > -MAX_SAFE && v < MAX_SAFE) return writeInteger(buf, pos, v);
  return pos + buf.write(formatValue(v), pos, 'latin1');
}

function writeInteger(buf: Buffer, pos: number, v: number): number {
  if (v < 0) {
    buf[pos++] = 45;
    v = -v;
  }
  let digits = 1;
  for (let p = 10; digits < 16 && v >= p; p *= 10) digits++;
  for (let i = pos + digits - 1; i >= pos; i--) {
    const q = Math.floor(v / 10);
    buf[i] = 48 + (v - q * 10);
    v = q;
  }
  return pos + digits;
}
