// The proxy's main thread: loads config, allocates shared stats and endpoint
// tables, drives the workers through config generations, runs the admin
// server, and turns signals into reload / drain / shutdown.
import * as net from 'node:net';
import * as os from 'node:os';
import type { ProxyConfig } from '../config/types';
import { loadProxyConfigFile } from '../config/load';
import { ConfigError } from '../core/errors';
import { log, setLogLevel, setLogPrefix } from '../log/logger';
import { allocateStatsBuffer, StatsLayout } from '../stats/layout';
import { clusterSlots, listenerSlots, type ClusterSlots, type ListenerSlots } from '../stats/declared';
import type { GenerationSpec } from '../worker/messages';
import { AdminServer } from './admin';
import { ClusterHealth } from './cluster-health';
import { WorkerPool } from './worker-pool';
import { compileFilters, type LoadedFilter } from './filter-specs';
import { createWasmSharedState, type WasmSharedState } from '../wasm/shared';
import { ControlClient, type ControlClientOptions } from '../control/client';
import { formatAddress } from '../config/address';
import type { Address } from '../config/types';

export interface ProxyOptions {
  /** The config file; absent when the config comes from a control plane. */
  configPath?: string;
  workers?: number;
  /** proxy-wasm node.id (default: the host name) and node.metadata. */
  nodeId?: string;
  nodeMetadata?: Record<string, string>;
}

export type ProxyState = 'starting' | 'live' | 'draining' | 'stopping';

export class ProxyMain {
  readonly layout = new StatsLayout();
  readonly workerCount: number;
  readonly statsSab: SharedArrayBuffer;
  readonly pool: WorkerPool;
  /** Shared data, queues and filter metrics of every worker. */
  readonly wasmShared: WasmSharedState;
  /** The Wasm filters of the config in force. */
  filters: LoadedFilter[] = [];
  readonly health = new ClusterHealth();
  private admin: AdminServer | null = null;
  state: ProxyState = 'starting';
  config: ProxyConfig | null = null;
  generation = 0;
  readonly startedAt = Date.now();
  reloadsOk = 0;
  reloadsFailed = 0;
  lastReloadError: string | null = null;
  /** Restarts of this process by the supervisor, handed down through the environment. */
  readonly supervisorRestarts = Number(process.env.WASMESH_SUPERVISOR_RESTARTS ?? 0) || 0;
  private applying: Promise<unknown> = Promise.resolve();
  /** The control-plane stream, when the config comes from one. */
  control: ControlClient | null = null;

  constructor(readonly opts: ProxyOptions) {
    this.workerCount = Math.max(1, opts.workers ?? os.availableParallelism());
    this.statsSab = allocateStatsBuffer(this.workerCount);
    this.wasmShared = createWasmSharedState();
    this.pool = new WorkerPool(this.workerCount, this.statsSab, {
      wasmShared: this.wasmShared.buffers,
      node: { id: opts.nodeId ?? os.hostname(), metadata: opts.nodeMetadata ?? {} },
    });
  }

  /** Starts workers and admin. Throws ConfigError (with every problem) or an Error if listeners cannot bind. */
  async start(config: ProxyConfig): Promise<void> {
    setLogPrefix('main');
    setLogLevel(config.logLevel);
    const err = await this.apply(config);
    if (err !== null) throw new Error(err);
    this.admin = new AdminServer(this);
    await this.admin.listen(config.admin.address);
    this.state = 'live';
    const addrs = config.listeners.map((l) => `${l.name}=${l.address.host}:${l.address.port}`).join(' ');
    log('info', `ready: ${this.workerCount} worker(s), listeners ${addrs}, admin ${config.admin.address.host}:${this.admin.port}`);
  }

  /**
   * Control-plane mode: the admin server first (/ready answers 503), then
   * every config the control plane pushes, applied like a reload.
   */
  async startControlled(admin: Address, client: ControlClientOptions): Promise<void> {
    setLogPrefix('main');
    this.admin = new AdminServer(this);
    await this.admin.listen(admin);
    this.control = new ControlClient(client, (config) => this.applyPushed(config, admin));
    this.control.start();
    log('info', `admin ${admin.host}:${this.admin.port}; waiting for config from ${client.url}`);
  }

  private async applyPushed(config: ProxyConfig, admin: Address): Promise<string | null> {
    if (this.state === 'draining' || this.state === 'stopping') return 'the proxy is shutting down';
    if (formatAddress(config.admin.address) !== formatAddress(admin)) return `admin.address: ${formatAddress(config.admin.address)} differs from this proxy's ${formatAddress(admin)} (set by --admin)`;
    const err = await this.apply(config);
    if (err !== null) {
      this.reloadsFailed++;
      this.lastReloadError = err;
      return err;
    }
    this.reloadsOk++;
    this.lastReloadError = null;
    if (this.state === 'starting') {
      this.state = 'live';
      const addrs = config.listeners.map((l) => `${l.name}=${l.address.host}:${l.address.port}`).join(' ');
      log('info', `ready: ${this.workerCount} worker(s), listeners ${addrs}`);
    }
    return null;
  }

  get adminPort(): number {
    return this.admin?.port ?? 0;
  }

