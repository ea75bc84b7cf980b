// The control plane's state and its one rule: the mesh in the store, plus the
// registry, gives each proxy a config; whenever either changes, every
// connected proxy whose config changed gets a new version.
import { ConfigError } from '../../runtime/core/errors';
import { log } from '../../runtime/log/logger';
import { configHash, diffConfig, type ConfigDocument, type FromControl, type Hello } from '../../runtime/control/protocol';
import { buildProxyDocument, parseMesh, validateProxyDocument, type Instance, type Mesh, type MeshSource, type Target } from '../mesh';
import { FileStore, type ApplyMeta, type Snapshot } from '../store';
import { BundleStore } from './bundle-store';
import { ControlError } from './errors';
import { joinDocuments, keyedDocuments, mergeDocuments, type KeyedDocument } from './mesh-documents';
import { Registry, type ProxyRecord } from './registry';

/** Registry-driven pushes wait this long for more changes; well inside the 1 s endpoint-propagation goal. */
const INSTANCE_DEBOUNCE_MS = 50;

export interface ControlOptions {
  dataDir: string;
  heartbeatMs: number;
  /** How long a proxy whose stream closed stays registered (it may be reconnecting). */
  graceMs: number;
}

/** Configs built and checked for one mesh at one registry epoch, by target key. */
interface Prebuilt {
  mesh: Mesh;
  epoch: number;
  docs: Map<string, ConfigDocument>;
}

/** How the control plane talks to one connected proxy. */
export interface Stream {
  send(m: FromControl): void;
  /** An already encoded message. */
  sendRaw(text: string): void;
  close(): void;
}

export interface ApplyRequest {
  documents: MeshSource[];
  author?: string;
  message?: string;
  dryRun?: boolean;
}

export class ControlPlane {
  store!: FileStore;
  readonly bundles: BundleStore;
  readonly registry: Registry;
  /** The mesh in force: its documents, parsed form and store version. */
  docs: KeyedDocument[] = [];
  mesh: Mesh = { resources: [] };
  configVersion = 0;
  private readonly streams = new Map<string, Stream>();
  /** The configs the last apply checked, reused by the push that follows it. */
  private prebuilt: Prebuilt | null = null;
  private pushTimer: NodeJS.Timeout | null = null;
  private pushAt = 0;
  /** Serializes changes to the mesh: apply, delete, rollback. */
  private changing: Promise<unknown> = Promise.resolve();

  constructor(readonly opts: ControlOptions) {
    this.bundles = new BundleStore(opts.dataDir);
    this.registry = new Registry(opts.dataDir, opts.heartbeatMs, opts.graceMs, {
      // Instances come and go in bursts (a rollout, a control-plane restart): one push per burst.
      instancesChanged: (why) => this.schedulePush(why, INSTANCE_DEBOUNCE_MS),
      removed: (nodeId) => this.streams.get(nodeId)?.close(),
    });
  }

  async open(): Promise<void> {
    this.store = await FileStore.open(this.opts.dataDir);
    await this.bundles.open();
    await this.registry.open();
    const current = await this.store.current();
    if (current !== null) this.install(current);
  }

  async close(): Promise<void> {
    if (this.pushTimer !== null) clearTimeout(this.pushTimer);
    for (const s of this.streams.values()) s.close();
    await this.registry.close();
    await this.store.close();
  }

  // ---- mesh changes ----

  apply(req: ApplyRequest): Promise<{ version: number; created: string[]; configured: string[]; unchanged: string[] }> {
    return this.serialized(async () => {
      const incoming = req.documents.flatMap((d) => keyedDocuments(d.text));
      const bad = incoming.some((d) => d.key === null);
      const incomingKeys = new Set(incoming.map((d) => d.key));
      const kept = this.docs.filter((d) => !incomingKeys.has(d.key));
      // Check the mesh as it would be: kept documents plus the files as sent, so messages point at the files' lines.
      const mesh = this.check([...(kept.length > 0 ? [{ text: joinDocuments(kept), source: this.source() }] : []), ...req.documents]);
      if (bad) throw new ControlError('a document has no kind or metadata.name', 'CONFIG_INVALID');
      const prebuilt = await this.checkProxies(mesh);
      const merged = mergeDocuments(this.docs, incoming as KeyedDocument[]);
      const changed = merged.created.length + merged.configured.length > 0;
      if (req.dryRun || !changed) return { version: this.configVersion, created: merged.created, configured: merged.configured, unchanged: merged.unchanged };
      const snap = await this.store.apply(joinDocuments(merged.docs), meta(req));
      this.prebuilt = prebuilt;
      this.install(snap, mesh);
      return { version: snap.version, created: merged.created, configured: merged.configured, unchanged: merged.unchanged };
    });
  }

