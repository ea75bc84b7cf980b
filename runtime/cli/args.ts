// A small argv reader: --flag value, --flag=value, -c value, repeated flags.
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], booleans: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  const put = (k: string, v: string) => {
    const list = flags.get(k) ?? [];
    list.push(v);
    flags.set(k, list);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const name = a.replace(/^--?/, '');
    const eq = name.indexOf('=');
    if (eq >= 0) put(name.slice(0, eq), name.slice(eq + 1));
    else if (booleans.includes(name)) put(name, 'true');
    else if (i + 1 < argv.length) put(name, argv[++i]!);
    else throw new Error(`option ${a} needs a value`);
  }
  return { positional, flags };
}

export function flag(p: ParsedArgs, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = p.flags.get(n);
    if (v !== undefined) return v[v.length - 1];
  }
  return undefined;
}
