import { AugurError } from '../errors.js';

export interface SeriesCsv {
  /** Timestamp and value cells as they appear in the input, echoed to the output. */
  timeText: string[];
  valueText: string[];
  timeMs: Float64Array;
  value: Float64Array;
}

/** Date and time, then an optional RFC 3339 offset (RFC 3339 §5.6 allows a space for the `T`). */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|([+-])(\d{2}):?(\d{2}))?$/i;

/**
 * `YYYY-MM-DD HH:MM:SS` (UTC), RFC 3339 (with `T` or a space), or a Unix time whose unit its
 * magnitude tells: seconds below 1e11 (until the year 5138), milliseconds below 1e14,
 * microseconds below 1e17, nanoseconds above. NaN when none of these.
 */
export function parseTimestamp(s: string): number {
  const t = s.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    const a = Math.abs(n);
    return a < 1e11 ? n * 1000 : a < 1e14 ? n : a < 1e17 ? n / 1e3 : n / 1e6;
  }
  const m = DATE_TIME.exec(t);
  if (!m) return NaN;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => (m[i] === undefined ? 0 : +m[i]!)) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
  // Date.UTC rolls over (month 13, day 45, hour 24): such a cell is not a timestamp.
  const at = new Date(ms);
  if (at.getUTCFullYear() !== y || at.getUTCMonth() !== mo - 1 || at.getUTCDate() !== d || at.getUTCHours() !== h || at.getUTCMinutes() !== mi || at.getUTCSeconds() !== sec) return NaN;
  const offset = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (+m[10]! * 60 + +m[11]!);
  if (m[9] !== undefined && (+m[10]! > 23 || +m[11]! > 59)) return NaN;
  return ms + (m[7] ? Math.round(Number(m[7]) * 1000) : 0) - offset * 60_000;
}

/**
 * A value cell: a number (Prometheus's `+Inf` and `-Inf` included), or NaN for a missing sample (an
 * empty cell or `NaN`), kept out of the models as serve keeps NaN samples out. Anything else, such
 * as `abc`, is a mistake in the file: undefined.
 */
function parseValue(s: string): number | undefined {
  const t = s.trim();
  const lower = t.toLowerCase();
  if (t === '' || lower === 'nan') return NaN;
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  // Decimal only: Number() would also read 0x10, 0b11 and Infinity.
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : undefined;
}

function splitRow(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') { out.push(cur); cur = ''; }
    else cur += c;
  }
  out.push(cur);
  return out;
}

export function parseSeriesCsv(text: string, file: string): SeriesCsv {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new AugurError('CSV_INVALID', `${file}: empty file`);
  const head = splitRow(lines[0]!.replace(/^\uFEFF/, '')).map((h) => h.trim().toLowerCase());
  const ti = head.indexOf('timestamp');
  const vi = head.indexOf('value');
  if (ti < 0 || vi < 0) throw new AugurError('CSV_INVALID', `${file}: the header needs 'timestamp' and 'value' columns, found ${JSON.stringify(head)}`);
  const n = lines.length - 1;
  const out: SeriesCsv = { timeText: new Array(n), valueText: new Array(n), timeMs: new Float64Array(n), value: new Float64Array(n) };
  for (let r = 0; r < n; r++) {
    const cells = splitRow(lines[r + 1]!);
    // A row short of a cell is a broken row, not a missing sample (an empty cell is that).
    if (cells.length < head.length) throw new AugurError('CSV_INVALID', `${file}:${r + 2}: ${cells.length} cell(s) where the header has ${head.length}`);
    const ts = cells[ti]!;
    const vs = cells[vi]!;
    const t = parseTimestamp(ts);
    if (t !== t) throw new AugurError('CSV_INVALID', `${file}:${r + 2}: cannot read timestamp ${JSON.stringify(ts)}`);
    const v = parseValue(vs);
    if (v === undefined) throw new AugurError('CSV_INVALID', `${file}:${r + 2}: cannot read value ${JSON.stringify(vs)}`);
    out.timeText[r] = ts;
    out.valueText[r] = vs;
    out.timeMs[r] = t;
    out.value[r] = v;
  }
  return out;
}
