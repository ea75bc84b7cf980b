// `wasmesh history [VERSION] [--limit N]` and `wasmesh rollback [VERSION]`.
import { flag } from '../../runtime/cli/args';
import { API, ControlClient } from './client';
import { CliError } from './errors';
import { dump, outputFormat, size, table, timestamp, type Cell } from './format';
import { author, connection, parseCommand } from './options';
import type { Io } from './io';

export const HISTORY_USAGE = 'wasmesh history [VERSION] [--limit N] [-o table|json|yaml] [--control URL] [--token T]';
export const ROLLBACK_USAGE = 'wasmesh rollback [VERSION] [-m MESSAGE] [--control URL] [--token T]';

interface VersionView {
  version: number;
  sha256?: string;
  createdAt?: string | number;
  author?: string | null;
  message?: string | null;
  rollbackOf?: number | null;
  size?: number;
  content?: string;
}

export async function history(argv: readonly string[], io: Io): Promise<void> {
  const a = parseCommand(argv, { values: ['limit', 'o', 'output'], maxPositional: 1 });
  const format = outputFormat(flag(a, 'o', 'output'));
  const client = new ControlClient(connection(a));
  if (a.positional[0] !== undefined) {
    // One version: its content (the mesh as multi-document YAML), or the whole answer with -o.
    const v = await client.get<VersionView>(`${API}/history/${positiveInt(a.positional[0], 'VERSION')}`);
    return io.out(format === 'table' ? v.content ?? '' : dump(v, format));
  }
  const limitFlag = flag(a, 'limit');
  const query = limitFlag === undefined ? '' : `?limit=${positiveInt(limitFlag, '--limit')}`;
  const answer = await client.get<{ current?: number; versions?: VersionView[] }>(`${API}/history${query}`);
  if (format !== 'table') return io.out(dump(answer, format));
  io.out(historyTable(answer));
}

export function historyTable(answer: { current?: number; versions?: VersionView[] }): string {
  const versions = answer.versions ?? [];
  if (versions.length === 0) return 'no versions yet (apply a config with `wasmesh apply -f FILE`)\n';
  const rows = versions.map((v): Cell[] => [
    v.version === answer.current ? `${v.version} (current)` : String(v.version),
    timestamp(v.createdAt),
    v.author,
    size(v.size),
    [v.rollbackOf == null ? '' : `rollback of ${v.rollbackOf}`, v.message ?? ''].filter((s) => s !== '').join(': '),
  ]);
  return table(['VERSION', 'CREATED', 'AUTHOR', 'SIZE', 'MESSAGE'], rows);
}

export async function rollback(argv: readonly string[], io: Io): Promise<void> {
  const a = parseCommand(argv, { values: ['m', 'message'], maxPositional: 1 });
  const version = a.positional[0] === undefined ? undefined : positiveInt(a.positional[0], 'VERSION');
  const message = flag(a, 'm', 'message');
  const answer = await new ControlClient(connection(a)).post<{ version: number; rollbackOf: number }>(`${API}/rollback`, {
    ...(version !== undefined ? { version } : {}),
    author: author(),
    ...(message !== undefined ? { message } : {}),
  });
  io.out(`rolled back to the content of version ${answer.rollbackOf}: now version ${answer.version}\n`);
}

function positiveInt(s: string, what: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1) throw new CliError(`${what} must be a positive integer, got ${JSON.stringify(s)}`, 'CLI_USAGE');
  return n;
}
