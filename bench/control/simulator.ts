// A light stand-in for N proxies on the control-plane stream: one WebSocket
// each to /api/v1/stream, speaking the real protocol
// (runtime/control/protocol.ts) without running a data plane. Each one
// registers as an instance of a service with its own address and the same
// listen addresses as every other pod (Istio's ports), keeps the config it
// was sent (snapshot, then deltas applied with applyDelta; `resync` when a
// delta's base is not its version), heartbeats at the welcome's interval and
// ACKs every version as soon as it is read, recording when.
import WebSocket from 'ws';
import { applyDelta, PROTOCOL_VERSION, STREAM_PATH, type ConfigDocument, type FromControl, type FromProxy, type Hello } from '../../runtime/control/protocol';
import { serviceName } from './mesh';

/** The same listen addresses for every simulated pod, as in a real mesh. */
export const POD_LISTEN = { outbound: '127.0.0.1:15001', inbound: '0.0.0.0:15006', app: '127.0.0.1:8080', admin: '127.0.0.1:15000' };

export interface SimOptions {
  /** ws://HOST:PORT of the control plane. */
  url: string;
  token: string;
  count: number;
  services: number;
  /** Connections opened at a time while connecting. */
  concurrency?: number;
}

/** One simulated sidecar. */
export class SimProxy {
  ws: WebSocket | null = null;
  version: number | null = null;
  configVersion: number | null = null;
  doc: ConfigDocument | null = null;
  heartbeat: NodeJS.Timeout | null = null;
  closed = false;
  /** Per mesh config version, the first version built from it: when its message arrived and when the ACK went out (performance.now()). */
  readonly acks = new Map<number, { receivedAt: number; ackedAt: number }>();
  readonly hello: Hello;

  constructor(readonly index: number, services: number) {
    const svc = index % services;
    // Instance k of its service: versions alternate in blocks, so both subsets fill up.
    const k = Math.floor(index / services);
    const version = k % 2 === 0 ? 'v1' : 'v2';
    this.hello = {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      nodeId: `sim-${serviceName(svc)}-${k}`,
      kind: 'sidecar',
      namespace: 'default',
      labels: { app: serviceName(svc), version },
      service: serviceName(svc),
      // A pod IP per instance (loopback range, never dialled), the same port everywhere.
      address: `127.0.${2 + Math.floor(index / 250)}.${1 + (index % 250)}:8080`,
      listen: { ...POD_LISTEN },
      version: null,
      configHash: null,
    };
  }
}

export interface SimCounters {
  snapshots: number;
  deltas: number;
  resyncs: number;
  bytesIn: number;
  errors: string[];
  /** Streams closed while the simulator ran (not by close()). */
  lostStreams: number;
}

export class Simulator {
  readonly proxies: SimProxy[] = [];
  readonly counters: SimCounters = { snapshots: 0, deltas: 0, resyncs: 0, bytesIn: 0, errors: [], lostStreams: 0 };
  private stopping = false;
  /** Waiters for "every proxy ACKed mesh version >= v". */
  private waiters: { configVersion: number; count: number; resolve: () => void }[] = [];

  constructor(readonly opts: SimOptions) {
    for (let i = 0; i < opts.count; i++) this.proxies.push(new SimProxy(i, opts.services));
  }

