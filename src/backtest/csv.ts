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

/** One data row: its cells as written (echoed to the output) and their values. */
export interface CsvRow {
  timeText: string;
  valueText: string;
  timeMs: number;
  value: number;
}

/**
 * Reads a series CSV a line at a time, so that a file of any size is read in constant memory: the
 * header first, then one data row per line. Empty lines at the end are ignored; an empty line
 * followed by data is a broken row. Errors name the file and line.
 */
export class SeriesCsvReader {
  /** The latest data row (one object, rewritten by every `line` that returns true). */
  readonly row: CsvRow = { timeText: '', valueText: '', timeMs: 0, value: 0 };
  private lineNo = 0;
  private width = 0;
  private ti = -1;
  private vi = -1;
  /** Line number of the first of the empty lines seen since the last row, 0 when none. */
  private blankFrom = 0;

  constructor(private readonly file: string) {}

  /** Takes the next line (without its line end); true when it is a data row, now in `row`. */
  line(text: string): boolean {
    const no = ++this.lineNo;
    if (text === '') {
      if (this.blankFrom === 0) this.blankFrom = no;
      return false;
    }
    if (this.blankFrom !== 0) this.broken(this.blankFrom, 1);
    if (this.width === 0) {
      const head = splitRow(text.replace(/^\uFEFF/, '')).map((h) => h.trim().toLowerCase());
      this.ti = head.indexOf('timestamp');
      this.vi = head.indexOf('value');
      if (this.ti < 0 || this.vi < 0) throw new AugurError('CSV_INVALID', `${this.file}: the header needs 'timestamp' and 'value' columns, found ${JSON.stringify(head)}`);
      this.width = head.length;
      return false;
    }
    const cells = splitRow(text);
    // A row short of a cell is a broken row, not a missing sample (an empty cell is that).
    if (cells.length < this.width) this.broken(no, cells.length);
    const ts = cells[this.ti]!;
    const vs = cells[this.vi]!;
    const t = parseTimestamp(ts);
    if (t !== t) throw new AugurError('CSV_INVALID', `${this.file}:${no}: cannot read timestamp ${JSON.stringify(ts)}`);
    const v = parseValue(vs);
    if (v === undefined) throw new AugurError('CSV_INVALID', `${this.file}:${no}: cannot read value ${JSON.stringify(vs)}`);
    const row = this.row;
    row.timeText = ts;
    row.valueText = vs;
    row.timeMs = t;
    row.value = v;
    return true;
  }

  /** After the last line: a file without even a header is refused. */
  end(): void {
    if (this.width === 0) throw new AugurError('CSV_INVALID', `${this.file}: empty file`);
  }

  private broken(no: number, cells: number): never {
    if (this.width === 0) throw new AugurError('CSV_INVALID', `${this.file}:${no}: empty line before the header`);
    throw new AugurError('CSV_INVALID', `${this.file}:${no}: ${cells} cell(s) where the header has ${this.width}`);
  }
}

/** The data rows of CSV lines, one reused row object each. */
export function* csvRows(lines: Iterable<string>, file: string): Generator<CsvRow> {
  const reader = new SeriesCsvReader(file);
  for (const l of lines) if (reader.line(l)) yield reader.row;
  reader.end();
}

/** Lines of a text, without their LF or CRLF ends. */
export function* textLines(text: string): Generator<string> {
  let from = 0;
  while (from < text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    yield text.charCodeAt(to - 1) === 13 && to > from ? text.slice(from, to - 1) : text.slice(from, to);
    from = to + 1;
  }
}

/** A whole CSV text as arrays (tests, small inputs). */
export function parseSeriesCsv(text: string, file: string): SeriesCsv {
  const timeText: string[] = [];
  const valueText: string[] = [];
  const timeMs: number[] = [];
  const value: number[] = [];
  for (const r of csvRows(textLines(text), file)) {
    timeText.push(r.timeText);
    valueText.push(r.valueText);
    timeMs.push(r.timeMs);
    value.push(r.value);
  }
  return { timeText, valueText, timeMs: Float64Array.from(timeMs), value: Float64Array.from(value) };
}
