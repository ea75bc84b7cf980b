// Envoy-style attributes for proxy_get_property. Strings come back as UTF-8,
// integers as 8-byte little-endian i64, as Envoy serializes them.
// docs/filter-abi.md lists every path.
import type { FilterStream } from '../filter/types';
import type { PluginVm } from './vm';

export type PropertyValue = string | bigint | Uint8Array;

/** Splits a path: NUL-separated (Rust/Go SDKs) or dotted (the AssemblyScript convention). */
export function splitPath(path: string): string[] {
  if (path.includes('\0')) return path.split('\0');
  const parts = path.split('.');
  // Header names and metadata keys may themselves contain dots: keep the tail whole.
  if (parts.length > 3 && (parts[1] === 'headers' || parts[1] === 'metadata')) return [parts[0]!, parts[1]!, parts.slice(2).join('.')];
  return parts;
}

function hostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  return i < 0 ? [addr, 0] : [addr.slice(0, i), Number(addr.slice(i + 1)) || 0];
}

/** Filters read the same few paths on every request: keep them split, with their filter-state key. */
interface ParsedPath {
  parts: string[];
  /** The NUL-joined form, under which set_property stores filter state. */
  key: string;
}
const splitCache = new Map<string, ParsedPath>();

function parsePath(path: string): ParsedPath {
  let p = splitCache.get(path);
  if (p === undefined) {
    const parts = splitPath(path);
    p = { parts, key: parts.join('\0') };
    if (splitCache.size >= 512) splitCache.clear();
    splitCache.set(path, p);
  }
  return p;
}

export function getProperty(vm: PluginVm, s: FilterStream | null, path: string): PropertyValue | undefined {
  const parsed = parsePath(path);
  const p = parsed.parts;
  const a = p[0];
  const b = p[1];
  const c = p[2];
  switch (a) {
    case 'plugin_name':
      return vm.spec.name;
    case 'plugin_root_id':
      return vm.spec.rootId;
    case 'plugin_vm_id':
      return vm.spec.vmId;
    case 'node':
      if (b === 'id') return vm.env.node.id;
      if (b === 'metadata' && c !== undefined) return vm.env.node.metadata[c];
      return undefined;
  }
  if (s === null) return undefined;
  if (s.state.size > 0) {
    const own = s.state.get(parsed.key);
    if (own !== undefined) return own;
  }
  const info = s.info;
  switch (a) {
    case 'request':
      switch (b) {
        case 'path':
          return s.path;
        case 'url_path': {
          const q = s.path.indexOf('?');
          return q < 0 ? s.path : s.path.slice(0, q);
        }
        case 'query': {
          const q = s.path.indexOf('?');
          return q < 0 ? '' : s.path.slice(q + 1);
        }
        case 'host':
          return s.requestHeaders.get('host') ?? '';
        case 'method':
          return s.method;
        case 'scheme':
          return s.scheme;
        case 'id':
          return info.requestId;
        case 'protocol':
          return 'HTTP/1.1';
        case 'time':
          return BigInt(info.startTimeMs) * 1_000_000n;
        case 'size':
        case 'total_size':
          return BigInt(info.bytesReceived);
        case 'headers':
          if (c === undefined) return undefined;
          return joined(s.requestHeaders.getAll(c));
      }
      return undefined;
    case 'response':
      switch (b) {
        case 'code':
          return s.responseStatus === 0 ? undefined : BigInt(s.responseStatus);
        case 'flags':
          return info.responseFlag;
        case 'code_details':
          return info.responseDetails;
        case 'size':
        case 'total_size':
          return BigInt(info.bytesSent);
        case 'headers':
          if (c === undefined || s.responseHeaders === null) return undefined;
          return joined(s.responseHeaders.getAll(c));
      }
      return undefined;
    case 'source':
      if (b === 'address') return joinHostPort(info.sourceAddress, info.sourcePort);
      if (b === 'port') return BigInt(info.sourcePort);
      return undefined;
    case 'destination': {
      const [, port] = hostPort(info.destinationAddress);
      if (b === 'address') return info.destinationAddress;
      if (b === 'port') return BigInt(port);
      return undefined;
    }
    case 'upstream':
      if (b === 'address') return info.upstreamHost || undefined;
      return undefined;
    case 'listener_name':
      return info.listenerName;
    case 'cluster_name':
      return info.clusterName || s.route.cluster || undefined;
    case 'route_name':
      return '';
  }
  return undefined;
}

/** "ip:port", with IPv6 in brackets as Envoy writes it. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function joined(values: string[]): string | undefined {
  return values.length === 0 ? undefined : values.join(',');
}

/** Integers go through one scratch buffer: the caller copies it into guest memory at once. */
const scratchI64 = Buffer.alloc(8);

export function encodeProperty(v: PropertyValue): Uint8Array {
  if (typeof v === 'string') return Buffer.from(v);
  if (typeof v === 'bigint') {
    scratchI64.writeBigInt64LE(v);
    return scratchI64;
  }
  return v;
}
