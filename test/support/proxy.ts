// Starts a real wasmesh proxy process for a test and tears it down.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { request } from './http';

export const BIN = path.join(__dirname, '../../../bin/wasmesh.js');

export interface RunningProxy {
  proc: ChildProcess;
  configPath: string;
  adminPort: number;
  /** Port of each listener, by name. */
  ports: Record<string, number>;
  port: number;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-test-'));
}

/** Writes `yaml` to a temp file and starts `wasmesh proxy` on it; resolves once /ready is 200. */
export async function startProxy(yaml: string, opts: { workers?: number; supervisor?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<RunningProxy> {
  const dir = tmpDir();
  const configPath = path.join(dir, 'proxy.yaml');
  fs.writeFileSync(configPath, yaml);
  const args = [BIN, 'proxy', '-c', configPath, '--workers', String(opts.workers ?? 1)];
  if (!opts.supervisor) args.push('--no-supervisor');
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const adminPort = await waitForAdmin(() => out, proc);
  const dump = JSON.parse((await request({ port: adminPort, path: '/config_dump' })).body.toString());
  const ports: Record<string, number> = {};
  for (const l of dump.config.listeners) ports[l.name] = l.address.port;
  return {
    proc,
    configPath,
    adminPort,
    ports,
    port: Object.values(ports)[0] ?? 0,
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

async function waitForAdmin(out: () => string, proc: ChildProcess): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`proxy exited with ${proc.exitCode}:\n${out()}`);
    const m = /admin [\d.]+:(\d+)/.exec(out());
    if (m) {
      const r = await request({ port: Number(m[1]), path: '/ready' }).catch(() => null);
      if (r && r.status === 200) return Number(m[1]);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  proc.kill('SIGKILL');
  throw new Error(`proxy not ready within 10s:\n${out()}`);
}

/**
 * A proxy config: admin and one listener "edge" on free ports, routing to one
 * cluster "web". `cluster` and `listener` are extra YAML lines for those
 * entries, `top` extra top-level lines.
 */
export function oneClusterConfig(endpoints: string[], o: { cluster?: string; listener?: string; top?: string } = {}): string {
  const indent = (y: string | undefined) => (y ? y.trim().split('\n').map((l) => `    ${l}`).join('\n') + '\n' : '');
  return `admin: { address: 127.0.0.1:0 }
${o.top ? o.top.trim() + '\n' : ''}listeners:
  - name: edge
    address: 127.0.0.1:0
    defaultCluster: web
${indent(o.listener)}clusters:
  - name: web
    endpoints: [${endpoints.join(', ')}]
${indent(o.cluster)}`;
}
