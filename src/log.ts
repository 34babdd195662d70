import { pino, type Logger, type LevelWithSilent } from 'pino';
import { Writable } from 'node:stream';

export type LogFormat = 'logfmt' | 'json';

/** pino logger writing JSON, or logfmt like Prometheus's own `--log.format=logfmt`. */
export function createLogger(level: LevelWithSilent, format: LogFormat): Logger {
  const opts = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label: string) => ({ level: label }) } };
  if (format === 'json') return pino(opts, pino.destination({ fd: 2, sync: true }));
  return pino(opts, new Writable({
    write(chunk: Buffer, _enc, cb) {
      process.stderr.write(toLogfmt(chunk.toString('utf8')));
      cb();
    },
  }));
}

function toLogfmt(json: string): string {
  let out = '';
  for (const line of json.split('\n')) {
    if (line === '') continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      out += line + '\n';
      continue;
    }
    const parts: string[] = [];
    for (const [k, v] of Object.entries(rec)) {
      const key = k === 'time' ? 'ts' : k === 'msg' ? 'msg' : k;
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      parts.push(`${key}=${/[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s}`);
    }
    out += parts.join(' ') + '\n';
  }
  return out;
}
