// Command-line options of the control-plane commands: strict flag checking
// (a typo must not be taken as the value of the flag before it) and the
// connection settings every server-backed command shares.
import * as os from 'node:os';
import { flag, parseArgs, type ParsedArgs } from '../../runtime/cli/args';
import { CliError } from './errors';

export const DEFAULT_CONTROL = 'http://127.0.0.1:15010';

export interface Spec {
  /** Flags that take a value, by every name they may be given as. */
  values?: readonly string[];
  /** Flags without a value. */
  booleans?: readonly string[];
  /** How many positional arguments are allowed. */
  maxPositional?: number;
}

const CONNECTION = ['control', 'token'];

/** parseArgs, then refuses unknown flags and extra positionals. `connection` adds --control and --token. */
export function parseCommand(argv: readonly string[], spec: Spec, connection = true): ParsedArgs {
  const booleans = spec.booleans ?? [];
  const known = new Set([...(spec.values ?? []), ...booleans, ...(connection ? CONNECTION : [])]);
  // Unknown flags first, walking argv as parseArgs does: `-f x --dryrun` must not say "--dryrun needs a value".
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') continue;
    const name = arg.replace(/^--?/, '').replace(/=.*$/s, '');
    if (!known.has(name)) throw new CliError(`unknown option ${arg.replace(/=.*$/s, '')}`, 'CLI_USAGE');
    if (!arg.includes('=') && !booleans.includes(name)) i++;
  }
  let a: ParsedArgs;
  try {
    a = parseArgs(argv, booleans);
  } catch (e) {
    throw new CliError((e as Error).message, 'CLI_USAGE');
  }
  const max = spec.maxPositional ?? 0;
  if (a.positional.length > max) {
    throw new CliError(`unexpected argument${a.positional.length - max === 1 ? '' : 's'} ${a.positional.slice(max).join(' ')}`, 'CLI_USAGE');
  }
  return a;
}

/** Every value of a repeatable flag (all of its names, in order given per name). */
export function flagList(a: ParsedArgs, ...names: string[]): string[] {
  return names.flatMap((n) => a.flags.get(n) ?? []);
}

export interface Connection {
  url: string;
  token: string;
}

/** --control (or WASMESH_CONTROL, or the default) and --token (or WASMESH_TOKEN, required). */
export function connection(a: ParsedArgs, env: NodeJS.ProcessEnv = process.env): Connection {
  const raw = flag(a, 'control') ?? nonEmpty(env.WASMESH_CONTROL) ?? DEFAULT_CONTROL;
  const token = flag(a, 'token') ?? nonEmpty(env.WASMESH_TOKEN);
  if (token === undefined || token === '') {
    throw new CliError('no token: pass --token TOKEN or set WASMESH_TOKEN (the control plane writes it to DATA_DIR/token)', 'CLI_NO_TOKEN');
  }
  return { url: controlUrl(raw), token };
}

/** `HOST:PORT` or an http(s) URL, without a trailing slash. */
export function controlUrl(raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new CliError(`--control: not a URL: ${JSON.stringify(raw)}`, 'CLI_USAGE');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(`--control: expected an http:// or https:// URL, got ${JSON.stringify(raw)}`, 'CLI_USAGE');
  return u.toString().replace(/\/+$/, '');
}

/** Who made a change, for the config history: `user@host`. */
export function author(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME ?? 'unknown'; // no passwd entry (some containers)
  }
  return `${user}@${os.hostname()}`;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