  delete(req: ApplyRequest): Promise<{ version: number; deleted: string[] }> {
    return this.serialized(async () => {
      const keys = req.documents.flatMap((d) => keyedDocuments(d.text).map((k) => k.key));
      const problems: string[] = [];
      for (const k of keys) {
        if (k === null) problems.push('a document has no kind or metadata.name');
        else if (!this.docs.some((d) => d.key === k)) problems.push(`${k}: not in the mesh`);
      }
      if (problems.length > 0) throw new ControlError('nothing deleted', 'CONFIG_INVALID', problems);
      const rest = this.docs.filter((d) => !keys.includes(d.key));
      const mesh = this.check(rest.length > 0 ? [{ text: joinDocuments(rest), source: `${this.source()} without the deleted documents` }] : []);
      const prebuilt = await this.checkProxies(mesh);
      const snap = await this.store.apply(joinDocuments(rest), meta(req));
      this.prebuilt = prebuilt;
      this.install(snap, mesh);
      return { version: snap.version, deleted: keys as string[] };
    });
  }

  rollback(version: number | undefined, m: ApplyMeta): Promise<Snapshot> {
    return this.serialized(async () => {
      const target = version === undefined ? null : await this.store.get(version);
      if (version !== undefined && target === null) throw new ControlError(`no version ${version} (see history)`, 'NOT_FOUND');
      if (target !== null) {
        const mesh = this.check([{ text: target.content, source: `version ${version}` }]);
        await this.checkProxies(mesh);
      }
      const snap = await this.store.rollback(version, m);
      this.install(snap);
      return snap;
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.changing.then(fn);
    this.changing = run.catch(() => undefined);
    return run;
  }

  private source(): string {
    return `mesh v${this.configVersion}`;
  }

  /** Parses and cross-checks; CONFIG_INVALID with every problem. */
  private check(sources: MeshSource[]): Mesh {
    try {
      return sources.length === 0 ? { resources: [] } : parseMesh(sources);
    } catch (e) {
      if (e instanceof ConfigError) throw new ControlError(`invalid mesh config (${e.problems.length} error${e.problems.length === 1 ? '' : 's'})`, 'CONFIG_INVALID', e.problems);
      throw e;
    }
  }

  /** Every filter bundle must be uploaded, and every connected proxy must get a valid config. */
  private async checkProxies(mesh: Mesh): Promise<Prebuilt> {
    const problems: string[] = [];
    for (const r of mesh.resources) {
      if (r.kind !== 'FilterBundle') continue;
      if (r.sha256 === null) problems.push(`FilterBundle ${r.metadata.name}: no sha256 (give spec.module and use \`wasmesh apply\`, which uploads it)`);
      else if ((await this.bundles.size(r.sha256)) === null) problems.push(`FilterBundle ${r.metadata.name}: bundle ${r.sha256} was not uploaded (PUT /api/v1/bundles/${r.sha256})`);
    }
    const instances = this.registry.instances();
    // Proxies with the same target get the same config: check each target once.
    const checked = new Map<string, readonly string[]>();
    const prebuilt: Prebuilt = { mesh, epoch: this.registry.epoch, docs: new Map() };
    for (const rec of this.registry.proxies.values()) {
      if (!rec.connected) continue;
      const target = targetFor(rec.hello);
      const key = JSON.stringify(target);
      let lines = checked.get(key);
      if (lines === undefined) {
        try {
          const doc = buildProxyDocument(mesh, target, { instances }) as ConfigDocument;
          validateProxyDocument(doc, target);
          prebuilt.docs.set(key, doc);
          lines = [];
        } catch (e) {
          lines = e instanceof ConfigError ? e.problems : [(e as Error).message];
        }
        checked.set(key, lines);
      }
      for (const l of lines) problems.push(`proxy ${rec.hello.nodeId}: ${l}`);
    }
    if (problems.length > 0) throw new ControlError(`the change would break ${problems.length} thing${problems.length === 1 ? '' : 's'}; nothing applied`, 'CONFIG_INVALID', problems);
    return prebuilt;
  }

  private install(snap: Snapshot, mesh?: Mesh): void {
    this.docs = keyedDocuments(snap.content).filter((d): d is KeyedDocument => d.key !== null);
    try {
      this.mesh = mesh ?? (snap.content.trim() === '' ? { resources: [] } : parseMesh(snap.content, `mesh v${snap.version}`));
    } catch (e) {
      // Only a version written by an older, laxer control plane can get here; keep serving the last good mesh.
      log('error', `mesh v${snap.version} does not parse; proxies keep the previous mesh: ${(e as Error).message}`);
      return;
    }
    this.configVersion = snap.version;
    this.schedulePush(`mesh v${snap.version}`);
  }

  // ---- proxies ----

  /** A proxy's hello on a new stream. */
  connect(hello: Hello, stream: Stream): ProxyRecord {
    const old = this.streams.get(hello.nodeId);
    if (old !== undefined && old !== stream) old.close();
    this.streams.set(hello.nodeId, stream);
    const rec = this.registry.connect(hello);
    stream.send({ type: 'welcome', heartbeatMs: this.opts.heartbeatMs, controlVersion: String(this.configVersion) });
    this.pushTo(rec, stream);
    return rec;
  }

  disconnect(rec: ProxyRecord, stream: Stream): void {
    if (this.streams.get(rec.hello.nodeId) === stream) this.streams.delete(rec.hello.nodeId);
    this.registry.disconnected(rec);
  }

  ack(rec: ProxyRecord, version: number): void {
    rec.acked = version;
    if (rec.nacked?.version === version) rec.nacked = null;
  }

  nack(rec: ProxyRecord, version: number, error: string): void {
    rec.nacked = { version, error };
    log('warn', `proxy ${rec.hello.nodeId} NACKed version ${version}: ${error}`);
  }

  resync(rec: ProxyRecord): void {
    rec.sent = null;
    const s = this.streams.get(rec.hello.nodeId);
    if (s !== undefined) this.pushTo(rec, s);
  }

  /** Pushes after `delayMs` (0: on the next turn); an earlier pending push covers a later one. */
  schedulePush(why: string, delayMs = 0): void {
    log('debug', `push: ${why}`);
    const at = Date.now() + delayMs;
    if (this.pushTimer !== null) {
      if (this.pushAt <= at) return;
      clearTimeout(this.pushTimer);
    }
    this.pushAt = at;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null;
      const seed = this.prebuilt !== null && this.prebuilt.mesh === this.mesh && this.prebuilt.epoch === this.registry.epoch ? this.prebuilt.docs : undefined;
      this.prebuilt = null;
      const round = new PushRound(this.mesh, this.registry.instances(), seed);
      for (const [nodeId, s] of this.streams) {
        const rec = this.registry.proxies.get(nodeId);
        if (rec !== undefined && rec.connected) this.pushTo(rec, s, round);
      }
    }, delayMs);
  }

