import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Augur, createPipeline } from '../src/augur.js';
import { defaultConfig } from '../src/config/load.js';
import type { AugurConfig } from '../src/config/schema.js';
import { pino } from 'pino';
import { createLogger } from '../src/log.js';
import { Receiver } from '../src/ingest/receiver.js';
import { Snapshotter, SNAPSHOT_FILE } from '../src/persist/snapshotter.js';
import { ROOT } from './helpers/cli.js';
import { V1_CONTENT_TYPE, compress, encodeV1 } from './helpers/remote-write.js';

// A shutdown signal that comes while Augur restores its snapshot stops it cleanly (exit 0) and
// leaves the snapshot as it was: neither moved aside as broken nor overwritten by half a restore.

const log = createLogger('silent', 'json');
const T0 = Date.UTC(2024, 0, 1);
let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'augur-shutdown-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function config(path: string): AugurConfig {
  const c = defaultConfig();
  c.storage.path = path;
  return c;
}

/** Writes a snapshot of `n` series (three rounds of samples) into `path`. */
async function snapshotOf(path: string, n: number): Promise<Buffer> {
  mkdirSync(path, { recursive: true });
  const c = config(path);
  const p = createPipeline(c);
  const rx = new Receiver({ maxDecodedBytes: 1 << 28, maxSeriesPerRequest: 0, maxLabels: 64, maxNameLength: 1024, maxValueLength: 4096 });
  for (let r = 0; r < 3; r++) {
    for (let from = 0; from < n; from += 5000) {
      const series = [];
      for (let i = from; i < Math.min(n, from + 5000); i++) {
        series.push({ labels: { __name__: 'sd_level', job: 'j', i: String(i) }, samples: [{ value: 100 + (i % 17) + r, timestamp: T0 + r * 15_000 }] });
      }
      rx.decode(compress(encodeV1(series)), V1_CONTENT_TYPE, 'snappy');
      p.ingest(rx.batch, T0 + r * 15_000);
    }
  }
  assert.ok(await new Snapshotter(path, p, c, log, { restoreFailed: () => assert.fail('restore'), restored: () => undefined, written: () => undefined, writeFailed: () => assert.fail('write failed') }).snapshot('test'));
  return readFileSync(join(path, SNAPSHOT_FILE));
}

describe('shutdown while the snapshot is restored', () => {
  it('listen rejects with an AbortError at any point of the restore, and the snapshot is kept as it was', async () => {
    const path = join(dir, 'inproc');
    const bytes = await snapshotOf(path, 2000);
    // The abort lands at different points: before the restore, between its reads, while the
    // models start, or after (then it is refused and the ordinary shutdown applies).
    const lines: string[] = [];
    const logged = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    let inside = 0;
    for (const ms of [-1, 0, 1, 2, 5, 10, 20, 50, 100, 200]) {
      const augur = new Augur(config(path), logged);
      const listening = augur.listen('127.0.0.1', 0);
      if (ms >= 0) await new Promise((r) => setTimeout(r, ms));
      lines.length = 0;
      const aborted = augur.abortStart();
      if (!aborted) {
        // The restore was already done: the ordinary shutdown applies.
        await listening;
        await augur.close();
        continue;
      }
      await assert.rejects(listening, { name: 'AbortError' }, `aborted after ${ms} ms`);
      if (lines.some((l) => l.includes('snapshot restore interrupted by shutdown'))) inside++;
      assert.equal(augur.isReady, false);
      assert.deepEqual(readdirSync(path), [SNAPSHOT_FILE], `after ${ms} ms: nothing moved aside or written`);
      assert.ok(readFileSync(join(path, SNAPSHOT_FILE)).equals(bytes), `after ${ms} ms: the snapshot is unchanged`);
      assert.equal((await augur.metrics.snapshotRestoreFailures.get()).values.reduce((s, v) => s + v.value, 0), 0);
    }
    assert.ok(inside > 0, 'at least one abort landed inside the restore');
    // The next start restores all of it.
    const augur = new Augur(config(path), log);
    await augur.listen('127.0.0.1', 0);
    try {
      assert.equal(augur.pipeline.registry.active, 2000);
    } finally {
      await augur.close();
    }
  });

  it('augur serve exits 0 on SIGTERM during a long restore', { timeout: 120_000 }, async () => {
    const path = join(dir, 'cli');
    const bytes = await snapshotOf(path, 60_000);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', `--web.listen-address=127.0.0.1:${port}`, `--storage.path=${path}`, '--log.format=json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    // As soon as the port answers (it opens before the restore), and before Augur is ready.
    let ready = 200;
    for (;;) {
      try {
        const healthy = await fetch(`http://127.0.0.1:${port}/-/healthy`);
        if (healthy.status === 200) {
          ready = (await fetch(`http://127.0.0.1:${port}/-/ready`)).status;
          break;
        }
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    proc.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    assert.match(out, /shutdown complete/);
    if (ready === 503 && out.includes('shutting down while starting')) {
      assert.match(out, /snapshot restore interrupted by shutdown/);
      assert.ok(readFileSync(join(path, SNAPSHOT_FILE)).equals(bytes), 'the snapshot is unchanged');
    } else {
      // The machine restored 60,000 series before the signal came: the ordinary shutdown ran.
      assert.ok(ready === 200 || !out.includes('shutting down while starting'), out);
    }
  });
});
