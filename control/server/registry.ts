// Every proxy the control plane knows: its identity (from its hello), stream
// state, push state and heartbeat. Sidecars are also the registered instances
// of their service. Identities and the push counter are persisted to
// DATA_DIR/registry.json so a restart keeps endpoints while proxies reconnect.
import * as path from 'node:path';
import type { Instance } from '../mesh';
import type { ConfigDocument, Hello } from '../../runtime/control/protocol';
import { atomicReplace, readIfExists } from '../store/fs-util';
import { log } from '../../runtime/log/logger';

export const REGISTRY_FILE = 'registry.json';

export interface ProxyRecord {
  hello: Hello;
  connected: boolean;
  connectedAt: number | null;
  /** When the stream closed (restored records: when the control plane started). */
  disconnectedAt: number;
  lastHeartbeat: number;
  /** The last version sent and its document: the base of the next delta. */
  sent: { version: number; configVersion: number; doc: ConfigDocument } | null;
  acked: number | null;
  nacked: { version: number; error: string } | null;
  /** Why no config could be built for this proxy (a translation error), or null. */
  buildError: string | null;
}

export type ProxyStatusName = 'SYNCED' | 'STALE' | 'NACKED' | 'DISCONNECTED';

export class Registry {
  readonly proxies = new Map<string, ProxyRecord>();
  /** The push version counter; never goes back, across restarts too. */
  pushVersion = 0;
  /** Bumped whenever the set of instances changes: configs built at one epoch stay valid while it lasts. */
  epoch = 0;
  private writing: Promise<void> | null = null;
  private dirty = false;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly dataDir: string,
    readonly heartbeatMs: number,
    readonly graceMs: number,
    private readonly hooks: { instancesChanged(why: string): void; removed(nodeId: string): void },
  ) {}

  /** Restores identities; restored proxies count as alive for the grace period, while they reconnect. */
  async open(): Promise<void> {
    const text = await readIfExists(path.join(this.dataDir, REGISTRY_FILE));
    if (text !== null) {
      try {
        const saved = JSON.parse(text) as { pushVersion: number; proxies: Hello[] };
        this.pushVersion = saved.pushVersion;
        const now = Date.now();
        for (const hello of saved.proxies) this.proxies.set(hello.nodeId, fresh(hello, now));
      } catch (e) {
        log('error', `${REGISTRY_FILE}: unreadable, starting with an empty registry: ${(e as Error).message}`);
      }
    }
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, this.heartbeatMs / 2));
    this.sweeper.unref();
  }

  close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    return this.flush();
  }

  nextVersion(): number {
    this.save();
    return ++this.pushVersion;
  }

  /** A proxy said hello: (re)registers it. */
  connect(hello: Hello): ProxyRecord {
    const old = this.proxies.get(hello.nodeId);
    const rec = fresh(hello, Date.now());
    rec.connected = true;
    rec.connectedAt = Date.now();
    this.proxies.set(hello.nodeId, rec);
    if (hello.version !== null && hello.version > this.pushVersion) this.pushVersion = hello.version;
    this.save();
    if (isInstance(hello) && (old === undefined || instanceKey(old.hello) !== instanceKey(hello))) this.instancesChanged(`instance ${hello.nodeId} registered`);
    return rec;
  }

  private instancesChanged(why: string): void {
    this.epoch++;
    this.hooks.instancesChanged(why);
  }

  heartbeat(rec: ProxyRecord): void {
    rec.lastHeartbeat = Date.now();
  }

  disconnected(rec: ProxyRecord): void {
    if (this.proxies.get(rec.hello.nodeId) !== rec) return; // replaced by a newer stream
    rec.connected = false;
    rec.disconnectedAt = Date.now();
  }

  /** Removes a proxy now (its `bye`, or a heartbeat timeout). */
  remove(nodeId: string, why: string): void {
    const rec = this.proxies.get(nodeId);
    if (rec === undefined) return;
    this.proxies.delete(nodeId);
    this.save();
    log('info', `proxy ${nodeId} removed: ${why}`);
    this.hooks.removed(nodeId);
    if (isInstance(rec.hello)) this.instancesChanged(`instance ${nodeId} removed (${why})`);
  }

  instances(): Instance[] {
    const out: Instance[] = [];
    for (const r of this.proxies.values()) {
      const h = r.hello;
      if (isInstance(h)) out.push({ service: h.service!, namespace: h.namespace, address: h.address!, labels: h.labels, nodeId: h.nodeId });
    }
    return out.sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
  }

  status(rec: ProxyRecord): ProxyStatusName {
    if (!rec.connected) return 'DISCONNECTED';
    if (rec.sent === null) return 'STALE';
    if (rec.nacked !== null && rec.nacked.version === rec.sent.version) return 'NACKED';
    return rec.acked === rec.sent.version ? 'SYNCED' : 'STALE';
  }

  /**
   * Drops connected proxies whose heartbeat is over 3 intervals old (a stalled
   * stream, closed by the `removed` hook), and disconnected ones after the
   * grace period (a crashed process, or one that could not reconnect in time).
   */
  private sweep(): void {
    const now = Date.now();
    for (const r of [...this.proxies.values()]) {
      if (r.connected && r.lastHeartbeat < now - 3 * this.heartbeatMs) this.remove(r.hello.nodeId, `no heartbeat for ${3 * this.heartbeatMs} ms`);
      else if (!r.connected && r.disconnectedAt < now - this.graceMs) this.remove(r.hello.nodeId, `disconnected for ${this.graceMs} ms`);
    }
  }

  private save(): void {
    this.dirty = true;
    this.writing ??= this.write();
  }

  private async write(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const data = { pushVersion: this.pushVersion, proxies: [...this.proxies.values()].map((r) => r.hello) };
      try {
        await atomicReplace(path.join(this.dataDir, REGISTRY_FILE), JSON.stringify(data, null, 1) + '\n');
      } catch (e) {
        log('error', `cannot save ${REGISTRY_FILE}: ${(e as Error).message}`);
      }
    }
    this.writing = null;
  }

  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }
}

function fresh(hello: Hello, now: number): ProxyRecord {
  return { hello, connected: false, connectedAt: null, disconnectedAt: now, lastHeartbeat: now, sent: null, acked: null, nacked: null, buildError: null };
}

function isInstance(h: Hello): boolean {
  return h.kind === 'sidecar' && typeof h.service === 'string' && typeof h.address === 'string';
}

function instanceKey(h: Hello): string {
  return JSON.stringify([h.service, h.namespace, h.address, h.labels]);
}
