import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultConfig, parseConfig } from '../src/config/load.js';
import { SelectorError, matches, parseSelector } from '../src/config/matchers.js';
import { durationMs, isDuration } from '../src/config/duration.js';
import { resolveProfiles } from '../src/augur.js';
import { parseSeriesCsv, parseTimestamp } from '../src/backtest/csv.js';
import { backtestPath, backtestText } from '../src/backtest/run.js';
import { AugurError } from '../src/errors.js';
import { augur } from './helpers/cli.js';


function problems(text: string): { path: string; line: number; message: string }[] {
  try {
    parseConfig(text, 'test.yml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected the config to be rejected');
}

describe('config parsing', () => {
  it('gives the embedded default for an empty file', () => {
    const empty = parseConfig('', 'empty.yml');
    assert.deepEqual(empty, defaultConfig());
    assert.equal(empty.web.listen_address, '0.0.0.0:9201');
    assert.equal(empty.web.max_body_bytes, 32 * 1024 * 1024);
    assert.equal(empty.series.staleness, '5m');
    assert.deepEqual(empty.selectors, []);
    assert.deepEqual(parseConfig('# only a comment\n'), defaultConfig());
    // A section whose keys are all commented out is the section left out, as Prometheus reads it.
    assert.deepEqual(parseConfig('web:\n#  listen_address: 0.0.0.0:9301\nselectors:\nscoring:\n  sensitivity:\n'), defaultConfig());
    assert.throws(() => parseConfig('selectors: [null]\n'), /selectors\.0/);
    // A user without a hash is a mistake, not a setting left out.
    assert.throws(() => parseConfig('web:\n  auth:\n    basic_auth_users:\n      alice:\n'), /:4: web\.auth\.basic_auth_users\.alice: .*received null/);
  });

  it('reads every section and keeps defaults for what is left out', () => {
    const c = parseConfig(`
web:
  listen_address: 127.0.0.1:9301
  max_body_bytes: 1048576
series:
  max_active: 5000
  staleness: 10m
limits:
  labels_per_series: 64
scoring:
  sensitivity: 0.001
  warmup_samples: 10
  detectors:
    isolation_forest: false
selectors:
  - match: 'up{job="node"}'
    sensitivity: 0.01
  - match: '{job=~"batch.*"}'
    detectors: { seasonal: false }
`);
    assert.equal(c.web.listen_address, '127.0.0.1:9301');
    assert.equal(c.web.max_body_bytes, 1048576);
    assert.equal(c.web.max_decoded_bytes, 32 * 1024 * 1024);
    assert.equal(c.series.max_active, 5000);
    assert.equal(c.series.staleness, '10m');
    assert.equal(c.limits.labels_per_series, 64);
    assert.equal(c.limits.label_name_length, 1024);
    assert.equal(c.scoring.sensitivity, 0.001);
    assert.equal(c.scoring.detectors.isolation_forest, false);
    assert.equal(c.scoring.detectors.robust, true);
    assert.equal(c.selectors.length, 2);
    // Selector profiles inherit the base profile and override key by key.
    const models = resolveProfiles(c);
    assert.equal(models.profiles.length, 3);
    assert.equal(models.profiles[1]!.sensitivity, 0.01);
    assert.equal(models.profiles[1]!.warmup_samples, 10);
    assert.equal(models.profiles[2]!.detectors.seasonal, false);
    assert.equal(models.profiles[2]!.detectors.isolation_forest, false);
    assert.equal(models.profiles[2]!.sensitivity, 0.001);
    const info = (labels: [string, string][]) => ({ id: 0, name: labels.find((l) => l[0] === '__name__')![1], labels });
    assert.equal(models.profileFor(info([['__name__', 'up'], ['job', 'node']])), 1);
    assert.equal(models.profileFor(info([['__name__', 'up'], ['job', 'batch-1']])), 2);
    assert.equal(models.profileFor(info([['__name__', 'x'], ['job', 'batch-1']])), 2);
    assert.equal(models.profileFor(info([['__name__', 'up'], ['job', 'other']])), 0);
  });

  it('reports every problem with its dotted path and line', () => {
    const p = problems(`web:
  max_body_bytes: "big"
series:
  staleness: 5 minutes
selectors:
  - match: 'up'
  - match: 'foo{bar=}'
    sensitivity: 2
scoring:
  detectors:
    robust: maybe
`);
    const at = (path: string) => p.find((x) => x.path === path);
    assert.equal(at('web.max_body_bytes')?.line, 2);
    assert.equal(at('series.staleness')?.line, 4);
    assert.match(at('series.staleness')!.message, /duration/);
    assert.equal(at('selectors.1.match')?.line, 7);
    assert.equal(at('selectors.1.sensitivity')?.line, 8);
    assert.equal(at('scoring.detectors.robust')?.line, 11);
    assert.equal(at('selectors.0.match'), undefined, 'the good selector is fine');
    // The error message lists them as file:line: path: message.
    try {
      parseConfig('series:\n  max_active: 0\n', 'my.yml');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /my\.yml:2: series\.max_active: /);
    }
  });

  it('rejects unknown keys, naming them', () => {
    const p = problems('web:\n  listen_address: ":9201"\n  bogus_key: 1\n');
    assert.equal(p.length, 1);
    assert.match(p[0]!.path, /^web/);
    assert.match(p[0]!.message, /bogus_key/);
    assert.ok(p[0]!.line >= 1 && p[0]!.line <= 3);
    const top = problems('nonsense: true\n');
    assert.match(top[0]!.message, /nonsense/);
  });

  it('reports each unknown key at its own line', () => {
    const p = problems('web:\n  listen_address: ":9201"\n  bogus_key: 1\n  other:\n    x: 1\nnonsense: true\n');
    assert.deepEqual(
      p.map((x) => [x.path, x.line]),
      [['web.bogus_key', 3], ['web.other', 4], ['nonsense', 6]],
    );
  });

  it('reports problems of the generate section with the others, each at its own line', () => {
    const p = problems(`series:
  max_active: 0
generate:
  forecast:
    horizons: 1h
  anomaly:
    tiers: 3
  health: 7
  bogus: 1
  peerOutlier:
    threshold: 2
`);
    const at = (path: string) => p.find((x) => x.path === path);
    assert.equal(at('series.max_active')?.line, 2);
    assert.equal(at('generate.forecast.horizons')?.line, 5);
    assert.equal(at('generate.anomaly.tiers')?.line, 7);
    assert.equal(at('generate.health')?.line, 8);
    assert.equal(at('generate.bogus')?.line, 9);
    assert.match(at('generate.bogus')!.message, /unknown key/);
    assert.equal(at('generate.peerOutlier.threshold')?.line, 11);
    assert.equal(p.length, 6, JSON.stringify(p));
    for (const x of p) assert.ok(x.message.length > 0);
    // A one-problem generate section is printed too.
    try {
      parseConfig('generate:\n  health: 7\n', 'g.yml');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /^g\.yml: 1 problem\(s\)\n  g\.yml:2: generate\.health: /);
    }
  });

  it('reports YAML syntax errors with their line and column', () => {
    const p = problems('web:\n  max_body_bytes: 1024\nseries:\n  max_active: 5\n  max_active: 6\n');
    assert.equal(p.length, 1);
    assert.equal(p[0]!.line, 5);
    assert.equal(p[0]!.col, 3);
    assert.throws(() => parseConfig('series:\n  max_active: 5\n  max_active: 6\n', 'c.yml'), /c\.yml:3:3: \(root\): Map keys must be unique/);
    assert.match(p[0]!.message, /unique/);
    const q = problems('series:\n  max_active: [1, 2\n');
    assert.ok(q[0]!.line >= 2, `line ${q[0]!.line}`);
    const r = problems('just a string');
    assert.equal(r[0]!.line, 1);
  });

  it('checks value ranges', () => {
    assert.equal(problems('web:\n  max_body_bytes: 10\n')[0]!.path, 'web.max_body_bytes');
    assert.equal(problems('web:\n  listen_address: "no port"\n')[0]!.path, 'web.listen_address');
    assert.equal(problems('series:\n  staleness: 10ms\n')[0]!.path, 'series.staleness');
    assert.equal(problems('series:\n  max_active: 1.5\n')[0]!.path, 'series.max_active');
    assert.equal(problems('scoring:\n  warmup_samples: 0\n')[0]!.path, 'scoring.warmup_samples');
    assert.equal(problems('selectors:\n  - sensitivity: 0.1\n')[0]!.path, 'selectors.0.match');
  });

  it('parses Prometheus durations', () => {
    assert.equal(durationMs('5m'), 300_000);
    assert.equal(durationMs('1h30m'), 5_400_000);
    assert.equal(durationMs('250ms'), 250);
    assert.equal(durationMs('1d'), 86_400_000);
    assert.ok(Number.isNaN(durationMs('5 minutes')));
    assert.ok(Number.isNaN(durationMs('')));
    assert.ok(isDuration('2w'));
    assert.ok(!isDuration('-1s'));
  });

  it('accepts only what Prometheus accepts: units in decreasing order, each once', () => {
    for (const ok of ['90m', '1h30m', '1y2w3d4h5m6s7ms', '1m30ms', '0s']) assert.ok(isDuration(ok), ok);
    for (const bad of ['1m1h', '5m5m', '1ms1s', '30s1m', 'ms', 'h', '1h 30m']) {
      assert.ok(!isDuration(bad), bad);
      assert.ok(Number.isNaN(durationMs(bad)), bad);
    }
    const p = problems('series:\n  staleness: 1m1h\ngenerate:\n  anomaly:\n    for: 1m1h\n    smoothing: 0s\n  health:\n    trainingFor: 0m\n');
    const at = (path: string) => p.find((x) => x.path === path);
    assert.equal(at('series.staleness')?.line, 2);
    assert.equal(at('generate.anomaly.for')?.line, 5);
    assert.match(at('generate.anomaly.for')!.message, /not a Prometheus duration/);
    assert.equal(at('generate.anomaly.smoothing')?.line, 6);
    assert.match(at('generate.anomaly.smoothing')!.message, /positive/);
    assert.equal(at('generate.health.trainingFor')?.line, 8);
    assert.match(at('generate.health.trainingFor')!.message, /positive/);
  });
});

