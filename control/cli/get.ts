// `wasmesh get services|routes|filters|proxies [-o table|json|yaml]` and
// `wasmesh status` (proxy status, like `istioctl proxy-status`).
import { flag } from '../../runtime/cli/args';
import { API, ControlClient } from './client';
import { CliError } from './errors';
import { age, dump, labels, list, outputFormat, size, table, type Cell } from './format';
import { connection, parseCommand } from './options';
import type { Io } from './io';

export const GET_USAGE = 'wasmesh get services|routes|filters|proxies [-o table|json|yaml] [--control URL] [--token T]';
export const STATUS_USAGE = 'wasmesh status [-o table|json|yaml] [--control URL] [--token T]';

// The answers of docs/control-plane.md, read defensively: a field the server leaves out prints <none>.

interface ServiceView {
  name: string;
  namespace?: string;
  ports?: { name?: string; port?: number; protocol?: string }[];
  labels?: Record<string, string>;
  endpoints?: { address: string; labels?: Record<string, string>; source?: string; nodeId?: string }[];
}

interface RouteView {
  virtualService: string;
  namespace?: string;
  name?: string | null;
  hosts?: string[];
  gateways?: string[];
  destinations?: { host: string; subset?: string | null; weight?: number | null }[];
  fault?: { delay?: { fixedDelayMs?: number; percentage?: number } | null; abort?: { httpStatus?: number; percentage?: number } | null } | null;
  retries?: { attempts?: number; perTryTimeoutMs?: number | null; retryOn?: string | null } | null;
  timeoutMs?: number | null;
}

interface FilterView {
  name: string;
  namespace?: string;
  version?: string;
  sha256?: string | null;
  size?: number | null;
  present?: boolean;
  phase?: string;
  selector?: Record<string, string> | null;
  mode?: string;
}

export interface ProxyStatus {
  nodeId: string;
  kind?: string;
  service?: string | null;
  namespace?: string;
  labels?: Record<string, string>;
  address?: string | null;
  connected?: boolean;
  connectedAt?: number | string | null;
  lastHeartbeat?: number | string | null;
  pushed?: number | null;
  acked?: number | null;
  nacked?: number | null;
  status?: string;
  error?: string | null;
}

interface Resource {
  path: string;
  names: string[];
  render(answer: unknown, now: number): { text: string; empty: boolean };
}

const RESOURCES: Resource[] = [
  { path: 'services', names: ['services', 'service', 'svc'], render: (a) => services((a as { services?: ServiceView[] }).services ?? []) },
  { path: 'routes', names: ['routes', 'route'], render: (a) => routes((a as { routes?: RouteView[] }).routes ?? []) },
  { path: 'filters', names: ['filters', 'filter', 'filterbundles', 'filterbundle'], render: (a) => filters((a as { filters?: FilterView[] }).filters ?? []) },
  { path: 'proxies', names: ['proxies', 'proxy'], render: (a, now) => proxies((a as { proxies?: ProxyStatus[] }).proxies ?? [], now) },
];

export async function get(argv: readonly string[], io: Io): Promise<void> {
  const a = parseCommand(argv, { values: ['o', 'output'], maxPositional: 1 });
  const what = a.positional[0];
  const format = outputFormat(flag(a, 'o', 'output'));
  if (what === undefined) throw new CliError('what to get? services, routes, filters or proxies', 'CLI_USAGE');
  const r = RESOURCES.find((x) => x.names.includes(what.toLowerCase()));
  if (r === undefined) throw new CliError(`unknown resource ${JSON.stringify(what)} (services, routes, filters or proxies)`, 'CLI_USAGE');
  const answer = await new ControlClient(connection(a)).get<unknown>(`${API}/${r.path}`);
  if (format !== 'table') return io.out(dump(answer, format));
  const { text, empty } = r.render(answer, Date.now());
  if (empty) io.err(`no ${r.path}\n`);
  else io.out(text);
}

export async function status(argv: readonly string[], io: Io): Promise<void> {
  const a = parseCommand(argv, { values: ['o', 'output'] });
  const format = outputFormat(flag(a, 'o', 'output'));
  const answer = await new ControlClient(connection(a)).get<{ configVersion?: number; proxies?: ProxyStatus[] }>(`${API}/proxies`);
  if (format !== 'table') return io.out(dump(answer, format));
  io.out(statusReport(answer, Date.now()));
}