  /** Sends `rec` its config if it changed since the last version sent. */
  private pushTo(rec: ProxyRecord, stream: Stream, round = new PushRound(this.mesh, this.registry.instances())): void {
    let doc;
    try {
      doc = round.build(rec.hello);
      rec.buildError = null;
    } catch (e) {
      rec.buildError = (e as Error).message;
      log('error', `no config for proxy ${rec.hello.nodeId}: ${rec.buildError}`);
      return;
    }
    const h = rec.hello;
    if (rec.sent === null && h.version !== null && h.configHash === configHash(doc)) {
      // A reconnect to a config the proxy already serves: nothing to send.
      rec.sent = { version: h.version, configVersion: this.configVersion, doc };
      rec.acked = h.version;
      return;
    }
    if (rec.sent === null) {
      const version = round.version(this.registry);
      stream.send({ type: 'snapshot', version, configVersion: this.configVersion, config: doc });
      rec.sent = { version, configVersion: this.configVersion, doc };
      return;
    }
    const d = round.delta(rec.sent.version, rec.sent.doc, doc, this.configVersion, this.registry);
    if (d === null) {
      // Unaffected by this change: what it has is what the current mesh gives it.
      rec.sent.configVersion = this.configVersion;
      return;
    }
    stream.sendRaw(d.text);
    rec.sent = { version: d.version, configVersion: this.configVersion, doc };
  }
}

