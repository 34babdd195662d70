import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface Child {
  proc: ChildProcess;
  url: string;
}

/** Starts a node child and waits for the first `http://host:port` it prints. */
export function startChild(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Child> {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer): void => {
      seen += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (m) {
        proc.stdout!.off('data', onData);
        proc.stderr!.off('data', onData);
        proc.stdout!.resume();
        proc.stderr!.resume();
        clearTimeout(timer);
        resolve({ proc, url: m[1]! });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`child exited with ${code} before listening: ${seen}`)));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`child did not listen within 30 s: ${seen}`));
    }, 30_000).unref();
  });
}

export async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null) return;
  const done = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  await done;
}

/** User+system CPU seconds and resident bytes of a process, from /proc. */
export function procStats(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { cpuSeconds: ticks / 100, rssBytes: rssPages * 4096 };
}

/** CPU seconds per thread of a process, by thread name (V8 and libuv helpers are grouped). */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = tid === String(pid) ? 'main' : `${name}#${tid}`;
      out.set(key, (out.get(key) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * Seconds the process's main thread has spent running and runnable-but-waiting for a core, from
 * /proc/<pid>/schedstat (zeros where the kernel does not keep schedstats).
 */
export function mainThreadSched(pid: number): { runSeconds: number; waitSeconds: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return { runSeconds: (run ?? 0) / 1e9, waitSeconds: (wait ?? 0) / 1e9 };
  } catch {
    return { runSeconds: 0, waitSeconds: 0 };
  }
}
