// A real `wasmesh control` process for the benchmark, its REST API, and what
// /proc says about it (RSS, CPU time).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnNode, stopChild, type Child } from './procs';

export const BIN = path.join(__dirname, '../../../bin/wasmesh.js');

export interface ControlPlaneProc {
  child: Child;
  dataDir: string;
  port: number;
  /** ws://127.0.0.1:PORT */
  url: string;
  http: string;
  token: string;
  api<T = any>(method: string, p: string, body?: unknown): Promise<{ status: number; json: T }>;
  stop(): Promise<void>;
}

/** Starts `wasmesh control` on 127.0.0.1:0 with `meshFile`; resolves once it listens. */
export async function startControlPlane(dir: string, meshFile: string, heartbeat: string, nodeArgs: string[] = [], timeoutMs = 30_000): Promise<ControlPlaneProc> {
  const dataDir = path.join(dir, 'data');
  const child = spawnNode('control', [...nodeArgs, BIN, 'control', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '-c', meshFile, '--heartbeat', heartbeat]);
  const deadline = Date.now() + timeoutMs;
  let port = 0;
  while (port === 0) {
    if (!child.alive()) throw new Error(`wasmesh control exited:\n${child.tail()}`);
    if (Date.now() > deadline) {
      await stopChild(child, 1_000);
      throw new Error(`wasmesh control: not listening within ${timeoutMs} ms:\n${child.tail()}`);
    }
    const m = /control plane listening on [\d.]+:(\d+)/.exec(child.tail());
    if (m) port = Number(m[1]);
    else await sleep(25);
  }
  const token = fs.readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
  const http = `http://127.0.0.1:${port}`;
  return {
    child,
    dataDir,
    port,
    url: `ws://127.0.0.1:${port}`,
    http,
    token,
    async api(method, p, body) {
      const res = await fetch(`${http}${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      let json: any = text;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, json };
    },
    stop: () => stopChild(child, 5_000),
  };
}

/** The fields of GET /api/v1/proxies the benchmark reads. */
export interface ProxyRow {
  nodeId: string;
  connected: boolean;
  pushed: number | null;
  acked: number | null;
  nacked: number | null;
  configVersion: number | null;
  status: string;
  error: string | null;
}

export async function proxies(cp: ControlPlaneProc): Promise<{ configVersion: number; proxies: ProxyRow[] }> {
  const r = await cp.api<{ configVersion: number; proxies: ProxyRow[] }>('GET', '/api/v1/proxies');
  if (r.status !== 200) throw new Error(`GET /api/v1/proxies: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
  return r.json;
}

/** Every one of `nodeIds` connected, ACKed what it was pushed, and built from mesh version >= `configVersion`. */
export function allAcked(rows: ProxyRow[], nodeIds: ReadonlySet<string>, configVersion: number): boolean {
  let n = 0;
  for (const p of rows) {
    if (!nodeIds.has(p.nodeId)) continue;
    if (!p.connected || p.pushed === null || p.acked !== p.pushed || (p.configVersion ?? -1) < configVersion) return false;
    n++;
  }
  return n === nodeIds.size;
}

/** VmRSS and VmHWM (peak) of a process, KiB; null when it is gone. */
export function memKiB(pid: number): { rss: number; hwm: number } | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(s);
    const hwm = /VmHWM:\s+(\d+)/.exec(s);
    return rss && hwm ? { rss: Number(rss[1]), hwm: Number(hwm[1]) } : null;
  } catch {
    return null;
  }
}

const TICK_MS = 10; // USER_HZ = 100 on Linux

/** utime + stime of a process, ms (10 ms resolution). */
export function cpuMs(pid: number): number | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS; // fields 14 and 15 of stat(5)
  } catch {
    return null;
  }
}

/** Samples a process's VmRSS every `everyMs` until stopped; max in KiB. */
export function rssSampler(pid: number, everyMs = 50): { stop(): number } {
  let max = memKiB(pid)?.rss ?? 0;
  const t = setInterval(() => {
    const m = memKiB(pid);
    if (m !== null && m.rss > max) max = m.rss;
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      const m = memKiB(pid);
      if (m !== null && m.rss > max) max = m.rss;
      return max;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** POST /api/v1/apply; the new mesh version. Throws unless 200 and a new version. */
export async function applyMesh(cp: ControlPlaneProc, body: unknown, previous: number): Promise<number> {
  const r = await cp.api<{ version: number; configured?: string[] }>('POST', '/api/v1/apply', body);
  if (r.status !== 200) throw new Error(`POST /api/v1/apply: ${r.status} ${JSON.stringify(r.json).slice(0, 600)}`);
  if (!(r.json.version > previous)) throw new Error(`POST /api/v1/apply: version ${r.json.version} after ${previous} (nothing changed?)`);
  return r.json.version;
}

/** Polls GET /api/v1/proxies until every one of `nodeIds` is SYNCED on mesh version >= `configVersion`. */
export async function waitSynced(cp: ControlPlaneProc, nodeIds: ReadonlySet<string>, configVersion: number, timeoutMs: number, everyMs = 100, check?: () => void): Promise<ProxyRow[]> {
  const deadline = Date.now() + timeoutMs;
  let rows: ProxyRow[] = [];
  for (;;) {
    check?.();
    rows = (await proxies(cp)).proxies;
    if (allAcked(rows, nodeIds, configVersion)) return rows;
    if (Date.now() > deadline) {
      const bad = rows.filter((p) => nodeIds.has(p.nodeId) && p.status !== 'SYNCED');
      const missing = nodeIds.size - rows.filter((p) => nodeIds.has(p.nodeId)).length;
      throw new Error(`not every proxy SYNCED on mesh v${configVersion} within ${timeoutMs} ms: ${missing} missing, ${bad.length} not SYNCED` +
        (bad.length > 0 ? ` (e.g. ${bad.slice(0, 3).map((p) => `${p.nodeId} ${p.status} pushed ${p.pushed} acked ${p.acked}${p.error ? ` ${p.error.slice(0, 200)}` : ''}`).join('; ')})` : ''));
    }
    await sleep(everyMs);
  }
}