  /** Opens every stream (`concurrency` at a time) and sends each hello; resolves once all are open. */
  async connectAll(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let next = 0;
    const worker = async () => {
      while (next < this.proxies.length) {
        const p = this.proxies[next++]!;
        if (Date.now() > deadline) throw new Error(`simulator: ${next} of ${this.proxies.length} streams opened within ${timeoutMs} ms`);
        await this.connect(p, deadline - Date.now());
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.opts.concurrency ?? 20) }, worker));
  }

  private connect(p: SimProxy, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.opts.url + STREAM_PATH, { headers: { authorization: `Bearer ${this.opts.token}` }, handshakeTimeout: Math.max(1_000, Math.min(timeoutMs, 30_000)) });
      p.ws = ws;
      ws.once('open', () => {
        this.send(p, p.hello);
        resolve();
      });
      ws.on('message', (data, isBinary) => {
        if (!isBinary) this.onMessage(p, data as Buffer);
      });
      ws.on('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(new Error(`stream upgrade answered ${res.statusCode}`));
      });
      ws.on('error', (e) => {
        this.error(`${p.hello.nodeId}: ${e.message}`);
        reject(e);
      });
      ws.on('close', () => {
        if (p.heartbeat) clearInterval(p.heartbeat);
        p.heartbeat = null;
        p.closed = true;
        if (!this.stopping) this.counters.lostStreams++;
      });
    });
  }

  private error(text: string): void {
    if (this.counters.errors.length < 100) this.counters.errors.push(text);
  }

  private send(p: SimProxy, m: FromProxy): void {
    if (p.ws !== null && p.ws.readyState === WebSocket.OPEN) p.ws.send(JSON.stringify(m));
  }

  private onMessage(p: SimProxy, data: Buffer): void {
    const t = performance.now();
    this.counters.bytesIn += data.length;
    let m: FromControl;
    try {
      m = JSON.parse(data.toString('utf8')) as FromControl;
    } catch (e) {
      this.error(`${p.hello.nodeId}: unreadable message: ${(e as Error).message}`);
      return;
    }
    switch (m.type) {
      case 'welcome':
        if (p.heartbeat) clearInterval(p.heartbeat);
        p.heartbeat = setInterval(() => this.send(p, { type: 'heartbeat' }), Math.max(50, m.heartbeatMs));
        return;
      case 'snapshot':
        this.counters.snapshots++;
        return this.take(p, m.version, m.configVersion, m.config, t);
      case 'delta':
        this.counters.deltas++;
        if (p.doc === null || p.version !== m.base) {
          this.counters.resyncs++;
          p.doc = null;
          p.version = null;
          return this.send(p, { type: 'resync' });
        }
        return this.take(p, m.version, m.configVersion, applyDelta(p.doc, m.set, m.remove), t);
      case 'error':
        this.error(`${p.hello.nodeId}: ${m.code}: ${m.message}`);
        return;
    }
  }

  private take(p: SimProxy, version: number, configVersion: number, doc: ConfigDocument, receivedAt: number): void {
    const before = p.configVersion ?? -1;
    p.doc = doc;
    p.version = version;
    p.configVersion = configVersion;
    this.send(p, { type: 'ack', version });
    if (!p.acks.has(configVersion)) p.acks.set(configVersion, { receivedAt, ackedAt: performance.now() });
    if (configVersion <= before || this.waiters.length === 0) return;
    for (const w of this.waiters) if (before < w.configVersion && w.configVersion <= configVersion) w.count++;
    this.waiters = this.waiters.filter((w) => {
      if (w.count < this.proxies.length) return true;
      w.resolve();
      return false;
    });
  }

  /** How many proxies ACKed a version built from mesh version >= `configVersion`. */
  ackedCount(configVersion: number): number {
    let n = 0;
    for (const p of this.proxies) if (p.configVersion !== null && p.configVersion >= configVersion) n++;
    return n;
  }

  /** Resolves once every proxy ACKed a version built from mesh version >= `configVersion`. */
  waitAcked(configVersion: number, timeoutMs: number): Promise<void> {
    if (this.ackedCount(configVersion) === this.proxies.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`simulator: ${this.ackedCount(configVersion)} of ${this.proxies.length} proxies ACKed mesh version ${configVersion} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.waiters.push({ configVersion, count: this.ackedCount(configVersion), resolve: done });
    });
  }

  /** Per proxy, when it received and ACKed mesh version `configVersion` (ms, performance.now()); undefined for those that did not. */
  ackTimes(configVersion: number): ({ receivedAt: number; ackedAt: number } | undefined)[] {
    return this.proxies.map((p) => p.acks.get(configVersion));
  }

  openCount(): number {
    return this.proxies.filter((p) => p.ws !== null && p.ws.readyState === WebSocket.OPEN).length;
  }

  /** Closes every stream (with `bye` when `bye`), without waiting for more than `timeoutMs`. */
  async close(bye = false, timeoutMs = 3_000): Promise<void> {
    this.stopping = true;
    const closing: Promise<void>[] = [];
    for (const p of this.proxies) {
      if (p.heartbeat) clearInterval(p.heartbeat);
      p.heartbeat = null;
      const ws = p.ws;
      if (ws === null || ws.readyState === WebSocket.CLOSED) continue;
      if (bye) this.send(p, { type: 'bye' });
      closing.push(new Promise<void>((r) => ws.once('close', () => r())));
      ws.terminate();
    }
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, timeoutMs))]);
  }
}
