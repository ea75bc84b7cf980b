// The proxy <-> control plane stream (docs/control-plane.md): one JSON object
// per WebSocket text frame. Shared by the proxy's client and the server.

import { createHash } from 'node:crypto';

export const PROTOCOL_VERSION = 1;
export const STREAM_PATH = '/api/v1/stream';

/** A proxy config document (docs/config.md), as JSON. */
export type ConfigDocument = Record<string, unknown>;

export interface Hello {
  type: 'hello';
  protocol: number;
  nodeId: string;
  kind: 'sidecar' | 'gateway';
  namespace: string;
  labels: Record<string, string>;
  /** Sidecars: the service this instance belongs to. */
  service?: string;
  /** Sidecars: the inbound address other proxies reach, registered as an endpoint. */
  address?: string;
  /** Gateways: a Gateway resource name (default: every Gateway whose selector matches `labels`). */
  gateway?: string;
  listen: { outbound?: string; inbound?: string; app?: string; gateway?: string; admin: string };
  /** What the proxy serves now; null on a fresh start. */
  version: number | null;
  configHash: string | null;
}

export type FromProxy =
  | Hello
  | { type: 'ack'; version: number }
  | { type: 'nack'; version: number; error: string }
  | { type: 'heartbeat' }
  | { type: 'resync' }
  | { type: 'bye' };

export type FromControl =
  | { type: 'welcome'; heartbeatMs: number; controlVersion: string }
  | { type: 'snapshot'; version: number; configVersion: number; config: ConfigDocument }
  | {
      type: 'delta';
      version: number;
      base: number;
      configVersion: number;
      /** Changed top-level sections; `clusters` here is by name. */
      set: Record<string, unknown>;
      remove: { clusters: string[] };
    }
  | { type: 'error'; code: string; message: string };

interface NamedCluster {
  name: string;
}

/** The change from `from` to `to`; null when they are the same. */
export function diffConfig(from: ConfigDocument, to: ConfigDocument): { set: Record<string, unknown>; remove: { clusters: string[] } } | null {
  const set: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(from), ...Object.keys(to)])) {
    if (k === 'clusters') continue;
    if (JSON.stringify(from[k]) !== JSON.stringify(to[k])) set[k] = to[k] ?? null;
  }
  const before = clustersByName(from);
  const after = clustersByName(to);
  const clusters: Record<string, unknown> = {};
  for (const [name, c] of after) if (JSON.stringify(before.get(name)) !== JSON.stringify(c)) clusters[name] = c;
  const removed = [...before.keys()].filter((n) => !after.has(n));
  if (Object.keys(clusters).length > 0) set.clusters = clusters;
  if (Object.keys(set).length === 0 && removed.length === 0) return null;
  return { set, remove: { clusters: removed } };
}

/** `base` with a delta applied; cluster order follows `base`, new clusters appended. */
export function applyDelta(base: ConfigDocument, set: Record<string, unknown>, remove: { clusters: string[] }): ConfigDocument {
  const out: ConfigDocument = { ...base };
  for (const [k, v] of Object.entries(set)) {
    if (k === 'clusters') continue;
    if (v === null) delete out[k];
    else out[k] = v;
  }
  const changed = (set.clusters ?? {}) as Record<string, unknown>;
  const gone = new Set(remove.clusters);
  const list: unknown[] = [];
  const seen = new Set<string>();
  for (const c of (base.clusters ?? []) as NamedCluster[]) {
    if (gone.has(c.name)) continue;
    seen.add(c.name);
    list.push(changed[c.name] ?? c);
  }
  for (const [name, c] of Object.entries(changed)) if (!seen.has(name)) list.push(c);
  out.clusters = list;
  return out;
}

function clustersByName(doc: ConfigDocument): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const c of (doc.clusters ?? []) as NamedCluster[]) m.set(c.name, c);
  return m;
}

/** Hex sha256 of a config document in a canonical form (keys sorted, clusters by name), equal on both sides of the stream. */
export function configHash(doc: ConfigDocument): string {
  const clusters = [...((doc.clusters ?? []) as NamedCluster[])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return createHash('sha256').update(canonicalJson({ ...doc, clusters })).digest('hex');
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
