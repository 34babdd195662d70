import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SettingsError } from '../config/load.js';
import type { AugurConfig } from '../config/schema.js';

export type AuthConfig = NonNullable<AugurConfig['web']['auth']>;

/** Paths reachable without credentials (liveness probes). */
const PUBLIC = new Set(['/-/healthy']);
const REALM = 'augur';
const CACHE_MAX = 1024;

interface Bcrypt {
  compare(password: string, hash: string): Promise<boolean>;
}

let bcryptModule: Promise<Bcrypt> | null = null;

/** bcryptjs (pure JavaScript), loaded only when basic auth is configured. */
function loadBcrypt(): Promise<Bcrypt> {
  if (bcryptModule === null) {
    const name = 'bcryptjs';
    bcryptModule = (import(name) as Promise<{ default?: Bcrypt } & Bcrypt>).then(
      (m) => m.default ?? m,
      (e: unknown) => {
        bcryptModule = null;
        throw new Error(`web.auth.basic_auth_users needs the bcryptjs package (npm install bcryptjs): ${(e as Error).message}`);
      },
    );
  }
  return bcryptModule;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Bearer tokens and basic auth with bcrypt hashes, as Prometheus's web config does. Secrets are
 * compared in constant time (as SHA-256 digests, so lengths do not leak either) and never logged.
 * A successful bcrypt check is cached by a digest of user and password, as exporter-toolkit does:
 * bcrypt costs tens of milliseconds, and Prometheus sends every request with the same credentials.
 */
export class Authenticator {
  private tokens: Buffer[] = [];
  private users = new Map<string, string>();
  private readonly verified = new Map<string, true>();

  constructor(private readonly config: AuthConfig, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.reload();
  }

  get enabled(): boolean {
    return this.tokens.length > 0 || this.users.size > 0;
  }

  /** Re-reads the token file and environment (SIGHUP). Throws with a message free of secrets. */
  reload(): void {
    const tokens: string[] = [];
    const problems: { path: string; message: string }[] = [];
    const c = this.config;
    if (c.bearer_tokens_file !== undefined) {
      try {
        for (const line of readFileSync(c.bearer_tokens_file, 'utf8').split(/\r?\n/)) {
          const t = line.trim();
          if (t !== '' && !t.startsWith('#')) tokens.push(t);
        }
        if (tokens.length === 0) problems.push({ path: 'web.auth.bearer_tokens_file', message: `${c.bearer_tokens_file}: no token in the file` });
      } catch (e) {
        problems.push({ path: 'web.auth.bearer_tokens_file', message: `${c.bearer_tokens_file}: ${(e as NodeJS.ErrnoException).code ?? 'cannot read'}` });
      }
    }
    if (c.bearer_tokens_env !== undefined) {
      const v = this.env[c.bearer_tokens_env];
      if (v === undefined || v.trim() === '') problems.push({ path: 'web.auth.bearer_tokens_env', message: `environment variable ${c.bearer_tokens_env} is not set` });
      else for (const t of v.split(/[,\n]/)) if (t.trim() !== '') tokens.push(t.trim());
    }
    const users = Object.entries(c.basic_auth_users ?? {});
    if (problems.length === 0 && tokens.length === 0 && users.length === 0) problems.push({ path: 'web.auth', message: 'configures neither bearer tokens nor basic_auth_users' });
    if (problems.length > 0) throw new SettingsError(problems);
    this.tokens = tokens.map(digest);
    this.users = new Map(users);
    this.verified.clear();
  }

  /** Loads what checking needs (bcryptjs); call before serving. */
  async prepare(): Promise<void> {
    if (this.users.size > 0) await loadBcrypt();
  }

  /** '' when the request is authenticated, else the reason ('missing' or 'invalid'). */
  async check(authorization: string | undefined): Promise<'' | 'missing' | 'invalid'> {
    if (authorization === undefined || authorization === '') return 'missing';
    const sp = authorization.indexOf(' ');
    const scheme = (sp < 0 ? authorization : authorization.slice(0, sp)).toLowerCase();
    const cred = sp < 0 ? '' : authorization.slice(sp + 1).trim();
    if (scheme === 'bearer' && this.tokens.length > 0) {
      const d = digest(cred);
      let ok = false;
      // Every token is compared, match or not.
      for (const t of this.tokens) ok = timingSafeEqual(d, t) || ok;
      return ok ? '' : 'invalid';
    }
    if (scheme === 'basic' && this.users.size > 0) {
      const decoded = Buffer.from(cred, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return 'invalid';
      const user = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      const key = createHash('sha256').update(user).update('\u0000').update(password).digest('base64');
      if (this.verified.has(key)) return '';
      const hash = this.users.get(user);
      // An unknown user still costs a bcrypt comparison, so that timing does not reveal users.
      const bcrypt = await loadBcrypt();
      const ok = await bcrypt.compare(password, hash ?? '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DSmUqcjwuDiROcrnpQAgu');
      if (!ok || hash === undefined) return 'invalid';
      if (this.verified.size >= CACHE_MAX) this.verified.clear();
      this.verified.set(key, true);
      return '';
    }
    return 'invalid';
  }

  challenge(): string[] {
    const out: string[] = [];
    if (this.tokens.length > 0) out.push(`Bearer realm="${REALM}"`);
    if (this.users.size > 0) out.push(`Basic realm="${REALM}", charset="UTF-8"`);
    return out;
  }
}

/** Adds the check to every route but `/-/healthy`, before the body is read. */
export function registerAuth(app: FastifyInstance, auth: Authenticator, onReject: (req: FastifyRequest, reason: string) => void): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0]!;
    if (PUBLIC.has(path)) return;
    const reason = await auth.check(req.headers.authorization);
    if (reason === '') return;
    onReject(req, reason);
    return reply.code(401).header('www-authenticate', auth.challenge()).type('text/plain; charset=utf-8').send('unauthorized\n');
  });
}
