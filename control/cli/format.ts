// Output helpers: kubectl-style tables (upper-case headers, columns aligned,
// three spaces apart), ages, sizes, label maps, and -o json|yaml.
import { stringify } from 'yaml';
import { CliError } from './errors';

export type Cell = string | number | null | undefined;

/** Aligned columns; an empty cell prints `<none>`, like kubectl. No trailing spaces. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = [headers, ...rows].map((r) => headers.map((_, i) => cell(r[i])));
  const widths = headers.map((_, i) => Math.max(...text.map((r) => r[i]!.length)));
  return text.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd()).join('\n') + '\n';
}

function cell(c: Cell): string {
  if (c === null || c === undefined || c === '') return '<none>';
  return String(c).replace(/\s*\n\s*/g, ' ');
}

/** Milliseconds since epoch, an ISO string or null → a Date, or null. */
export function toDate(t: unknown): Date | null {
  if (typeof t === 'number' && Number.isFinite(t)) return new Date(t);
  if (typeof t === 'string' && t !== '') {
    const d = new Date(/^\d+$/.test(t) ? Number(t) : t);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

/** kubectl's short age: 42s, 5m12s, 3h4m, 6d. */
export function age(t: unknown, now = Date.now()): string | null {
  const d = toDate(t);
  if (d === null) return null;
  const s = Math.max(0, Math.floor((now - d.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 === 0 ? '' : `${s % 60}s`}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 === 0 ? '' : `${m % 60}m`}`;
  return `${Math.floor(h / 24)}d`;
}

/** `2024-11-22 08:15:03Z`: UTC, to the second. */
export function timestamp(t: unknown): string | null {
  const d = toDate(t);
  return d === null ? null : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function size(bytes: unknown): string | null {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes)) return null;
  if (bytes < 1024) return `${bytes}B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')}KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '')}MiB`;
}

/** `{a: 'x', b: 'y'}` → `a=x,b=y`; empty or absent → null. */
export function labels(m: unknown): string | null {
  if (m === null || typeof m !== 'object') return null;
  const entries = Object.entries(m as Record<string, unknown>);
  return entries.length === 0 ? null : entries.map(([k, v]) => `${k}=${String(v)}`).join(',');
}

/** At most `max` items, then `+N more`. */
export function list(items: readonly string[], max = 3): string | null {
  if (items.length === 0) return null;
  return items.length <= max ? items.join(',') : `${items.slice(0, max).join(',')} + ${items.length - max} more`;
}

export type OutputFormat = 'table' | 'json' | 'yaml';

export function outputFormat(v: string | undefined): OutputFormat {
  if (v === undefined || v === 'table' || v === 'wide') return 'table';
  if (v === 'json' || v === 'yaml') return v;
  throw new CliError(`-o: expected table, json or yaml, got ${JSON.stringify(v)}`, 'CLI_USAGE');
}

/** The API answer as JSON or YAML. */
export function dump(answer: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(answer, null, 2)}\n` : stringify(answer, { lineWidth: 0 });
}
