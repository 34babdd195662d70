import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { SettingsError } from '../config/load.js';
import type { AugurConfig } from '../config/schema.js';

export type TlsConfig = NonNullable<AugurConfig['web']['tls']>;

/** Certificate, key and minimum version for `https.createServer` and `setSecureContext`. */
export function loadTls(c: TlsConfig): SecureContextOptions {
  const problems: { path: string; message: string }[] = [];
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      problems.push({ path: `web.tls.${what}`, message: `${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return Buffer.alloc(0);
    }
  };
  const opts: SecureContextOptions = { cert: read('cert_file', c.cert_file), key: read('key_file', c.key_file), minVersion: c.min_version === 'TLS13' ? 'TLSv1.3' : 'TLSv1.2' };
  if (problems.length > 0) throw new SettingsError(problems);
  // Parsed here, not when the server is made: a file that is not a PEM certificate or key, or a
  // key that does not match, is one readable line (and a reload keeps the previous pair).
  try {
    createSecureContext(opts);
  } catch (e) {
    throw new SettingsError([{ path: 'web.tls', message: `${c.cert_file} and ${c.key_file} are not a usable certificate and key: ${(e as Error).message.split('\n')[0]}` }]);
  }
  return opts;
}
