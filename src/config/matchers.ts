import { RE2JS } from 're2js';

/**
 * PromQL-style series selectors: `name{label="v", other=~"re", x!="y", z!~"re"}`, a bare metric
 * name, or `{...}` alone. Used for per-selector config and API filters, and matched against a
 * series' original labels (its name as `__name__`, UTF-8 label names as written).
 *
 * As in Prometheus 3, names outside the legacy charset are quoted inside the braces: a quoted string
 * alone is the metric name (`{"my.metric", job="x"}`), and one followed by an operator is a label
 * name (`{"a.b"="x"}`). The metric name may be given once only: `up{"x"}` and `up{__name__="x"}`
 * are refused.
 *
 * As in Prometheus: strings in double or single quotes take Go's escapes (`\n`, `\x61`, `\u00e9`,
 * `\141`, ...), backquoted strings are raw; regexes are RE2 (linear time, `(?i)`, `[[:alpha:]]`),
 * fully anchored, with `.` matching newlines; and a selector needs at least one matcher that does
 * not match the empty string.
 */
export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A compiled, anchored RE2 regex; `test` matches the whole value in linear time. */
export interface SelectorRegex {
  test(value: string): boolean;
}

export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  readonly re: SelectorRegex | null;
}

export class SelectorError extends Error {}

export function parseSelector(src: string): Matcher[] {
  const s = src.trim();
  const out: Matcher[] = [];
  let i = 0;
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(s);
  if (nameMatch) {
    out.push(makeMatcher('__name__', '=', nameMatch[0]));
    i = nameMatch[0].length;
  }
  skipWs();
  if (i === s.length) {
    if (out.length === 0) throw new SelectorError('empty selector');
    return out;
  }
  if (isQuote(s[i])) throw new SelectorError(`a quoted metric name goes inside the braces, as in {"my.metric", job="x"}: ${JSON.stringify(src)}`);
  if (s[i] !== '{') throw new SelectorError(`expected '{' at offset ${i} of ${JSON.stringify(src)}`);
  i++;
  for (;;) {
    skipWs();
    if (s[i] === '}') { i++; break; }
    const at = i;
    const m = readMatcher();
    if (nameMatch && m.name === '__name__') {
      throw new SelectorError(`metric name must not be set twice: ${JSON.stringify(nameMatch[0])} or ${JSON.stringify(m.value)} (at offset ${at} of ${JSON.stringify(src)})`);
    }
    out.push(m);
    skipWs();
    if (s[i] === ',') { i++; continue; }
    if (s[i] === '}') { i++; break; }
    throw new SelectorError(`expected ',' or '}' at offset ${i} of ${JSON.stringify(src)}`);
  }
  skipWs();
  if (i !== s.length) throw new SelectorError(`unexpected text after '}' in ${JSON.stringify(src)}`);
  if (out.length === 0) throw new SelectorError('selector needs at least one matcher');
  if (out.every((m) => matchesValue(m, ''))) {
    throw new SelectorError(`vector selector must contain at least one non-empty matcher (one that does not match the empty string): ${JSON.stringify(src)}`);
  }
  return out;

  function skipWs(): void {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  }
  /** `name op "value"`, or a quoted name alone: the metric name, as Prometheus 3 reads `{"my.metric"}`. */
  function readMatcher(): Matcher {
    const quoted = isQuote(s[i]);
    const start = i;
    const name = readName();
    if (name === '') throw new SelectorError(`empty name at offset ${start} of ${JSON.stringify(src)}`);
    skipWs();
    if (quoted && (s[i] === ',' || s[i] === '}')) return makeMatcher('__name__', '=', name);
    const op = readOp(quoted);
    skipWs();
    return makeMatcher(name, op, readString());
  }
  function readName(): string {
    if (isQuote(s[i])) return readString();
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
    if (!m) throw new SelectorError(`expected a label name at offset ${i} of ${JSON.stringify(src)}`);
    i += m[0].length;
    return m[0];
  }
  function readOp(afterQuoted: boolean): MatchOp {
    for (const op of ['=~', '!~', '!=', '='] as const) {
      if (s.startsWith(op, i)) { i += op.length; return op; }
    }
    const expected = afterQuoted ? "=, !=, =~, !~, ',' or '}'" : '=, !=, =~ or !~';
    throw new SelectorError(`expected ${expected} at offset ${i} of ${JSON.stringify(src)}`);
  }
  function readString(): string {
    const q = s[i];
    if (!isQuote(q)) throw new SelectorError(`expected a quoted string at offset ${i} of ${JSON.stringify(src)}`);
    const start = i;
    i++;
    if (q === '`') {
      const end = s.indexOf('`', i);
      if (end < 0) throw new SelectorError(`unterminated string in ${JSON.stringify(src)}`);
      const raw = s.slice(i, end);
      i = end + 1;
      return raw;
    }
    try {
      const { value, end } = unquoteGo(s, i, q);
      i = end;
      return value;
    } catch (e) {
      if (!(e instanceof SelectorError)) throw e;
      throw new SelectorError(`${e.message} in the string at offset ${start} of ${JSON.stringify(src)}`);
    }
  }
}

