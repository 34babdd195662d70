/**
 * PromQL-style series selectors: `name{label="v", other=~"re", x!="y", z!~"re"}`, a bare metric
 * name, or `{...}` alone. Used for per-selector config and API filters.
 */
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  readonly re: RegExp | null;
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
  if (s[i] !== '{') throw new SelectorError(`expected '{' at offset ${i} of ${JSON.stringify(src)}`);
  i++;
  for (;;) {
    skipWs();
    if (s[i] === '}') { i++; break; }
    const name = readName();
    skipWs();
    const op = readOp();
    skipWs();
    const value = readString();
    out.push(makeMatcher(name, op, value));
    skipWs();
    if (s[i] === ',') { i++; continue; }
    if (s[i] === '}') { i++; break; }
    throw new SelectorError(`expected ',' or '}' at offset ${i} of ${JSON.stringify(src)}`);
  }
  skipWs();
  if (i !== s.length) throw new SelectorError(`unexpected text after '}' in ${JSON.stringify(src)}`);
  if (out.length === 0) throw new SelectorError('selector needs at least one matcher');
  return out;

  function skipWs(): void {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  }
  function readName(): string {
    if (s[i] === '"') return readString();
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
    if (!m) throw new SelectorError(`expected a label name at offset ${i} of ${JSON.stringify(src)}`);
    i += m[0].length;
    return m[0];
  }
  function readOp(): MatchOp {
    for (const op of ['=~', '!~', '!=', '='] as const) {
      if (s.startsWith(op, i)) { i += op.length; return op; }
    }
    throw new SelectorError(`expected =, !=, =~ or !~ at offset ${i} of ${JSON.stringify(src)}`);
  }
  function readString(): string {
    const q = s[i];
    if (q !== '"' && q !== "'" && q !== '`') throw new SelectorError(`expected a quoted string at offset ${i} of ${JSON.stringify(src)}`);
    i++;
    let v = '';
    while (i < s.length && s[i] !== q) {
      if (s[i] === '\\' && q !== '`' && i + 1 < s.length) {
        const c = s[i + 1]!;
        v += c === 'n' ? '\n' : c === 't' ? '\t' : c;
        i += 2;
      } else v += s[i++];
    }
    if (s[i] !== q) throw new SelectorError(`unterminated string in ${JSON.stringify(src)}`);
    i++;
    return v;
  }
}

function makeMatcher(name: string, op: MatchOp, value: string): Matcher {
  let re: RegExp | null = null;
  if (op === '=~' || op === '!~') {
    try {
      re = new RegExp(`^(?:${value})$`, 's');
    } catch (e) {
      throw new SelectorError(`invalid regular expression ${JSON.stringify(value)}: ${(e as Error).message}`);
    }
  }
  return { name, op, value, re };
}

/** `labels` includes `__name__`; an absent label matches as the empty string, as in PromQL. */
export function matches(matchers: readonly Matcher[], labels: ReadonlyArray<readonly [string, string]>): boolean {
  for (const m of matchers) {
    let v = '';
    for (const [n, val] of labels) if (n === m.name) { v = val; break; }
    switch (m.op) {
      case '=': if (v !== m.value) return false; break;
      case '!=': if (v === m.value) return false; break;
      case '=~': if (!m.re!.test(v)) return false; break;
      case '!~': if (m.re!.test(v)) return false; break;
    }
  }
  return true;
}