describe('selectors', () => {
  const L = (o: Record<string, string>): [string, string][] => Object.entries(o);

  it('parses names, matchers and quoting', () => {
    assert.deepEqual(parseSelector('up').map((m) => [m.name, m.op, m.value]), [['__name__', '=', 'up']]);
    assert.deepEqual(
      parseSelector(`http_requests_total{ job = "api", code!="200", path=~'/v1/.*', method !~ \`GET|HEAD\` }`).map((m) => [m.name, m.op, m.value]),
      [['__name__', '=', 'http_requests_total'], ['job', '=', 'api'], ['code', '!=', '200'], ['path', '=~', '/v1/.*'], ['method', '!~', 'GET|HEAD']],
    );
    assert.deepEqual(parseSelector('{job="a\\"b"}').map((m) => m.value), ['a"b']);
    assert.deepEqual(parseSelector('{"service.name"="x"}').map((m) => m.name), ['service.name']);
    assert.deepEqual(parseSelector('ns:metric:rate5m').map((m) => m.value), ['ns:metric:rate5m']);
  });

  it('rejects malformed selectors', () => {
    for (const bad of ['', '{}', 'up{', 'up{job}', 'up{job="x"', 'up{job=x}', 'up{job="x"} extra', '{job=~"("}', 'up{job=="x"}', '9up']) {
      assert.throws(() => parseSelector(bad), SelectorError, bad);
    }
  });

  it('matches like PromQL, anchored, with absent labels as empty', () => {
    const s = (src: string, labels: Record<string, string>) => matches(parseSelector(src), L(labels));
    assert.ok(s('up', { __name__: 'up', job: 'x' }));
    assert.ok(!s('up', { __name__: 'upx' }));
    assert.ok(s('{job=~"api|web"}', { __name__: 'a', job: 'web' }));
    assert.ok(!s('{job=~"api|web"}', { __name__: 'a', job: 'webserver' }), 'regexes are anchored');
    assert.ok(s('a{job!~"api.*"}', { __name__: 'a', job: 'web' }));
    assert.ok(!s('a{job!="web"}', { __name__: 'a', job: 'web' }));
    assert.ok(s('a{zone=""}', { __name__: 'a' }), 'an absent label equals the empty string');
    assert.ok(!s('{zone!=""}', { __name__: 'a' }));
    assert.ok(s('a{zone=~".*"}', { __name__: 'a' }));
    assert.ok(s('up{job="x",instance=~"10\\\\..*"}', { __name__: 'up', job: 'x', instance: '10.0.0.1' }));
    assert.ok(!s('up{job="x",instance=~"10\\\\..*"}', { __name__: 'up', job: 'x', instance: '100.0.0.1' }));
    assert.ok(s('{msg=~"a.b"}', { __name__: 'a', msg: 'a\nb' }), 'dot matches newlines as in RE2 (?s)');
  });
});

