// `wasmesh proxy`: from a config file (-c), or from a control plane
// (--control) as a sidecar or a gateway.
import * as os from 'node:os';
import { flag, parseArgs, type ParsedArgs } from './args';
import { BIN } from '../core/paths';
import { formatAddress, parseAddress } from '../config/address';
import type { Address } from '../config/types';
import { defaultBundleCache } from '../control/bundle-cache';
import type { ControlClientOptions } from '../control/client';

/** Istio's sidecar ports: outbound capture, inbound capture, admin. */
const DEFAULTS = { outbound: '127.0.0.1:15001', inbound: '0.0.0.0:15006', admin: '127.0.0.1:15000' };

export async function proxyCommand(argv: string[]): Promise<void> {
  const a = parseArgs(argv, ['no-supervisor', 'gateway']);
  const control = flag(a, 'control');
  const configPath = flag(a, 'c', 'config');
  if (!configPath && !control) fail('-c FILE or --control URL is required');
  if (configPath && control) fail('-c and --control exclude each other');
  const workersFlag = flag(a, 'workers');
  const workers = workersFlag === undefined ? undefined : Number(workersFlag);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) fail(`--workers must be a positive integer, got "${workersFlag}"`);
  if (process.env.WASMESH_SUPERVISED !== '1' && flag(a, 'no-supervisor') === undefined) {
    const { supervise } = await import('../main/supervisor');
    return supervise(BIN, ['proxy', ...argv]);
  }
  const main = await import('../main/proxy-main');
  const w = workers !== undefined ? { workers } : {};
  if (configPath) return main.runProxy({ configPath, ...w });
  const { admin, client } = await controlOptions(a, control!, main.freePort);
  return main.runControlledProxy({ nodeId: client.hello.nodeId, nodeMetadata: client.hello.labels, ...w }, admin, client);
}

async function controlOptions(a: ParsedArgs, url: string, freePort: (host: string) => Promise<number>): Promise<{ admin: Address; client: ControlClientOptions }> {
  if (!/^wss?:\/\/[^/]+\/?$/.test(url)) fail(`--control must be ws://HOST:PORT or wss://HOST:PORT, got "${url}"`);
  const token = flag(a, 'token') ?? process.env.WASMESH_TOKEN;
  if (!token) fail('a token is needed: --token TOKEN or WASMESH_TOKEN (the control plane wrote it to DATA_DIR/token)');
  const gateway = flag(a, 'gateway') !== undefined;
  const labels = readLabels(a.flags.get('labels') ?? []);
  // Port 0 means "pick one": picked here, because the control plane builds listeners from these addresses.
  const addr = async (name: string, text: string): Promise<Address> => {
    const r = parseAddress(text, { allowPortZero: name !== 'app' });
    if (!r.ok) fail(`--${name}: ${r.error}`);
    const parsed = r.value;
    return parsed.port === 0 ? { host: parsed.host, port: await freePort(parsed.host) } : parsed;
  };
  const admin = await addr('admin', flag(a, 'admin') ?? DEFAULTS.admin);
  const nodeId = flag(a, 'node-id') ?? os.hostname();
  const namespace = flag(a, 'namespace') ?? 'default';
  const bundleDir = flag(a, 'bundle-cache') ?? defaultBundleCache();
  if (gateway) {
    for (const f of ['service', 'app', 'inbound', 'outbound']) if (flag(a, f) !== undefined) fail(`--${f} is for sidecars, not with --gateway`);
    if (Object.keys(labels).length === 0) labels.istio = 'ingressgateway'; // what Istio's own Gateway examples select
    const listen = flag(a, 'listen');
    const gw = flag(a, 'gateway-name');
    return {
      admin,
      client: {
        url, token, bundleDir,
        hello: {
          nodeId, kind: 'gateway', namespace, labels,
          ...(gw !== undefined ? { gateway: gw } : {}),
          listen: { admin: formatAddress(admin), ...(listen !== undefined ? { gateway: formatAddress(await addr('listen', listen)) } : {}) },
        },
      },
    };
  }
  if (flag(a, 'listen') !== undefined) fail('--listen is for gateways; a sidecar has --outbound and --inbound');
  const service = flag(a, 'service');
  const app = flag(a, 'app');
  if ((service === undefined) !== (app === undefined)) fail('--service and --app go together: the app is the instance of the service');
  const outbound = await addr('outbound', flag(a, 'outbound') ?? DEFAULTS.outbound);
  const listen: ControlClientOptions['hello']['listen'] = { admin: formatAddress(admin), outbound: formatAddress(outbound) };
  let address: string | undefined;
  if (service !== undefined && app !== undefined) {
    const inbound = await addr('inbound', flag(a, 'inbound') ?? DEFAULTS.inbound);
    listen.inbound = formatAddress(inbound);
    listen.app = formatAddress(await addr('app', app));
    address = flag(a, 'advertise') ?? formatAddress({ host: advertiseHost(inbound.host), port: inbound.port });
  }
  return {
    admin,
    client: { url, token, bundleDir, hello: { nodeId, kind: 'sidecar', namespace, labels, ...(service !== undefined ? { service, address: address! } : {}), listen } },
  };
}

/** The address other proxies reach an inbound listener on: its own host, or for a wildcard the first non-internal IPv4. */
function advertiseHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '[::]') return host;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}

function readLabels(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values.flatMap((x) => x.split(','))) {
    if (v.trim() === '') continue;
    const eq = v.indexOf('=');
    if (eq <= 0) fail(`--labels takes KEY=VALUE[,KEY=VALUE], got "${v}"`);
    out[v.slice(0, eq).trim()] = v.slice(eq + 1).trim();
  }
  return out;
}

function fail(msg: string): never {
  process.stderr.write(`wasmesh proxy: ${msg}\n`);
  process.exit(2);
}