function isQuote(c: string | undefined): boolean {
  return c === '"' || c === "'" || c === '`';
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

function hexValue(c: string | undefined): number {
  if (c === undefined) return -1;
  const n = c.charCodeAt(0);
  if (n >= 48 && n <= 57) return n - 48;
  if (n >= 97 && n <= 102) return n - 87;
  if (n >= 65 && n <= 70) return n - 55;
  return -1;
}

/**
 * Reads a double- or single-quoted string body from `s` at `i` (just after the opening quote) with
 * Go's string-literal escapes, as PromQL does: `\a \b \f \n \r \t \v \\`, the quote itself, `\xHH`
 * and `\OOO` (bytes, so `\xc3\xa9` is "é"), `\uHHHH` and `\UHHHHHHHH` (code points). Unknown
 * escapes and raw newlines are errors, as in Prometheus.
 */
function unquoteGo(s: string, i: number, q: string): { value: string; end: number } {
  const bytes: number[] = [];
  const put = (text: string): void => {
    for (const b of encoder.encode(text)) bytes.push(b);
  };
  for (;;) {
    if (i >= s.length) throw new SelectorError('unterminated string');
    const c = s[i]!;
    if (c === q) { i++; break; }
    if (c === '\n') throw new SelectorError('newline in string');
    if (c !== '\\') {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      put(ch);
      i += ch.length;
      continue;
    }
    const e = s[i + 1];
    i += 2;
    switch (e) {
      case 'a': bytes.push(0x07); break;
      case 'b': bytes.push(0x08); break;
      case 'f': bytes.push(0x0c); break;
      case 'n': bytes.push(0x0a); break;
      case 'r': bytes.push(0x0d); break;
      case 't': bytes.push(0x09); break;
      case 'v': bytes.push(0x0b); break;
      case '\\': bytes.push(0x5c); break;
      case "'":
      case '"':
        if (e !== q) throw new SelectorError(`unknown escape sequence \\${e}`);
        bytes.push(e.charCodeAt(0));
        break;
      case 'x':
      case 'u':
      case 'U': {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        let v = 0;
        for (let j = 0; j < n; j++) {
          const d = hexValue(s[i + j]);
          if (d < 0) throw new SelectorError(`\\${e} needs ${n} hexadecimal digits`);
          v = v * 16 + d;
        }
        i += n;
        if (e === 'x') bytes.push(v);
        else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new SelectorError(`invalid Unicode code point \\${e}${s.slice(i - n, i)}`);
        else put(String.fromCodePoint(v));
        break;
      }
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        let v = e.charCodeAt(0) - 48;
        for (let j = 0; j < 2; j++) {
          const d = (s.charCodeAt(i + j) || 0) - 48;
          if (!(d >= 0 && d <= 7)) throw new SelectorError('an octal escape needs three octal digits');
          v = v * 8 + d;
        }
        i += 2;
        if (v > 255) throw new SelectorError(`octal escape \\${s.slice(i - 3, i)} is above \\377`);
        bytes.push(v);
        break;
      }
      case undefined:
        throw new SelectorError('unterminated string');
      default:
        throw new SelectorError(`unknown escape sequence \\${e}`);
    }
  }
  let value: string;
  try {
    value = decoder.decode(new Uint8Array(bytes));
  } catch {
    throw new SelectorError('escapes do not form valid UTF-8');
  }
  return { value, end: i };
}

/** Characters that make a regex more than a literal string. */
const REGEX_META = /[\\.+*?()|[\]{}^$]/;

function makeMatcher(name: string, op: MatchOp, value: string): Matcher {
  let re: SelectorRegex | null = null;
  if (op === '=~' || op === '!~') re = compileRegex(value);
  return { name, op, value, re };
}

/** Prometheus semantics: RE2 syntax, `^(?s:re)$`, compiled once; trivial patterns skip the engine. */
function compileRegex(value: string): SelectorRegex {
  if (value === '.*') return { test: () => true };
  if (value === '.+') return { test: (v) => v.length > 0 };
  if (!REGEX_META.test(value)) return { test: (v) => v === value };
  try {
    // The pattern alone first, so that errors quote what the user wrote (and `a)|(b` is refused).
    RE2JS.compile(value);
    const re = RE2JS.compile(`^(?s:${value})$`);
    return { test: (v) => re.test(v) };
  } catch (e) {
    throw new SelectorError(`invalid regular expression ${JSON.stringify(value)}: ${(e as Error).message}`);
  }
}

function matchesValue(m: Matcher, v: string): boolean {
  switch (m.op) {
    case '=': return v === m.value;
    case '!=': return v !== m.value;
    case '=~': return m.re!.test(v);
    case '!~': return !m.re!.test(v);
  }
}

/** `labels` includes `__name__`; an absent label matches as the empty string, as in PromQL. */
export function matches(matchers: readonly Matcher[], labels: ReadonlyArray<readonly [string, string]>): boolean {
  for (const m of matchers) {
    let v = '';
    for (const [n, val] of labels) if (n === m.name) { v = val; break; }
    if (!matchesValue(m, v)) return false;
  }
  return true;
}
