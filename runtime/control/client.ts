// The proxy's side of the control-plane stream: hello, heartbeats, versions
// applied one at a time and ACKed or NACKed, reconnection with backoff. The
// proxy keeps serving its last good config whatever happens here.
import WebSocket from 'ws';
import { readProxyConfigValue } from '../config/load';
import type { ProxyConfig } from '../config/types';
import { log } from '../log/logger';
import { BundleCache } from './bundle-cache';
import { setBundleDir } from '../wasm/loader';
import { applyDelta, configHash, PROTOCOL_VERSION, STREAM_PATH, type ConfigDocument, type FromControl, type FromProxy, type Hello } from './protocol';

export interface ControlClientOptions {
  /** ws:// or wss:// URL of the control plane. */
  url: string;
  token: string;
  bundleDir: string;
  hello: Omit<Hello, 'type' | 'protocol' | 'version' | 'configHash'>;
}

/** Applies a config on every worker; resolves null on success, else the reason (nothing changed then). */
export type ApplyConfig = (config: ProxyConfig) => Promise<string | null>;

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;

export class ControlClient {
  /** The version in force and its document. */
  current: { version: number; doc: ConfigDocument; hash: string } | null = null;
  /** The last version received (applied or not): deltas build on it. */
  private received: { version: number; doc: ConfigDocument } | null = null;
  private ws: WebSocket | null = null;
  /** Bumped per connection: messages of a dead connection are dropped. */
  private epoch = 0;
  private queue: Promise<void> = Promise.resolve();
  private heartbeat: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private backoffMs = BACKOFF_MIN_MS;
  private stopped = false;
  readonly bundles: BundleCache;
  connected = false;
  acks = 0;
  nacks = 0;
  reconnects = 0;
  lastError: string | null = null;
  /** Milliseconds from receipt of the last applied version to every worker serving it. */
  lastApplyMs = 0;

  constructor(readonly opts: ControlClientOptions, private readonly apply: ApplyConfig) {
    this.bundles = new BundleCache(opts.bundleDir, opts.url.replace(/^ws/, 'http').replace(/\/+$/, ''), opts.token);
    setBundleDir(opts.bundleDir); // `sha256:HEX` modules in pushed configs load from here
  }

  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const epoch = ++this.epoch;
    const ws = new WebSocket(this.opts.url.replace(/\/+$/, '') + STREAM_PATH, { headers: { authorization: `Bearer ${this.opts.token}` }, handshakeTimeout: 5_000 });
    this.ws = ws;
    ws.on('open', () => {
      this.connected = true;
      this.backoffMs = BACKOFF_MIN_MS;
      // The control plane bases its next delta on what we serve now.
      this.received = this.current === null ? null : { version: this.current.version, doc: this.current.doc };
      const hello: Hello = { type: 'hello', protocol: PROTOCOL_VERSION, ...this.opts.hello, version: this.current?.version ?? null, configHash: this.current?.hash ?? null };
      this.send(hello);
      log('info', `control plane ${this.opts.url}: connected`);
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let m: FromControl;
      try {
        m = JSON.parse(data.toString()) as FromControl;
      } catch {
        return;
      }
      this.queue = this.queue.then(() => (epoch === this.epoch ? this.onMessage(m) : undefined)).catch((e: Error) => log('error', `control stream: ${e.stack ?? e}`));
    });
    ws.on('unexpected-response', (_req, res) => {
      this.lastError = `control plane answered ${res.statusCode} to the stream upgrade${res.statusCode === 401 ? ' (wrong or missing token)' : ''}`;
      log('error', this.lastError);
      ws.terminate();
    });
    ws.on('error', (e) => {
      this.lastError = e.message;
    });
    ws.on('close', () => {
      if (epoch !== this.epoch) return;
      const was = this.connected;
      this.connected = false;
      this.ws = null;
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.heartbeat = null;
      if (this.stopped) return;
      if (was) log('warn', `control plane ${this.opts.url}: stream closed; serving version ${this.current?.version ?? 'none'}, reconnecting`);
      this.reconnects++;
      const delay = this.backoffMs * (0.5 + Math.random() / 2);
      this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
      this.retry = setTimeout(() => this.connect(), delay);
    });
  }

  private send(m: FromProxy): void {
    if (this.ws !== null && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  private async onMessage(m: FromControl): Promise<void> {
    switch (m.type) {
      case 'welcome':
        if (this.heartbeat) clearInterval(this.heartbeat);
        this.heartbeat = setInterval(() => this.send({ type: 'heartbeat' }), Math.max(50, m.heartbeatMs));
        this.heartbeat.unref();
        return;
      case 'snapshot':
        return this.take(m.version, m.config);
      case 'delta':
        if (this.received === null || this.received.version !== m.base) {
          log('warn', `control plane sent a delta on version ${m.base}, this proxy has ${this.received?.version ?? 'none'}: asking for a snapshot`);
          this.received = null;
          return this.send({ type: 'resync' });
        }
        return this.take(m.version, applyDelta(this.received.doc, m.set, m.remove));
      case 'error':
        this.lastError = `${m.code}: ${m.message}`;
        log('error', `control plane refused this proxy: ${this.lastError}`);
        return;
    }
  }

  /** Applies one version, then ACKs it, or NACKs it and stays on the version in force. */
  private async take(version: number, doc: ConfigDocument): Promise<void> {
    const t0 = performance.now();
    this.received = { version, doc };
    let error: string | null;
    try {
      await this.bundles.ensure(doc);
      error = await this.apply(readProxyConfigValue(doc, `control plane version ${version}`));
    } catch (e) {
      error = (e as Error).message;
    }
    if (error !== null) {
      this.nacks++;
      this.lastError = error;
      log('error', `version ${version} NACKed; still serving ${this.current?.version ?? 'nothing'}: ${error}`);
      return this.send({ type: 'nack', version, error });
    }
    this.lastApplyMs = performance.now() - t0;
    this.current = { version, doc, hash: configHash(doc) };
    this.acks++;
    log('info', `version ${version} in force (${this.lastApplyMs.toFixed(0)} ms)`);
    this.send({ type: 'ack', version });
  }

  /** Graceful stop: deregister at once (`bye`) and close. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.heartbeat) clearInterval(this.heartbeat);
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) {
      ws?.terminate();
      return;
    }
    this.send({ type: 'bye' });
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1_000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(1000, 'proxy stopping');
    });
  }
}