describe('CSV timestamps', () => {
  it('reads every documented format', () => {
    const t = Date.UTC(2024, 0, 2, 3, 4, 5);
    assert.equal(parseTimestamp('2024-01-02 03:04:05'), t);
    assert.equal(parseTimestamp('2024-01-02T03:04:05Z'), t);
    assert.equal(parseTimestamp('2024-01-02T05:04:05+02:00'), t);
    assert.equal(parseTimestamp('2024-01-01T22:04:05-05:00'), t);
    assert.equal(parseTimestamp('2024-01-02T03:04:05.250Z'), t + 250);
    assert.equal(parseTimestamp(String(t / 1000)), t);
    assert.equal(parseTimestamp(String(t)), t);
    assert.equal(parseTimestamp('1704164645.5'), t + 500);
    // Unix time in micro- and nanoseconds, told by magnitude; RFC 3339 with a space (as pandas writes).
    assert.equal(parseTimestamp(String(t * 1000)), t);
    assert.equal(parseTimestamp(`${t}000000`), t);
    assert.equal(parseTimestamp('2024-01-02 05:04:05+02:00'), t);
    assert.equal(parseTimestamp('2024-01-02 03:04:05.250Z'), t + 250);
    assert.equal(parseTimestamp(' 2024-01-02 03:04:05 '), t);
    assert.equal(parseTimestamp('2024-02-29 23:59:59'), Date.UTC(2024, 1, 29, 23, 59, 59));
    assert.equal(parseTimestamp('2024-01-02t03:04:05z'), t);
    assert.equal(parseTimestamp('2024-01-02 03:34:05+0030'), t);
    for (const bad of ['2024-01-01 24:00:00Z', '2024-01-01T24:00:00+00:00', '2024-01-02 03:04:05+24:00', '2024-01-02 03:04:05+01:60', '2024-13-01 00:00:00', '2024-02-30 00:00:00', '2023-02-29 00:00:00', '2024-01-01 24:00:00', '2024-01-01 00:60:00', '2024-01-01 00:00:60', '2024-00-10 00:00:00', '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-04-31T12:00:00+02:00']) {
      assert.ok(Number.isNaN(parseTimestamp(bad)), `${bad} is not a timestamp`);
    }
    assert.ok(Number.isNaN(parseTimestamp('yesterday')));
    assert.ok(Number.isNaN(parseTimestamp('')));
  });

  it('reads LF and CRLF files, a BOM and columns in any order', () => {
    const lf = parseSeriesCsv('timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,2.5\n', 'a.csv');
    const crlf = parseSeriesCsv('timestamp,value\r\n2024-01-01 00:00:00,1\r\n2024-01-01 00:01:00,2.5\r\n', 'b.csv');
    assert.deepEqual([...crlf.timeMs], [...lf.timeMs]);
    assert.deepEqual([...crlf.value], [1, 2.5]);
    assert.deepEqual(crlf.valueText, ['1', '2.5']);
    assert.deepEqual(crlf.timeText, ['2024-01-01 00:00:00', '2024-01-01 00:01:00']);
    const other = parseSeriesCsv('\uFEFFlabel,Value,Timestamp\nx,3,1704067200\n', 'c.csv');
    assert.deepEqual([...other.timeMs], [Date.UTC(2024, 0, 1)]);
    assert.deepEqual([...other.value], [3]);
    assert.throws(() => parseSeriesCsv('time,val\n1,2\n', 'd.csv'), AugurError);
    assert.throws(() => parseSeriesCsv('timestamp,value\nnot a time,2\n', 'e.csv'), /e\.csv:2/);
  });

  it('reads empty and NaN values as missing, and refuses values that are not numbers', () => {
    const csv = parseSeriesCsv('timestamp,value\n1704067200,\n1704067260,NaN\n1704067320,+Inf\n1704067380, 1.5e3 \n', 'v.csv');
    assert.ok(Number.isNaN(csv.value[0]) && Number.isNaN(csv.value[1]));
    assert.deepEqual([...csv.value.slice(2)], [Infinity, 1500]);
    assert.throws(() => parseSeriesCsv('timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,abc\n', 'f.csv'), (e: Error) => e instanceof AugurError && /^f\.csv:3: .*"abc"/.test(e.message));
    for (const bad of ['0x10', '0b11', 'Infinity', '1e', '1_000']) {
      assert.throws(() => parseSeriesCsv(`timestamp,value\n1704067200,${bad}\n`, 'g.csv'), /g\.csv:2/, bad);
    }
    assert.deepEqual([...parseSeriesCsv('timestamp,value\n1704067200,-.5\n1704067260,+2.\n1704067320,1E-3\n', 'h.csv').value], [-0.5, 2, 0.001]);
    assert.throws(() => parseSeriesCsv('timestamp,value\n1704067200,1\n1704067260\n', 'i.csv'), /i\.csv:3: 1 cell\(s\) where the header has 2/);
  });
});

