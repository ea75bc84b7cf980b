// `npm start` (`wasmesh demo`): Istio's Bookinfo on wasmesh, all on loopback.
//
//   wasmesh control -c examples/bookinfo/mesh/    the control plane
//   6 services (this process)                     productpage, details, reviews v1/v2/v3, ratings
//   6 sidecars (`wasmesh proxy --control ...`)    one per service instance
//   1 ingress gateway (`wasmesh proxy --gateway`)
//
// Ports: examples/bookinfo/ports.ts (`--port-offset N` moves all of them).
// Every child process runs in its own process group, so a Ctrl-C in the
// terminal reaches only this process, which then stops them in order:
// gateway and sidecars first (each says bye to the control plane and drains),
// then the control plane, then the services; a child that has not exited
// after 5 s is killed. The temporary directory (data dir, bundle cache,
// logs) is removed.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, PACKAGE_ROOT } from '../../runtime/core/paths';
import { HOST, allPorts, demoPorts, type DemoPorts } from './ports';
import { startServices, type RunningServices } from './services';

const MESH_DIR = path.join(PACKAGE_ROOT, 'examples', 'bookinfo', 'mesh');
const GATEWAY_NODE = 'istio-ingressgateway';
const STOP_GRACE_MS = 5_000;
const START_TIMEOUT_MS = 60_000;

const USAGE = `usage: wasmesh demo [--port-offset N]

Runs the Bookinfo demo on 127.0.0.1: a control plane (15010), an ingress
gateway (8080, admin 15000) and six services with their sidecars (apps 9080-9085,
sidecars 15100-15156). --port-offset N adds N to every port (0-50000).
See README.md, "Walkthrough".
`;

interface Child {
  name: string;
  proc: ChildProcess;
  log: string;
  exited: Promise<void>;
}

function fail(msg: string, code = 2): never {
  process.stderr.write(`wasmesh demo: ${msg}\n`);
  process.exit(code);
}

function parseOffset(argv: string[]): number {
  let offset = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    const m = /^--port-offset(?:=(.*))?$/.exec(a);
    if (!m) fail(`unknown argument "${a}"\n\n${USAGE}`);
    const v = m[1] ?? argv[++i];
    if (v === undefined || !/^\d+$/.test(v) || Number(v) > 50_000) fail(`--port-offset takes a number from 0 to 50000, got "${v ?? ''}"`);
    offset = Number(v);
  }
  return offset;
}

/** The ports among `ports` that something already listens on (127.0.0.1). */
async function busyPorts(ports: number[]): Promise<number[]> {
  const busy: number[] = [];
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, HOST, () => s.close(() => resolve(true)));
    });
    if (!free) busy.push(port);
  }
  return busy;
}

function get(port: number, p: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: HOST, port, path: p, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
  });
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return '    (no log)';
  }
}