  /** Builds the generation spec, applies it to all workers; null on success. Serialized: one at a time. */
  apply(config: ProxyConfig): Promise<string | null> {
    const run = this.applying.then(() => this.applyNow(config));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async applyNow(config: ProxyConfig): Promise<string | null> {
    let filters: GenerationSpec['filters'];
    const loaded: LoadedFilter[] = [];
    try {
      filters = await compileFilters(config, this.layout, loaded);
    } catch (e) {
      return (e as Error).message;
    }
    // Port 0 means "any free port". uWS sets SO_REUSEPORT only for a non-zero
    // port, so pick the port here once and let every worker bind it; across
    // reloads the listener keeps the port it was given.
    for (const l of config.listeners) {
      if (l.address.port !== 0) continue;
      const old = this.config?.listeners.find((o) => o.name === l.name && o.address.host === l.address.host);
      l.address.port = old ? old.address.port : await freePort(l.address.host);
    }
    const gen = ++this.generation;
    const ls: Record<string, ListenerSlots> = {};
    const cs: Record<string, ClusterSlots> = {};
    for (const l of config.listeners) ls[l.name] = listenerSlots(this.layout, l.name);
    for (const c of config.clusters) cs[c.name] = clusterSlots(this.layout, c.name);
    const staged = this.health.stage(config.clusters);
    const spec: GenerationSpec = { gen, config, listenerSlots: ls, clusterSlots: cs, clusterState: this.health.buffers(staged), filters };
    const err = await this.pool.apply(spec);
    if (err !== null) {
      this.health.discard(staged);
      return err;
    }
    this.health.commit(staged);
    this.config = config;
    this.filters = loaded;
    setLogLevel(config.logLevel);
    return null;
  }

  /** Re-reads the config file. A bad file changes nothing; the reasons are logged and returned. */
  async reload(): Promise<{ ok: boolean; generation: number; errors: string[] }> {
    if (this.opts.configPath === undefined) return this.reloadFailed(['the config comes from the control plane; there is no file to reload']);
    let next: ProxyConfig;
    try {
      next = loadProxyConfigFile(this.opts.configPath);
    } catch (e) {
      const errors = e instanceof ConfigError ? [...e.problems] : [(e as Error).message];
      return this.reloadFailed(errors);
    }
    if (this.config && JSON.stringify(next.admin) !== JSON.stringify(this.config.admin)) {
      return this.reloadFailed(['admin.address: changing the admin address needs a restart']);
    }
    const err = await this.apply(next);
    if (err !== null) return this.reloadFailed([err]);
    this.reloadsOk++;
    this.lastReloadError = null;
    log('info', `reload: generation ${this.generation} in force`);
    return { ok: true, generation: this.generation, errors: [] };
  }

  private reloadFailed(errors: string[]): { ok: boolean; generation: number; errors: string[] } {
    this.reloadsFailed++;
    this.lastReloadError = errors.join('; ');
    log('error', `reload rejected, previous config stays in force:\n  ${errors.join('\n  ')}`);
    return { ok: false, generation: this.generation, errors };
  }

  /** Stop accepting new connections; in-flight requests finish. /ready turns 503. */
  async drain(): Promise<boolean> {
    if (this.state === 'draining' || this.state === 'stopping') return true;
    this.state = 'draining';
    log('info', 'draining: listeners closed, waiting for in-flight requests');
    const timeout = this.config?.drainTimeoutMs ?? 15_000;
    const clean = await this.pool.drain(timeout);
    if (!clean) log('warn', `drain timeout (${timeout} ms) reached with requests in flight`);
    return clean;
  }

  private stopping: Promise<never> | null = null;

  /** Graceful exit: drain, close every socket, exit 0. Signals often arrive in pairs (SIGINT to the group, SIGTERM from the supervisor): one shutdown serves them all. */
  shutdown(): Promise<never> {
    this.stopping ??= this.shutdownOnce();
    return this.stopping;
  }

  private async shutdownOnce(): Promise<never> {
    // Deregister first, so other proxies stop picking this instance while it drains.
    await this.control?.stop();
    await this.drain();
    this.state = 'stopping';
    await this.pool.close();
    this.health.stop();
    await this.admin?.close();
    log('info', 'stopped');
    process.exit(0);
  }
}

/** `wasmesh proxy --control`: the config comes from the control plane. */
export async function runControlledProxy(opts: ProxyOptions, admin: Address, client: ControlClientOptions): Promise<void> {
  const proxy = new ProxyMain(opts);
  process.on('SIGTERM', () => void proxy.shutdown());
  process.on('SIGINT', () => void proxy.shutdown());
  process.on('SIGHUP', () => log('warn', 'SIGHUP ignored: the config comes from the control plane'));
  try {
    await proxy.startControlled(admin, client);
  } catch (e) {
    process.stderr.write(`wasmesh: ${(e as Error).message}\n`);
    await proxy.pool.close();
    process.exit(1);
  }
}

export async function runProxy(opts: ProxyOptions & { configPath: string }): Promise<void> {
  // Worker threads boot while the config is parsed: start-up is on the critical path of every restart.
  const proxy = new ProxyMain(opts);
  let config: ProxyConfig;
  try {
    config = loadProxyConfigFile(opts.configPath);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    await proxy.pool.close();
    process.exit(1);
  }
  process.on('SIGTERM', () => void proxy.shutdown());
  process.on('SIGINT', () => void proxy.shutdown());
  process.on('SIGHUP', () => void proxy.reload());
  try {
    await proxy.start(config);
  } catch (e) {
    process.stderr.write(`wasmesh: ${(e as Error).message}\n`);
    await proxy.pool.close();
    process.exit(1);
  }
}

export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
