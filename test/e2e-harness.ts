// Real Prometheus, Alertmanager and Augur processes for the e2e-*.test.ts files: free ports, temp
// dirs, bounded waits, and everything killed by `stopAll`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from './generate-promql.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; Date.now() < deadline && i < 100_000; i++) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, text: await res.text() };
}

export class Stack {
  private readonly procs: { name: string; proc: ChildProcess; log: string[] }[] = [];
  private readonly servers: http.Server[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'augur-e2e-'));

  file(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }

  /** Starts a process; its output is kept (last 200 lines) for failure messages. */
  spawn(name: string, cmd: string, args: string[]): ChildProcess {
    const proc = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    const keep = (b: Buffer) => {
      for (const l of b.toString('utf8').split('\n')) if (l) log.push(l);
      if (log.length > 200) log.splice(0, log.length - 200);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    this.procs.push({ name, proc, log });
    return proc;
  }

  /** The last process started under `name`. */
  lastProcess(name: string): ChildProcess {
    const p = this.procs.filter((x) => x.name === name).pop();
    if (p === undefined) throw new Error(`no process ${name}`);
    return p.proc;
  }

  logs(name: string): string {
    return this.procs
      .filter((p) => p.name === name)
      .map((p) => p.log.join('\n'))
      .join('\n');
  }

  /** Throws if a process of the stack has exited. */
  assertRunning(): void {
    for (const p of this.procs) {
      if (p.proc.exitCode !== null || p.proc.signalCode !== null) {
        throw new Error(`${p.name} exited (${p.proc.exitCode ?? p.proc.signalCode}):\n${p.log.slice(-30).join('\n')}`);
      }
    }
  }

  /** An HTTP server on a free port of 127.0.0.1 serving `handler`. */
  async serve(handler: http.RequestListener): Promise<string> {
    const server = http.createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.servers.push(server);
    return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  /** Starts `augur serve`, on its embedded default config unless `config` (YAML) is given. */
  async augur(name: string, config?: string): Promise<string> {
    const addr = `127.0.0.1:${await freePort()}`;
    const args = ['--import', 'tsx', 'src/cli.ts', 'serve', `--web.listen-address=${addr}`, '--log.level=warn'];
    if (config !== undefined) args.push(`--config.file=${this.file(`${name}.yml`, config)}`);
    this.spawn(name, process.execPath, args);
    await waitFor(`${name} to be ready`, 30_000, async () => {
      this.assertRunning();
      return (await httpGet(`http://${addr}/-/ready`, 1000)).status === 200 ? true : undefined;
    });
    return addr;
  }

  async alertmanager(config: string): Promise<string> {
    const bin = requireTool('prometheus-alertmanager', 'prometheus-alertmanager');
    const addr = `127.0.0.1:${await freePort()}`;
    const file = this.file('alertmanager.yml', config);
    this.spawn('alertmanager', bin, [
      `--config.file=${file}`,
      `--storage.path=${join(this.dir, 'alertmanager')}`,
      `--web.listen-address=${addr}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ]);
    await waitFor('alertmanager to be ready', 20_000, async () => {
      this.assertRunning();
      return (await httpGet(`http://${addr}/-/ready`, 1000)).status === 200 ? true : undefined;
    });
    return addr;
  }

  /** Starts Prometheus with `config(addr)` (the config may need Prometheus's own address). */
  async prometheus(config: (addr: string) => string): Promise<string> {
    const bin = requireTool('prometheus', 'prometheus');
    const addr = `127.0.0.1:${await freePort()}`;
    const file = this.file('prometheus.yml', config(addr));
    this.spawn('prometheus', bin, [
      `--config.file=${file}`,
      `--storage.tsdb.path=${join(this.dir, 'prometheus')}`,
      `--web.listen-address=${addr}`,
      '--log.level=warn',
    ]);
    await waitFor('prometheus to be ready', 20_000, async () => {
      this.assertRunning();
      return (await httpGet(`http://${addr}/-/ready`, 1000)).status === 200 ? true : undefined;
    });
    return addr;
  }

  /** Kills every process (SIGTERM, then SIGKILL after 3 s) and server, and removes the temp dir. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.procs.map(
        ({ proc }) =>
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
            const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
            proc.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            proc.kill('SIGTERM');
          }),
      ),
    );
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

/** Prometheus HTTP API query (instant, or range when `range` is given). */
export async function promQuery(
  prom: string,
  expr: string,
  range?: { start: number; end: number; step: number },
): Promise<PromSeries[]> {
  const params = new URLSearchParams({ query: expr });
  let path = 'query';
  if (range) {
    path = 'query_range';
    params.set('start', String(range.start));
    params.set('end', String(range.end));
    params.set('step', String(range.step));
  }
  const res = await httpGet(`http://${prom}/api/v1/${path}?${params}`, 10_000);
  const body = JSON.parse(res.text) as { status: string; error?: string; data: { result: PromSeries[] } };
  if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
  return body.data.result;
}

/** Remote-write queue settings that deliver within about a second. */
export const FAST_QUEUE = {
  capacity: 2500,
  max_shards: 2,
  min_shards: 1,
  max_samples_per_send: 500,
  batch_send_deadline: '500ms',
  min_backoff: '100ms',
  max_backoff: '1s',
};