export async function runDemo(argv: string[] = []): Promise<void> {
  const ports = demoPorts(parseOffset(argv));
  const busy = await busyPorts(allPorts(ports));
  if (busy.length > 0) {
    fail(`port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} already in use on ${HOST} (is another demo running? \`wasmesh demo --port-offset N\` moves every port)`, 1);
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-bookinfo-'));
  const dataDir = path.join(dir, 'data');
  const bundles = path.join(dir, 'bundles');
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs);

  const children: Child[] = [];
  let services: RunningServices | null = null;
  let stopping: Promise<void> | null = null;

  const killGroup = (c: Child, sig: NodeJS.Signals) => {
    try {
      process.kill(-c.proc.pid!, sig); // the child's whole process group
    } catch {
      /* already gone */
    }
  };
  const alive = (c: Child) => c.proc.exitCode === null && c.proc.signalCode === null;

  const stopChildren = async (list: Child[]) => {
    for (const c of list) if (alive(c)) killGroup(c, 'SIGTERM');
    await Promise.all(
      list.map(async (c) => {
        const t = setTimeout(() => {
          process.stderr.write(`  ${c.name} did not stop within ${STOP_GRACE_MS / 1000} s: killed\n`);
          killGroup(c, 'SIGKILL');
        }, STOP_GRACE_MS);
        await c.exited;
        clearTimeout(t);
        killGroup(c, 'SIGKILL'); // anything left in its group
      }),
    );
  };

  const shutdown = (code: number): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      process.stdout.write('\nstopping the demo...\n');
      await stopChildren(children.filter((c) => c.name !== 'control-plane'));
      await stopChildren(children.filter((c) => c.name === 'control-plane'));
      await services?.close();
      fs.rmSync(dir, { recursive: true, force: true });
      process.stdout.write(code === 0 ? 'stopped.\n' : '');
      process.exit(code);
    })();
    return stopping;
  };

  const onSignal = () => {
    if (stopping) {
      // Second Ctrl-C: no more waiting.
      for (const c of children) killGroup(c, 'SIGKILL');
      process.exit(130);
    }
    void shutdown(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // Last resort (an exception in this process): no child outlives it.
  process.on('exit', () => {
    for (const c of children) if (alive(c)) killGroup(c, 'SIGKILL');
  });

  const start = (name: string, args: string[], env: NodeJS.ProcessEnv = {}): Child => {
    const log = path.join(logs, `${name}.log`);
    const fd = fs.openSync(log, 'a');
    const proc = spawn(process.execPath, [BIN, ...args], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    fs.closeSync(fd);
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const c: Child = { name, proc, log, exited };
    children.push(c);
    proc.once('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`\nwasmesh demo: ${name} exited unexpectedly (${signal ?? `code ${code}`}); its log:\n${tail(log)}\n`);
      void shutdown(1);
    });
    return c;
  };

  const waitFor = async (what: string, probe: () => Promise<boolean>) => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await probe())) {
      if (stopping) await stopping;
      if (Date.now() > deadline) {
        process.stderr.write(`wasmesh demo: ${what}: not ready within ${START_TIMEOUT_MS / 1000} s\n`);
        for (const c of children) process.stderr.write(`  ${c.name} (${c.log}):\n${tail(c.log, 5)}\n`);
        await shutdown(1);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  try {
    process.stdout.write(`starting the Bookinfo demo (logs in ${logs})...\n`);
    services = await startServices(ports.instances);

    start('control-plane', ['control', '-c', MESH_DIR, '--data-dir', dataDir, '--listen', `${HOST}:${ports.control}`]);
    await waitFor('control plane', async () => (await get(ports.control, '/healthz')).status === 200 && fs.existsSync(path.join(dataDir, 'token')));
    const token = fs.readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
    const control = `ws://${HOST}:${ports.control}`;
    const common = ['--control', control, '--workers', '1', '--no-supervisor', '--bundle-cache', bundles];
    const env = { WASMESH_TOKEN: token };

    for (const i of ports.instances) {
      start(i.name, [
        'proxy', ...common, '--node-id', i.name, '--service', i.service, '--labels', `app=${i.service},version=${i.version}`,
        '--app', `${HOST}:${i.app}`, '--outbound', `${HOST}:${i.outbound}`, '--inbound', `${HOST}:${i.inbound}`, '--admin', `${HOST}:${i.admin}`,
      ], env);
    }
    start(GATEWAY_NODE, ['proxy', ...common, '--node-id', GATEWAY_NODE, '--gateway', '--listen', `${HOST}:${ports.gateway}`, '--admin', `${HOST}:${ports.gatewayAdmin}`], env);

    const admins = [...ports.instances.map((i) => i.admin), ports.gatewayAdmin];
    await waitFor('proxies', async () => (await Promise.all(admins.map((p) => get(p, '/ready')))).every((r) => r.status === 200));
    // Every sidecar registered and every proxy on the config that has them all: the page shows details and reviews.
    await waitFor('mesh', async () => {
      const r = await get(ports.control, '/api/v1/proxies', { authorization: `Bearer ${token}` });
      if (r.status !== 200) return false;
      const { proxies } = JSON.parse(r.body) as { proxies: { status: string }[] };
      if (proxies.length !== admins.length || proxies.some((p) => p.status !== 'SYNCED')) return false;
      const page = await get(ports.gateway, '/productpage');
      return page.status === 200 && /^Book Details: details-v1$/m.test(page.body) && /^Book Reviews: reviews-v\d$/m.test(page.body);
    });
    if (stopping) return;
    process.stdout.write(banner(ports, token, dir));
  } catch (e) {
    process.stderr.write(`wasmesh demo: ${(e as Error).message}\n`);
    await shutdown(1);
  }
}

function banner(p: DemoPorts, token: string, dir: string): string {
  const gw = `localhost:${p.gateway}`;
  const rows = p.instances.map((i) => `    ${i.name.padEnd(15)} ${String(i.app).padEnd(6)} ${i.admin}/${i.outbound}/${i.inbound}`).join('\n');
  const cwd = path.relative(process.cwd(), PACKAGE_ROOT);
  const controlEnv = p.offset !== 0 ? `  export WASMESH_CONTROL=http://${HOST}:${p.control}\n` : '';
  return `
wasmesh Bookinfo demo is up: a control plane, an ingress gateway and six
service instances, each behind its own sidecar, all on ${HOST}.

  product page    http://${gw}/productpage
  gateway admin   http://localhost:${p.gatewayAdmin}/help
  control plane   http://localhost:${p.control}   (data dir ${path.join(dir, 'data')})
  logs            ${path.join(dir, 'logs')}/*.log

    instance        app    sidecar admin/outbound/inbound
${rows}

In another terminal${cwd ? ` (in ${PACKAGE_ROOT})` : ''}:

  export WASMESH_TOKEN=${token}
${controlEnv}  npx wasmesh status
  for i in $(seq 12); do curl -s ${gw}/productpage | grep '^Book Reviews'; done | sort | uniq -c

then follow the Walkthrough in README.md (route, delay, eject, limit, deny, a
custom filter, metrics).

Ctrl-C stops everything.
`;
}
