/** Prometheus-style flags: `--name=value`, `--name value`, and `--flag` for booleans. */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string>;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], booleans: ReadonlySet<string>, known: ReadonlySet<string>): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (!known.has(name) && !booleans.has(name)) throw new UsageError(`unknown flag --${name}`);
    if (eq >= 0) flags.set(name, body.slice(eq + 1));
    else if (booleans.has(name)) flags.set(name, 'true');
    else {
      const v = argv[i + 1];
      if (v === undefined) throw new UsageError(`flag --${name} needs a value`);
      flags.set(name, v);
      i++;
    }
  }
  return { positional, flags };
}