describe('backtest', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'augur-backtest-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const FIXED = ['timestamp', 'value', 'anomaly_score', 'anomaly', 'expected', 'expected_lower', 'expected_upper'];

  function values(n: number, spikeAt: number): number[] {
    return Array.from({ length: n }, (_, k) => 10 + Math.sin(k * 12.9898) * 0.5 + (k === spikeAt ? 60 : 0));
  }

  /** Checks the DESIGN.md columns, the echoed input, and returns the rows. */
  function checkOutput(out: string, inputRows: [string, string][]): string[][] {
    assert.ok(!out.includes('\r'), 'no carriage returns leak into cells');
    const lines = out.split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    const header = lines[0]!.split(',');
    assert.deepEqual(header.slice(0, 7), FIXED);
    // Then one triple per forecast horizon.
    const extra = header.slice(7);
    assert.equal(extra.length % 3, 0, `forecast columns come in triples: ${extra.join(',')}`);
    for (let i = 0; i < extra.length; i += 3) {
      const m = /^forecast_([0-9a-z]+)$/.exec(extra[i]!);
      assert.ok(m, extra[i]);
      assert.deepEqual(extra.slice(i, i + 3), [`forecast_${m[1]}`, `forecast_${m[1]}_lower`, `forecast_${m[1]}_upper`]);
    }
    const rows = lines.slice(1).map((l) => l.split(','));
    assert.equal(rows.length, inputRows.length);
    rows.forEach((r, i) => {
      assert.equal(r.length, header.length, `row ${i}`);
      assert.deepEqual([r[0], r[1]], inputRows[i], `row ${i} echoes its input`);
      for (const cell of r.slice(2)) assert.ok(cell === '' || Number.isFinite(Number(cell)), `row ${i}: cell ${JSON.stringify(cell)}`);
      if (r[2] !== '') assert.ok(Number(r[2]) >= 0 && Number(r[2]) <= 1, `score in [0, 1] at row ${i}`);
      if (r[3] !== '') assert.ok(r[3] === '0' || r[3] === '1');
      if (r[4] !== '' && r[5] !== '' && r[6] !== '') {
        assert.ok(Number(r[5]) <= Number(r[4]) && Number(r[4]) <= Number(r[6]), `band ordered at row ${i}`);
      }
    });
    return rows;
  }

  it('scores a CSV causally and flags a spike', async () => {
    const v = values(120, 90);
    const inputRows: [string, string][] = v.map((x, k) => [new Date(Date.UTC(2024, 0, 1) + k * 300_000).toISOString().replace('T', ' ').slice(0, 19), x.toFixed(4)]);
    const text = 'timestamp,value\n' + inputRows.map((r) => r.join(',')).join('\n') + '\n';
    const out = await backtestText(text, 'spike.csv', { config: defaultConfig(), type: 'gauge' });
    const rows = checkOutput(out, inputRows);
    assert.notEqual(rows[110]![4], '', 'a band once warmed up');
    assert.ok(Math.abs(Number(rows[110]![4]) - 10) < 2);
    assert.equal(rows[90]![3], '1', 'the spike is flagged');
    assert.ok(Number(rows[90]![2]) > Number(rows[89]![2]));
    // Causal: rows before the spike do not change when the spike is removed.
    const calm = inputRows.map((r, k): [string, string] => (k === 90 ? [r[0], (10).toFixed(4)] : r));
    const out2 = await backtestText('timestamp,value\n' + calm.map((r) => r.join(',')).join('\n') + '\n', 'spike.csv', { config: defaultConfig(), type: 'gauge' });
    const rows2 = checkOutput(out2, calm);
    assert.deepEqual(rows2.slice(0, 90), rows.slice(0, 90));
  });

  it('scores counters on their rate, with empty cells before the first rate', async () => {
    const inputRows: [string, string][] = Array.from({ length: 60 }, (_, k) => [String(1704067200 + k * 60), String(1000 + 600 * k + (k % 3))]);
    const out = await backtestText('timestamp,value\n' + inputRows.map((r) => r.join(',')).join('\n') + '\n', 'c.csv', { config: defaultConfig(), type: 'counter' });
    const rows = checkOutput(out, inputRows);
    assert.deepEqual(rows[0]!.slice(2, 7), ['', '', '', '', '']);
    assert.ok(Math.abs(Number(rows[59]![4]) - 10) < 2, `expected rate ${rows[59]![4]}`);
  });

  it('runs `augur backtest` over a folder of CSVs in every timestamp format, LF and CRLF', async () => {
    const input = join(dir, 'in');
    const output = join(dir, 'out');
    mkdirSync(join(input, 'nested', 'deeper'), { recursive: true });
    const v = values(80, 70);
    const t0 = Date.UTC(2024, 0, 1);
    const formats: [string, (t: number) => string, string][] = [
      ['plain.csv', (t) => new Date(t).toISOString().replace('T', ' ').slice(0, 19), '\n'],
      ['nested/rfc3339.csv', (t) => new Date(t).toISOString().slice(0, 19) + 'Z', '\r\n'],
      ['nested/offset.csv', (t) => new Date(t + 3_600_000).toISOString().slice(0, 19) + '+01:00', '\n'],
      ['nested/deeper/unix_s.csv', (t) => String(t / 1000), '\r\n'],
      ['unix_ms.csv', (t) => String(t), '\n'],
    ];
    const inputs = new Map<string, [string, string][]>();
    for (const [name, fmt, eol] of formats) {
      const rows: [string, string][] = v.map((x, k) => [fmt(t0 + k * 60_000), x.toFixed(3)]);
      inputs.set(name, rows);
      writeFileSync(join(input, name), 'timestamp,value' + eol + rows.map((r) => r.join(',')).join(eol) + eol);
    }
    writeFileSync(join(input, 'nested', 'notes.txt'), 'not a csv');
    const res = await augur(['backtest', '--input', input, '--output', output]);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(!existsSync(join(output, 'nested', 'notes.txt')));
    const results: string[][][] = [];
    for (const [name] of formats) {
      const out = readFileSync(join(output, name), 'utf8');
      results.push(checkOutput(out, inputs.get(name)!));
    }
    // Same values at the same instants: the same scores whatever the timestamp format.
    for (const r of results.slice(1)) assert.deepEqual(r.map((row) => row.slice(2)), results[0]!.map((row) => row.slice(2)));
    // A single file to a single file, with --type and --config.file.
    const cfg = join(dir, 'augur.yml');
    writeFileSync(cfg, 'scoring:\n  warmup_samples: 5\n');
    const one = await augur(['backtest', '--input', join(input, 'plain.csv'), '--output', join(dir, 'one', 'out.csv'), '--type=counter', `--config.file=${cfg}`]);
    assert.equal(one.code, 0, one.stderr);
    checkOutput(readFileSync(join(dir, 'one', 'out.csv'), 'utf8'), inputs.get('plain.csv')!);
  });

  it('streams a long backtest to its file in chunks, the same bytes as in one piece, and leaves no temporary file', async () => {
    const folder = join(dir, 'long');
    mkdirSync(folder, { recursive: true });
    // Read in 1 MiB chunks: CRLF line ends and multi-byte characters fall across chunk boundaries.
    const note = 'héllo wörld ✓ '.repeat(3);
    const text = 'timestamp,value,note\r\n' + values(30_000, 20_000).map((x, k) => `${1704067200 + k * 60},${x},${note}`).join('\r\n') + '\r\n';
    assert.ok(Buffer.byteLength(text) > 2 << 20);
    writeFileSync(join(folder, 'long.csv'), text);
    // Without the LSTM, whose rounds in sample time would make 30,000 rows take a minute.
    const opts = { config: parseConfig('forecast: { models: { lstm: false } }\n'), type: 'gauge' as const };
    const written = await backtestPath(join(folder, 'long.csv'), join(folder, 'out.csv'), opts);
    assert.deepEqual(written, [join(folder, 'out.csv')]);
    const streamed = readFileSync(join(folder, 'out.csv'), 'utf8');
    assert.ok(streamed.length > 3 << 20, `several chunks: ${streamed.length} characters`);
    assert.equal(streamed, await backtestText(text, 'long.csv', opts));
    assert.deepEqual(readdirSync(folder).sort(), ['long.csv', 'out.csv']);
    // A broken row past the first chunks is reported at its line, and leaves no output.
    writeFileSync(join(folder, 'bad.csv'), text + '1705867200\r\n');
    await assert.rejects(backtestPath(join(folder, 'bad.csv'), join(folder, 'bad-out.csv'), opts), /bad\.csv:30002: 1 cell\(s\) where the header has 3/);
    assert.deepEqual(readdirSync(folder).sort(), ['bad.csv', 'long.csv', 'out.csv']);
  });

  it('writes the forecast columns in the order of the configured horizons, labelled as Augur labels them', async () => {
    const text = 'timestamp,value\n' + values(30, -1).map((x, k) => `${1704067200 + k * 300},${x}`).join('\n') + '\n';
    const out = await backtestText(text, 'h.csv', { config: parseConfig('forecast: { horizons: [90m, 5m] }\n'), type: 'gauge' });
    assert.deepEqual(out.split('\n')[0]!.split(',').slice(7), [
      'forecast_1h30m', 'forecast_1h30m_lower', 'forecast_1h30m_upper',
      'forecast_5m', 'forecast_5m_lower', 'forecast_5m_upper',
    ]);
  });

  it('fails `augur backtest` with one readable line on paths that cannot work', async () => {
    const folder = join(dir, 'paths');
    mkdirSync(join(folder, 'in'), { recursive: true });
    const csv = join(folder, 'in', 'a.csv');
    writeFileSync(csv, 'timestamp,value\n1704067200,1\n');
    const file = join(folder, 'existing.csv');
    writeFileSync(file, 'x');
    const cases: [string[], RegExp][] = [
      [['--input', join(folder, 'nope.csv'), '--output', join(folder, 'x.csv')], /nope\.csv does not exist/],
      [['--input', csv, '--output', folder], /--output must be a file.*is a folder/],
      [['--input', join(folder, 'in'), '--output', file], /--output must be a folder.*existing\.csv is a file/],
      [['--input', join(folder, 'in'), '--output', join(folder, 'in')], /input would be overwritten/],
      [['--input', csv, '--output', csv], /input would be overwritten/],
      // Mirrored into itself: outputs would overwrite inputs, and old outputs be read as inputs.
      [['--input', join(folder, 'in'), '--output', join(folder, 'in', 'sub')], /inside --input/],
      [['--input', join(folder, 'in'), '--output', join(folder, 'in', 'new', 'deeper')], /inside --input/],
      [['--input', join(folder, 'in'), '--output', folder], /inside --output/],
      [['--input', csv, '--output', join(file, 'out.csv')], /cannot create the folder .*existing\.csv/],
    ];
    const runs = await Promise.all(cases.map(([args]) => augur(['backtest', ...args])));
    runs.forEach((res, i) => {
      assert.equal(res.code, 1, `${cases[i]![0].join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, cases[i]![1]);
      assert.equal(res.stderr.trim().split('\n').length, 1, `one line, no stack: ${res.stderr}`);
    });
    assert.equal(readFileSync(csv, 'utf8'), 'timestamp,value\n1704067200,1\n', 'the input is untouched');
  });

  it('fails `augur backtest` with a clear message on bad input', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'timestamp,value\n2024-13-45 99:00:00,1\nnope,2\n');
    const res = await augur(['backtest', '--input', bad, '--output', join(dir, 'bad-out.csv')]);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /bad\.csv:2/);
    writeFileSync(bad, 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,abc\n');
    const value = await augur(['backtest', '--input', bad, '--output', join(dir, 'bad-out.csv')]);
    assert.equal(value.code, 1, value.stderr);
    assert.match(value.stderr, /bad\.csv:3: cannot read value "abc"/);
  });
});

describe('augur check-config', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'augur-config-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 on a valid file, 1 with every problem on an invalid one, 2 on misuse', async () => {
    const good = join(dir, 'good.yml');
    const bad = join(dir, 'bad.yml');
    writeFileSync(good, 'series:\n  max_active: 1000\nselectors:\n  - match: \'up{job="x"}\'\n    sensitivity: 0.01\n');
    writeFileSync(bad, 'series:\n  max_active: -1\n  staleness: soon\nselectors:\n  - match: "up{"\n');
    const [ok, fail, missing, none, checkBad] = await Promise.all([
      augur(['check-config', good]),
      augur(['check-config', bad]),
      augur(['check-config', join(dir, 'absent.yml')]),
      augur(['check-config']),
      augur(['serve', '--config.check', `--config.file=${bad}`]),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /OK/);
    assert.equal(fail.code, 1, fail.stderr);
    assert.match(fail.stderr, /bad\.yml:2: series\.max_active: /);
    assert.match(fail.stderr, /bad\.yml:3: series\.staleness: /);
    assert.match(fail.stderr, /bad\.yml:5: selectors\.0\.match: /);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /absent\.yml/);
    assert.equal(none.code, 2);
    assert.equal(checkBad.code, 1);
    assert.match(checkBad.stderr, /series\.max_active/);
  });

  it('fails what serve would refuse at start, checks every file given, and serve names a bad certificate in one line', async () => {
    const good = join(dir, 'good2.yml');
    writeFileSync(good, 'series: { max_active: 10 }\n');
    const cases: [string, string, RegExp][] = [
      ['port.yml', 'web:\n  listen_address: 0.0.0.0:99999\n', /port\.yml:2: web\.listen_address: the port must be a decimal number up to 65535/],
      ['env.yml', 'web:\n  auth: { bearer_tokens_env: AUGUR_TEST_UNSET_VARIABLE }\n', /env\.yml:2: web\.auth\.bearer_tokens_env: .*AUGUR_TEST_UNSET_VARIABLE is not set/],
      ['file.yml', `web:\n  auth: { bearer_tokens_file: ${join(dir, 'no-tokens')} }\n`, /file\.yml:2: web\.auth\.bearer_tokens_file: .*no-tokens: ENOENT/],
      ['pem.yml', `web:\n  tls: { cert_file: ${good}, key_file: ${good} }\n`, /pem\.yml:2: web\.tls: .* not a usable certificate and key/],
      // Every problem, each with its path and line: both missing TLS files, and the credentials too.
      ['all.yml', `web:\n  tls:\n    cert_file: ${join(dir, 'no.crt')}\n    key_file: ${join(dir, 'no.key')}\n  auth:\n    bearer_tokens_env: AUGUR_TEST_UNSET_VARIABLE\n`, /all\.yml: 3 problem\(s\)\n.*all\.yml:3: web\.tls\.cert_file: .*no\.crt: ENOENT\n.*all\.yml:4: web\.tls\.key_file: .*no\.key: ENOENT\n.*all\.yml:6: web\.auth\.bearer_tokens_env: /],
    ];
    for (const [name, text] of cases) writeFileSync(join(dir, name), text);
    const all = await augur(['check-config', good, ...cases.map(([name]) => join(dir, name))]);
    assert.equal(all.code, 1, all.stderr);
    assert.match(all.stdout, /good2\.yml: OK/);
    for (const [, , message] of cases) assert.match(all.stderr, message);
    const [check, yes, serve, port] = await Promise.all([
      augur(['serve', '--config.check', `--config.file=${join(dir, 'all.yml')}`]),
      augur(['serve', '--config.check=yes', `--config.file=${good}`]),
      augur(['serve', `--config.file=${join(dir, 'pem.yml')}`, '--web.listen-address=127.0.0.1:0']),
      augur(['serve', `--config.file=${join(dir, 'port.yml')}`]),
    ]);
    assert.equal(check.code, 1, check.stderr);
    assert.match(check.stderr, cases[4]![2]);
    assert.equal(yes.code, 2, yes.stderr);
    assert.equal(serve.code, 1, serve.stderr);
    assert.match(serve.stderr, /not a usable certificate and key/);
    assert.equal(serve.stderr.trim().split('\n').length, 1, `one line, no stack: ${serve.stderr}`);
    // The address came from the file: the message names its key, not a flag never given.
    assert.equal(port.code, 1, port.stderr);
    assert.match(port.stderr, /web\.listen_address/);
    assert.doesNotMatch(port.stderr, /--web\.listen-address/);
  });

  it('prints every problem of the generate section', async () => {
    const bad = join(dir, 'generate.yml');
    writeFileSync(bad, 'generate:\n  forecast: {horizons: 1h}\n  anomaly: {tiers: 3, for: 1m1h}\n');
    const res = await augur(['check-config', bad]);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /3 problem\(s\)/);
    assert.match(res.stderr, /generate\.yml:2: generate\.forecast\.horizons: /);
    assert.match(res.stderr, /generate\.yml:3: generate\.anomaly\.tiers: /);
    assert.match(res.stderr, /generate\.yml:3: generate\.anomaly\.for: /);
  });
});
