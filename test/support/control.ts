// Real `wasmesh control` and `wasmesh proxy --control` processes for tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { request } from './http';
import { BIN, tmpDir } from './proxy';

export interface Proc {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null after a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    proc,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

async function waitFor<T>(what: string, p: Proc, probe: () => Promise<T | null> | T | null, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.proc.exitCode !== null) throw new Error(`${what}: exited with ${p.proc.exitCode}:\n${p.output()}`);
    const v = await probe();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  p.proc.kill('SIGKILL');
  throw new Error(`${what}: not ready within ${timeoutMs} ms:\n${p.output()}`);
}

export interface RunningControl extends Proc {
  dataDir: string;
  port: number;
  url: string;
  http: string;
  token: string;
  /** Runs the CLI against this control plane. */
  cli(args: string[], opts?: { input?: string }): { status: number | null; stdout: string; stderr: string };
  api(method: string, p: string, body?: unknown): Promise<{ status: number; json: any }>;
}

/** Starts a control plane; `mesh` (YAML) is written to a file and given with -c. */
export async function startControl(opts: { mesh?: string; dataDir?: string; port?: number; heartbeat?: string; grace?: string } = {}): Promise<RunningControl> {
  const dataDir = opts.dataDir ?? path.join(tmpDir(), 'data');
  const args = ['control', '--data-dir', dataDir, '--listen', `127.0.0.1:${opts.port ?? 0}`, '--heartbeat', opts.heartbeat ?? '200ms', '--disconnect-grace', opts.grace ?? '4s'];
  if (opts.mesh !== undefined) {
    const file = path.join(tmpDir(), 'mesh.yaml');
    fs.writeFileSync(file, opts.mesh);
    args.push('-c', file);
  }
  const p = run(args);
  const port = await waitFor('control plane', p, () => {
    const m = /control plane listening on [\d.]+:(\d+)/.exec(p.output());
    return m ? Number(m[1]) : null;
  });
  const token = fs.readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
  const http = `http://127.0.0.1:${port}`;
  return {
    ...p,
    dataDir,
    port,
    url: `ws://127.0.0.1:${port}`,
    http,
    token,
    cli(args, o = {}) {
      const r = spawnSync(process.execPath, [BIN, ...args, '--control', http, '--token', token], { encoding: 'utf8', input: o.input, timeout: 30_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    async api(method, p2, body) {
      const res = await fetch(`${http}${p2}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      let json: unknown = text;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, json };
    },
  };
}

export interface RunningMeshProxy extends Proc {
  nodeId: string;
  adminPort: number;
  /** Listener ports by name (outbound, inbound, gateway-...). */
  ports: Record<string, number>;
  configDump(): Promise<any>;
}

/** `wasmesh proxy --control` with `args` (e.g. --service, --labels, --app); resolves once /ready is 200. */
export async function startMeshProxy(cp: RunningControl, nodeId: string, args: string[], opts: { workers?: number; bundleCache?: string } = {}): Promise<RunningMeshProxy> {
  const hasFlag = (f: string) => args.includes(f);
  const all = ['proxy', '--control', cp.url, '--token', cp.token, '--node-id', nodeId, '--no-supervisor', '--workers', String(opts.workers ?? 1),
    '--bundle-cache', opts.bundleCache ?? path.join(tmpDir(), 'bundles'), ...args];
  if (!hasFlag('--admin')) all.push('--admin', '127.0.0.1:0');
  if (!hasFlag('--gateway')) {
    if (!hasFlag('--outbound')) all.push('--outbound', '127.0.0.1:0');
    if (hasFlag('--service') && !hasFlag('--inbound')) all.push('--inbound', '127.0.0.1:0');
  } else if (!hasFlag('--listen')) all.push('--listen', '127.0.0.1:0');
  const p = run(all);
  const adminPort = await waitFor(`proxy ${nodeId}`, p, async () => {
    const m = /admin [\d.]+:(\d+)/.exec(p.output());
    if (!m) return null;
    const r = await request({ port: Number(m[1]), path: '/ready' }).catch(() => null);
    return r !== null && r.status === 200 ? Number(m[1]) : null;
  });
  const configDump = async () => JSON.parse((await request({ port: adminPort, path: '/config_dump' })).body.toString());
  const ports: Record<string, number> = {};
  for (const l of (await configDump()).config.listeners) ports[l.name] = l.address.port;
  return { ...p, nodeId, adminPort, ports, configDump };
}

/** Polls until `check` returns true (it may throw while not yet true). */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<number> {
  const t0 = Date.now();
  let last: unknown = null;
  while (Date.now() - t0 < timeoutMs) {
    try {
      if (await check()) return Date.now() - t0;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not true within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
}