/** The proxies table, then one summary line. */
export function statusReport(answer: { configVersion?: number; proxies?: ProxyStatus[] }, now: number): string {
  const ps = answer.proxies ?? [];
  const version = answer.configVersion ?? 0;
  if (ps.length === 0) return `no proxies (mesh config version ${version})\n`;
  const counts = new Map<string, number>();
  for (const p of ps) counts.set(p.status ?? 'UNKNOWN', (counts.get(p.status ?? 'UNKNOWN') ?? 0) + 1);
  const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return `${proxies(ps, now).text}\nmesh config version ${version}: ${ps.length} ${ps.length === 1 ? 'proxy' : 'proxies'} (${summary})\n`;
}

function services(svcs: ServiceView[]): { text: string; empty: boolean } {
  const rows = svcs.map((s): Cell[] => {
    const eps = s.endpoints ?? [];
    const registered = eps.filter((e) => e.source === 'registered').length;
    return [
      s.namespace ?? 'default',
      s.name,
      list((s.ports ?? []).map((p) => `${p.name ? `${p.name}:` : ''}${p.port ?? '?'}${p.protocol ? `/${p.protocol}` : ''}`), 4),
      registered === 0 ? String(eps.length) : `${eps.length} (${registered} registered)`,
      list(eps.map((e) => e.address)),
    ];
  });
  return { text: table(['NAMESPACE', 'NAME', 'PORTS', 'ENDPOINTS', 'ADDRESSES'], rows), empty: rows.length === 0 };
}

function routes(rs: RouteView[]): { text: string; empty: boolean } {
  const rows = rs.map((r): Cell[] => [
    r.namespace ?? 'default',
    r.virtualService,
    r.name,
    list(r.hosts ?? [], 3),
    list(r.gateways ?? [], 3) ?? 'mesh',
    (r.destinations ?? []).map((d) => `${d.host}${d.subset ? `|${d.subset}` : ''}${d.weight == null ? '' : ` ${d.weight}%`}`).join(', '),
    r.timeoutMs == null ? null : ms(r.timeoutMs),
    r.retries == null ? null : `${r.retries.attempts ?? '?'}${r.retries.perTryTimeoutMs == null ? '' : ` x ${ms(r.retries.perTryTimeoutMs)}`}`,
    fault(r.fault),
  ]);
  return { text: table(['NAMESPACE', 'VIRTUALSERVICE', 'ROUTE', 'HOSTS', 'GATEWAYS', 'DESTINATIONS', 'TIMEOUT', 'RETRIES', 'FAULT'], rows), empty: rows.length === 0 };
}

function fault(f: RouteView['fault']): string | null {
  if (f == null) return null;
  const parts: string[] = [];
  if (f.delay) parts.push(`delay ${f.delay.fixedDelayMs === undefined ? '?' : ms(f.delay.fixedDelayMs)} ${f.delay.percentage ?? 100}%`);
  if (f.abort) parts.push(`abort ${f.abort.httpStatus ?? '?'} ${f.abort.percentage ?? 100}%`);
  return parts.join(', ') || null;
}

function ms(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

function filters(fs: FilterView[]): { text: string; empty: boolean } {
  const rows = fs.map((f): Cell[] => [
    f.namespace ?? 'default',
    f.name,
    f.version,
    f.phase,
    f.mode,
    labels(f.selector) ?? '<all>',
    f.sha256 ? f.sha256.slice(0, 12) : null,
    size(f.size),
    f.present === false ? 'MISSING' : f.present === true ? 'yes' : null,
  ]);
  return { text: table(['NAMESPACE', 'NAME', 'VERSION', 'PHASE', 'MODE', 'SELECTOR', 'SHA256', 'SIZE', 'UPLOADED'], rows), empty: rows.length === 0 };
}

/** One row per proxy; a proxy with an error gets it on the next line. */
function proxies(ps: ProxyStatus[], now: number): { text: string; empty: boolean } {
  const rows = ps.map((p): Cell[] => [
    p.nodeId,
    p.kind,
    p.namespace ?? 'default',
    p.service,
    p.address,
    p.status,
    `${p.acked ?? '-'}/${p.pushed ?? '-'}`,
    age(p.lastHeartbeat, now),
  ]);
  const lines = table(['NODE', 'KIND', 'NAMESPACE', 'SERVICE', 'ADDRESS', 'STATUS', 'ACKED/PUSHED', 'HEARTBEAT'], rows).split('\n');
  const out = [lines[0]!];
  ps.forEach((p, i) => {
    out.push(lines[i + 1]!);
    if (p.error) out.push(`  error${p.nacked == null ? '' : ` (version ${p.nacked} NACKED)`}: ${p.error.replace(/\s*\n\s*/g, ' ')}`);
  });
  return { text: out.join('\n') + '\n', empty: ps.length === 0 };
}
