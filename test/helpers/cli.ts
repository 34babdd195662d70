import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  /** The exit code; null when the process ended otherwise (a signal, a timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `augur ARGS` (src/cli.ts through tsx) from the repository root. */
export function augur(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      // On a non-zero exit, execFile's error carries the exit code as a number.
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}
