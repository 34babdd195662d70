/**
 * Builds the label text every derived family of a series shares: the original name moves into
 * `metric`, an original label named like one Augur adds (`metric`, `horizon`, `threshold`)
 * becomes `exported_<name>` as Prometheus renames clashing labels, label names that the classic
 * text format cannot carry are sanitised (Prometheus 2.x cannot parse quoted label names), and
 * values are escaped as the text format requires.
 */
const LEGACY_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label names Augur adds to the derived families of a series. */
const RESERVED: ReadonlySet<string> = new Set(['metric', 'horizon', 'threshold']);

export function sanitizeLabelName(name: string): string {
  if (LEGACY_NAME.test(name)) return name;
  let out = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(out)) out = '_' + out;
  return out;
}

/**
 * Prometheus's value escaping of a label name: names valid in the classic format unchanged, others
 * `U__` then each character kept if it is a letter or digit (past the first), `_` doubled, and any
 * other written as `_<hex code point>_`. Unlike `sanitizeLabelName` no two names escape alike.
 */
export function escapeLabelNameValues(name: string): string {
  if (LEGACY_NAME.test(name)) return name;
  let out = 'U__';
  let first = true;
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (ch === '_') out += '__';
    else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (!first && c >= 0x30 && c <= 0x39)) out += ch;
    else out += `_${c.toString(16)}_`;
    first = false;
  }
  return out;
}

export function escapeLabelValue(v: string): string {
  if (!/[\\"\n]/.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * Whether `exposedLabelText` keeps every label name as it is (none is `metric`, none needs
 * sanitising, and they come sorted), so that `labelsFromExposedText` gives the labels back
 * exactly. This is the common case, and `exposedLabelText` builds it in one pass.
 */
export function keepsNames(labels: ReadonlyArray<readonly [string, string]>): boolean {
  let prev = '';
  for (const [name] of labels) {
    if (name <= prev) return false;
    prev = name;
    if (name !== '__name__' && (RESERVED.has(name) || !LEGACY_NAME.test(name))) return false;
  }
  return true;
}

/** `labels` sorted by name, including `__name__`. Returns text without braces. */
export function exposedLabelText(labels: ReadonlyArray<readonly [string, string]>, keeps = keepsNames(labels)): string {
  if (!keeps) return renamingLabelText(labels);
  let metric = '';
  for (const [name, value] of labels) if (name === '__name__') metric = value;
  let s = `metric="${escapeLabelValue(metric)}"`;
  for (const [name, value] of labels) if (name !== '__name__') s += `,${name}="${escapeLabelValue(value)}"`;
  return s;
}

/**
 * `exposedLabelText` for any label set: renames reserved names (and `extra`, a name a family adds
 * of its own), sanitises names (or, with `escape`, escapes them injectively) and resolves clashes.
 * A renamed reserved name gets `depth` `exported_` prefixes: the registry goes deeper while the
 * text is another series' (`exported_metric` may be a label of its own). No name comes out as
 * `__name__` (`..name..` sanitised), which the text format forbids as a label.
 */
export function renamingLabelText(labels: ReadonlyArray<readonly [string, string]>, extra = '', escape = false, depth = 1): string {
  let metric = '';
  const used = new Set<string>(RESERVED);
  used.add('__name__');
  if (extra !== '') used.add(extra);
  const rest: [string, string][] = [];
  for (const [name, value] of labels) {
    if (name === '__name__') {
      metric = value;
      continue;
    }
    let n = RESERVED.has(name) || name === extra ? 'exported_'.repeat(depth) + name : escape ? escapeLabelNameValues(name) : sanitizeLabelName(name);
    while (used.has(n)) n = 'exported_' + n;
    used.add(n);
    rest.push([n, value]);
  }
  rest.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let s = `metric="${escapeLabelValue(metric)}"`;
  for (const [n, v] of rest) s += `,${n}="${escapeLabelValue(v)}"`;
  return s;
}

/**
 * The label text of a peer group (`metric`, then its group-by labels), renamed as a series' text
 * is, with `extra` (`cluster` on `augur_cluster_size`) also reserved.
 */
export function groupLabelText(metric: string, labels: ReadonlyArray<readonly [string, string]>, extra = ''): string {
  return renamingLabelText([['__name__', metric], ...labels], extra);
}

/**
 * The original labels back from the text `exposedLabelText` built, sorted by name with
 * `__name__`; null when the text does not parse. Exact when no name was changed (`keepsNames`);
 * for any other label set the registry checks the round trip before it relies on it.
 */
export function labelsFromExposedText(text: string): [string, string][] | null {
  const out: [string, string][] = [];
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('="', i);
    if (eq < 0) return null;
    const name = text.slice(i, eq);
    let j = eq + 2;
    let value = '';
    let from = j;
    for (;;) {
      if (j >= text.length) return null;
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        value += text.slice(from, j);
        const e = text.charCodeAt(j + 1);
        value += e === 0x6e ? '\n' : text[j + 1] ?? '';
        j += 2;
        from = j;
        continue;
      }
      j++;
    }
    value += text.slice(from, j);
    out.push([name === 'metric' ? '__name__' : name, value]);
    i = j + 1;
    if (i < text.length) {
      if (text.charCodeAt(i) !== 0x2c) return null;
      i++;
    }
  }
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return out;
}
