import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../src/config/load.js';
import { SelectorError, matches, parseSelector } from '../src/config/matchers.js';

// Selectors as PromQL has them: RE2 regexes, Go string escapes, at least one non-empty matcher.
const m = (src: string, labels: Record<string, string>): boolean => matches(parseSelector(src), Object.entries(labels));
const values = (src: string): string[] => parseSelector(src).map((x) => x.value);

function configProblems(text: string): { path: string; message: string }[] {
  try {
    parseConfig(text, 'test.yml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  return [];
}

describe('selector regexes (RE2, as in Prometheus)', () => {
  it('accepts RE2 flags and POSIX classes, anchored, dot matching newlines', () => {
    assert.ok(m('{instance=~"(?i)A.B"}', { instance: 'a.b' }), '(?i) is RE2 syntax');
    assert.ok(m('{instance=~"(?i)A.B"}', { instance: 'aXb' }));
    assert.ok(!m('{instance=~"(?i)A.B"}', { instance: 'a.bc' }), 'anchored');
    assert.ok(m('{x=~"[[:alpha:]]+"}', { x: 'abcXYZ' }), 'POSIX classes');
    assert.ok(!m('{x=~"[[:alpha:]]+"}', { x: 'abc1' }));
    assert.ok(m('{x=~"[[:digit:]]{3}"}', { x: '123' }));
    assert.ok(m('{x=~"a.b"}', { x: 'a\nb' }), 'dot matches newline, as (?s)');
    assert.ok(!m('{x=~"a"}', { x: 'a\n' }), '$ is the end of the text, not of a line');
    assert.ok(m('{x=~"."}', { x: '😀' }), 'dot is one code point');
    assert.ok(m('{x=~"a|b"}', { x: 'b' }) && !m('{x=~"a|b"}', { x: 'ab' }), 'alternation is anchored as a whole');
    assert.ok(m('n{x!~"(?i)web.*"}', { __name__: 'n', x: 'api' }) && !m('n{x!~"(?i)web.*"}', { __name__: 'n', x: 'WEB-1' }));
    assert.ok(m('{x=~"a\\\\.b"}', { x: 'a.b' }) && !m('{x=~"a\\\\.b"}', { x: 'axb' }));
    assert.ok(m('{x=~`\\d+`}', { x: '42' }), 'backquoted regexes are raw');
  });

  it('matches catastrophic patterns in linear time', () => {
    const t = performance.now();
    assert.ok(!m('{__name__=~"(.*)*y"}', { __name__: 'a'.repeat(24) }));
    assert.ok(!m('{x=~"(a+)+$"}', { __name__: 'n', x: 'a'.repeat(24) + 'b' }));
    assert.ok(!m('{x=~"(a|aa)*c"}', { __name__: 'n', x: 'a'.repeat(32) }));
    const ms = performance.now() - t;
    assert.ok(ms < 250, `took ${ms.toFixed(0)} ms`);
  });

  it('refuses what RE2 refuses, with a readable message', () => {
    for (const [bad, why] of [
      ['{x=~"("}', /invalid regular expression "\(".*missing closing \)/],
      ['{x=~"a)"}', /invalid regular expression/],
      ['{x=~"(?=a)a"}', /invalid regular expression.*\(\?=/],
      ['{x=~"(a)\\\\1"}', /invalid regular expression.*\\1/],
      ['{x=~"a**"}', /invalid regular expression/],
    ] as const) {
      assert.throws(() => parseSelector(bad), (e: unknown) => e instanceof SelectorError && why.test(e.message), bad);
    }
    const p = configProblems("selectors:\n  - match: 'up{job=~\"(?=x)\"}'\n");
    assert.match(p.find((x) => x.path === 'selectors.0.match')?.message ?? '', /invalid regular expression/);
  });
});

describe('selectors need a matcher that does not match the empty string', () => {
  it('refuses selectors whose every matcher matches ""', () => {
    for (const bad of ['{foo=""}', '{foo=~".*"}', '{foo!="x"}', '{foo!~".+"}', '{foo="",bar=~"a|"}', '{foo=~"(?i)|x"}']) {
      assert.throws(() => parseSelector(bad), /at least one non-empty matcher/, bad);
    }
    for (const good of ['up', 'up{foo=""}', '{foo!=""}', '{foo=~".+"}', '{foo="",bar="x"}', '{foo!~".*"}', '{__name__=~"up|down"}']) {
      assert.doesNotThrow(() => parseSelector(good), good);
    }
  });

  it('is a configuration error', () => {
    const p = configProblems("selectors:\n  - match: 'up'\n  - match: '{foo=\"\"}'\n");
    assert.equal(p.find((x) => x.path === 'selectors.0.match'), undefined);
    assert.match(p.find((x) => x.path === 'selectors.1.match')?.message ?? '', /at least one non-empty matcher/);
  });
});

describe('selector strings decode Go escapes as PromQL does', () => {
  it('decodes \\a \\b \\f \\n \\r \\t \\v \\\\ and the quote', () => {
    assert.deepEqual(values(String.raw`{x="\a\b\f\n\r\t\v\\"}`), ['\x07\b\f\n\r\t\v\\']);
    assert.deepEqual(values(String.raw`{x="a\"b"}`), ['a"b']);
    assert.deepEqual(values(String.raw`{x='a\'b'}`), ["a'b"]);
    assert.deepEqual(values(String.raw`{x='say "hi"'}`), ['say "hi"']);
  });

  it('decodes \\x, octal, \\u and \\U', () => {
    assert.deepEqual(values(String.raw`{x="\u0061"}`), ['a']);
    assert.deepEqual(values(String.raw`{x="\x61"}`), ['a']);
    assert.deepEqual(values(String.raw`{x="\141"}`), ['a']);
    assert.deepEqual(values(String.raw`{x="\U0001F600"}`), ['😀']);
    assert.deepEqual(values(String.raw`{x="caf\u00e9"}`), ['café']);
    assert.deepEqual(values(String.raw`{x="caf\xc3\xa9"}`), ['café'], '\\x escapes are UTF-8 bytes');
    assert.deepEqual(values(String.raw`{x="caf\303\251"}`), ['café']);
    assert.deepEqual(values('{x="café😀"}'), ['café😀'], 'non-ASCII text passes through');
    assert.ok(m(String.raw`{job="\u0061pi"}`, { job: 'api' }));
    assert.ok(m(String.raw`{job=~"\x61p."}`, { job: 'api' }));
    assert.deepEqual(values(String.raw`{"\x6aob"="x"}`).length, 1);
    assert.deepEqual(parseSelector(String.raw`{"\x6aob"="x"}`)[0]!.name, 'job', 'quoted label names decode too');
  });

  it('keeps backquoted strings raw', () => {
    assert.deepEqual(values(String.raw`{x=` + '`' + String.raw`\u0061\n\d` + '`}'), [String.raw`\u0061\n\d`]);
  });

  it('refuses what Go refuses', () => {
    for (const bad of [
      String.raw`{x="\d"}`,
      String.raw`{x="a\'b"}`,
      String.raw`{x='a\"b'}`,
      String.raw`{x="\x6"}`,
      String.raw`{x="\u006"}`,
      String.raw`{x="\uD800"}`,
      String.raw`{x="\U00110000"}`,
      String.raw`{x="\400"}`,
      String.raw`{x="\18"}`,
      String.raw`{x="\xff"}`,
      '{x="a\nb"}',
      '{x="a\\',
    ]) {
      assert.throws(() => parseSelector(bad), SelectorError, JSON.stringify(bad));
    }
  });
});

describe('quoted metric and label names, as in Prometheus 3', () => {
  const parsed = (src: string): [string, string, string][] => parseSelector(src).map((x) => [x.name, x.op, x.value]);

  it('reads a quoted string alone inside the braces as the metric name', () => {
    assert.deepEqual(parsed('{"my.metric"}'), [['__name__', '=', 'my.metric']]);
    assert.deepEqual(parsed('{"my.metric", job="x"}'), [['__name__', '=', 'my.metric'], ['job', '=', 'x']]);
    assert.deepEqual(parsed('{job="x", "my.metric",}'), [['job', '=', 'x'], ['__name__', '=', 'my.metric']]);
    assert.deepEqual(parsed("{'my.metric'}"), [['__name__', '=', 'my.metric']]);
    assert.deepEqual(parsed('{ `my.metric` }'), [['__name__', '=', 'my.metric']]);
    assert.deepEqual(parsed(String.raw`{"my\x2emetric"}`), [['__name__', '=', 'my.metric']], 'Go escapes apply to names too');
  });

  it('reads a quoted string followed by an operator as a label name', () => {
    assert.deepEqual(parsed('{"a.b"="x"}'), [['a.b', '=', 'x']]);
    assert.deepEqual(parsed('{__name__="x", "label with space"!="y"}'), [['__name__', '=', 'x'], ['label with space', '!=', 'y']]);
    assert.deepEqual(parsed('metric{"a.b"="x"}'), [['__name__', '=', 'metric'], ['a.b', '=', 'x']]);
    assert.deepEqual(parsed("{'a.b'=~'x.*', \"my.metric\"}"), [['a.b', '=~', 'x.*'], ['__name__', '=', 'my.metric']]);
  });

  it('matches the original name and labels', () => {
    const labels = { __name__: 'my.metric', 'a.b': 'x', 'label with space': 'y' };
    assert.ok(m('{"my.metric"}', labels));
    assert.ok(m('{"my.metric", "a.b"="x"}', labels));
    assert.ok(!m('{"my.metric", "label with space"!="y"}', labels));
    assert.ok(!m('{"other.metric"}', labels));
    assert.ok(!m('{"a_b"="x"}', labels), 'not the sanitised name of the exposed label');
  });

  it('refuses a metric name given twice, a quoted name outside the braces and empty names', () => {
    for (const [bad, why] of [
      ['up{"x"}', /metric name must not be set twice: "up" or "x"/],
      ['up{__name__="x"}', /metric name must not be set twice/],
      ['"my.metric"', /quoted metric name goes inside the braces/],
      ['"my.metric"{job="x"}', /quoted metric name goes inside the braces/],
      ['{""="x"}', /empty name at offset 1/],
      ['{"my.metric" job="x"}', /expected =, !=, =~, !~, ',' or '}' at offset 13/],
      ['{"my.metric"="x" "b"}', /expected ',' or '}'/],
      ['{"\\xff"}', /valid UTF-8/],
    ] as const) {
      assert.throws(() => parseSelector(bad), (e: unknown) => e instanceof SelectorError && why.test(e.message), bad);
    }
    assert.doesNotThrow(() => parseSelector('{"a", "b"}'), 'two name matchers inside the braces are allowed, as in Prometheus');
  });

  it('is accepted in the configuration', () => {
    assert.deepEqual(configProblems("selectors:\n  - match: '{\"my.metric\", \"a.b\"=~\"x|y\"}'\n"), []);
  });
});