/**
 * One push to every proxy. Proxies asking for the same target (in a real
 * mesh: every sidecar of a workload, same ports) share one built document,
 * one diff and one encoded message, so a push to 1000 proxies costs a few
 * builds, not 1000. The whole round shares one version number.
 */
class PushRound {
  private readonly docs: Map<string, ConfigDocument>;
  /** from -> to -> the diff, and its encoding per base version. */
  private readonly deltas = new Map<ConfigDocument, Map<ConfigDocument, { diff: ReturnType<typeof diffConfig>; texts: Map<number, string> }>>();
  private v: number | null = null;

  /** `seed`: documents already built (and checked) for this mesh and these instances, by target key. */
  constructor(private readonly mesh: Mesh, private readonly instances: Instance[], seed?: Map<string, ConfigDocument>) {
    this.docs = new Map(seed);
  }

  build(h: Hello): ConfigDocument {
    const target = targetFor(h);
    const key = JSON.stringify(target);
    let doc = this.docs.get(key);
    if (doc === undefined) {
      doc = buildProxyDocument(this.mesh, target, { instances: this.instances }) as ConfigDocument;
      this.docs.set(key, doc);
    }
    return doc;
  }

  version(registry: Registry): number {
    this.v ??= registry.nextVersion();
    return this.v;
  }

  /** The encoded delta from `from` (sent as version `base`) to `to`; null when nothing changed. */
  delta(base: number, from: ConfigDocument, to: ConfigDocument, configVersion: number, registry: Registry): { version: number; text: string } | null {
    let byTo = this.deltas.get(from);
    if (byTo === undefined) this.deltas.set(from, (byTo = new Map()));
    let entry = byTo.get(to);
    if (entry === undefined) byTo.set(to, (entry = { diff: diffConfig(from, to), texts: new Map() }));
    const d = entry.diff;
    if (d === null) return null;
    const version = this.version(registry);
    let text = entry.texts.get(base);
    if (text === undefined) {
      text = JSON.stringify({ type: 'delta', version, base, configVersion, set: d.set, remove: d.remove } satisfies FromControl);
      entry.texts.set(base, text);
    }
    return { version, text };
  }
}

/** What a proxy's hello asks to be: the translation target. */
export function targetFor(h: Hello): Target {
  if (h.kind === 'gateway') {
    return {
      kind: 'gateway',
      ...(h.gateway !== undefined ? { name: h.gateway } : {}),
      namespace: h.namespace,
      labels: h.labels,
      ...(h.listen.gateway !== undefined ? { listen: h.listen.gateway } : {}),
      admin: h.listen.admin,
    };
  }
  return {
    kind: 'sidecar',
    namespace: h.namespace,
    labels: h.labels,
    admin: h.listen.admin,
    ...(h.listen.outbound !== undefined ? { listen: h.listen.outbound } : {}),
    ...(h.service !== undefined ? { service: h.service } : {}),
    ...(h.listen.inbound !== undefined && h.listen.app !== undefined ? { inbound: { listen: h.listen.inbound, app: h.listen.app } } : {}),
  };
}

function meta(req: { author?: string; message?: string }): ApplyMeta {
  return { ...(req.author !== undefined ? { author: req.author } : {}), ...(req.message !== undefined ? { message: req.message } : {}) };
}
