import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { networkInterfaces } from 'node:os';
import { Augur } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';
import { parseListenAddress } from '../src/config/listen-address.js';
import { createLogger } from '../src/log.js';
import { augur } from './helpers/cli.js';

describe('augur --help', () => {
  it('prints the usage of the subcommand it follows and exits 0', async () => {
    const cases: [string[], RegExp][] = [
      [['serve', '--help'], /--web\.listen-address/],
      [['backtest', '-h'], /backtest --input PATH --output PATH/],
      [['generate', 'rules', '--help'], /generate rules\|dashboards\|prometheus-config/],
      [['check-config', '--help'], /check-config FILE/],
      [['--config.file=x.yml', '--help'], /--web\.listen-address/],
    ];
    const runs = await Promise.all(cases.map(([args]) => augur(args)));
    runs.forEach((res, i) => {
      const [args, usage] = cases[i]!;
      assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stdout, usage, args.join(' '));
      assert.equal(res.stderr, '');
    });
    assert.ok(!runs[1]!.stdout.includes('--web.listen-address'), 'only the subcommand');
    const all = await augur(['--help']);
    assert.equal(all.code, 0);
    for (const cmd of ['serve', 'check-config', 'backtest', 'generate', 'version']) assert.match(all.stdout, new RegExp(`^  ${cmd}\\b`, 'm'));
  });
});

describe('augur serve flags', () => {
  it('refuses a listen port that is not a decimal number up to 65535, before starting', async () => {
    const runs = await Promise.all(['127.0.0.1:0x4b8f', ':1e4', '127.0.0.1:65536', '127.0.0.1:'].map((a) => augur(['serve', `--web.listen-address=${a}`])));
    for (const res of runs) {
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /the port must be a decimal number up to 65535/);
    }
    const ipv6 = await augur(['serve', '--web.listen-address=::1:9201']);
    assert.equal(ipv6.code, 2, ipv6.stderr);
    assert.match(ipv6.stderr, /an IPv6 host in brackets/);
  });

  it('checks every flag before --config.check answers, and refuses stray arguments', async () => {
    const cases = [
      ['serve', '--config.check', '--log.level=nope'],
      ['serve', '--config.check', '--web.listen-address=:1e4'],
      ['serve', '--config.check', 'augur.yml'],
      ['serve', 'extra', '--config.file=/nonexistent/augur.yml'],
      ['--config.file=/nonexistent/augur.yml', 'extra'],
      ['backtest', '--input', 'a.csv', '--output', 'b.csv', 'extra'],
    ];
    const runs = await Promise.all(cases.map((args) => augur(args)));
    runs.forEach((res, i) => {
      assert.equal(res.code, 2, `${cases[i]!.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, /^augur: .*\n\nusage:/);
    });
    const ok = await augur(['serve', '--config.check', '--log.level=warn', '--web.listen-address=[::1]:9201']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /embedded default config: OK/);
  });
});

describe('listen address', () => {
  it('an empty host is every interface: IPv4 and, where the kernel has it, IPv6', async () => {
    const { host, port } = parseListenAddress(':0');
    assert.equal(host, '');
    const server = new Augur(defaultConfig(), createLogger('silent', 'json'));
    try {
      const url = new URL(await server.listen(host, port));
      const get = async (h: string): Promise<number> => (await fetch(`http://${h}:${url.port}/-/healthy`)).status;
      assert.equal(await get('127.0.0.1'), 200);
      const v6 = networkInterfaces().lo?.some((a) => a.family === 'IPv6') ?? false;
      if (v6) assert.equal(await get('[::1]'), 200);
    } finally {
      await server.close();
    }
  });
});
