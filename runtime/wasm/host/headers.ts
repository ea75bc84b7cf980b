// Header-map host functions. Request maps present the pseudo-headers
// :authority, :path, :method and :scheme first (HTTP/1 "host" is :authority);
// response maps present :status. Pairs are serialized only when the guest asks
// for the whole map.
import { MapType, WasmResult } from '../abi';
import type { FilterStream } from '../../filter/types';
import { pairsSize, readPairs, writePairs, type PairSource } from '../header-pairs';
import type { PluginVm } from '../vm';

/** The pairs of one map, positional, with pseudo-headers first. Reused per VM. */
class MapPairs implements PairSource {
  count = 0;
  private s: FilterStream | null = null;
  private type: MapType = MapType.RequestHeaders;
  private hostIdx = -1;
  private extra: [string, string][] | null = null;
  private status = 0;

  forStream(s: FilterStream, type: MapType): this {
    this.s = s;
    this.type = type;
    this.extra = null;
    if (type === MapType.RequestHeaders) {
      const h = s.requestHeaders;
      this.hostIdx = -1;
      for (let i = 0; i < h.size; i++) if (h.nameAt(i) === 'host') this.hostIdx = i;
      this.count = 4 + h.size - (this.hostIdx >= 0 ? 1 : 0);
    } else {
      this.count = 1 + (s.responseHeaders?.size ?? 0);
    }
    return this;
  }

  forList(status: number, list: [string, string][]): this {
    this.s = null;
    this.extra = list;
    this.status = status;
    this.count = 1 + list.length;
    return this;
  }

  name(i: number): string {
    if (this.extra !== null) return i === 0 ? ':status' : this.extra[i - 1]![0];
    if (this.type === MapType.RequestHeaders) {
      if (i < 4) return REQUEST_PSEUDO[i]!;
      return this.s!.requestHeaders.nameAt(this.reqIndex(i));
    }
    return i === 0 ? ':status' : this.s!.responseHeaders!.nameAt(i - 1);
  }

  value(i: number): string {
    if (this.extra !== null) return i === 0 ? String(this.status) : this.extra[i - 1]![1];
    const s = this.s!;
    if (this.type === MapType.RequestHeaders) {
      switch (i) {
        case 0:
          return s.requestHeaders.get('host') ?? '';
        case 1:
          return s.path;
        case 2:
          return s.method;
        case 3:
          return s.scheme;
      }
      return s.requestHeaders.valueAt(this.reqIndex(i));
    }
    return i === 0 ? String(s.responseStatus) : s.responseHeaders!.valueAt(i - 1);
  }

  private reqIndex(i: number): number {
    const j = i - 4;
    return this.hostIdx >= 0 && j >= this.hostIdx ? j + 1 : j;
  }
}

const REQUEST_PSEUDO = [':authority', ':path', ':method', ':scheme'];

export function headerImports(vm: PluginVm): Record<string, Function> {
  const mem = vm.mem;
  const pairs = new MapPairs();

  /** The stream a map type refers to, or null when that map does not exist now. */
  function source(type: number): MapPairs | null {
    if (type === MapType.HttpCallResponseHeaders) {
      const c = vm.callout;
      return c === null || c.status === 0 ? null : pairs.forList(c.status, c.headers);
    }
    if (type === MapType.HttpCallResponseTrailers) return vm.callout === null ? null : pairs.forList(0, []);
    const f = vm.effective;
    if (f === null) return null;
    if (type === MapType.RequestHeaders) return pairs.forStream(f.stream, MapType.RequestHeaders);
    if (type === MapType.ResponseHeaders) return f.stream.responseHeaders === null && f.stream.responseStatus === 0 ? null : pairs.forStream(f.stream, MapType.ResponseHeaders);
    return null;
  }

  function stream(type: number): FilterStream | null {
    const f = vm.effective;
    if (f === null) return null;
    if (type === MapType.RequestHeaders) return f.stream;
    if (type === MapType.ResponseHeaders && (f.stream.responseHeaders !== null || f.stream.responseStatus !== 0)) return f.stream;
    return null;
  }

  function getValue(type: number, name: string): string | undefined {
    if (type === MapType.HttpCallResponseHeaders) {
      const c = vm.callout;
      if (c === null || c.status === 0) return undefined;
      if (name === ':status') return String(c.status);
      for (const [k, v] of c.headers) if (k === name) return v;
      return undefined;
    }
    const s = stream(type);
    if (s === null) return undefined;
    if (type === MapType.RequestHeaders) {
      switch (name) {
        case ':authority':
          return s.requestHeaders.getLower('host');
        case ':path':
          return s.path;
        case ':method':
          return s.method;
        case ':scheme':
          return s.scheme;
      }
      // Names reach here lower-cased already (GuestMemory.lowerToken).
      return s.requestHeaders.getLower(name);
    }
    if (name === ':status') return String(s.responseStatus);
    return s.responseHeaders?.getLower(name);
  }

  /** Writes one header; pseudo-headers change the stream itself. */
  function put(s: FilterStream, type: number, name: string, value: string, add: boolean): WasmResult {
    if (type === MapType.RequestHeaders) {
      switch (name) {
        case ':authority':
        case 'host':
          s.requestHeaders.set('host', value);
          return WasmResult.Ok;
        case ':path':
          s.path = value;
          return WasmResult.Ok;
        case ':method':
          s.method = value;
          return WasmResult.Ok;
        case ':scheme':
          return WasmResult.Ok;
      }
      if (add) s.requestHeaders.add(name, value);
      else s.requestHeaders.set(name, value);
      return WasmResult.Ok;
    }
    if (name === ':status') {
      const code = Number(value);
      if (!Number.isInteger(code) || code < 100 || code > 999) return WasmResult.BadArgument;
      s.responseStatus = code;
      return WasmResult.Ok;
    }
    const h = s.responseHeaders;
    if (h === null) return WasmResult.NotFound;
    if (add) h.add(name, value);
    else h.set(name, value);
    return WasmResult.Ok;
  }

  return {
    proxy_get_header_map_size(type: number, retSize: number): number {
      const src = source(type);
      if (src === null) return WasmResult.NotFound;
      mem.setU32(retSize, pairsSize(src));
      return WasmResult.Ok;
    },
    proxy_get_header_map_pairs(type: number, retPtr: number, retSize: number): number {
      const src = source(type);
      if (src === null) return WasmResult.NotFound;
      const size = pairsSize(src);
      const p = writePairs(mem, src, size);
      if (p === 0) return WasmResult.InvalidMemoryAccess;
      mem.setU32(retPtr, p);
      mem.setU32(retSize, size);
      return WasmResult.Ok;
    },
    proxy_set_header_map_pairs(type: number, ptr: number, len: number): number {
      const s = stream(type);
      if (s === null) return WasmResult.NotFound;
      if (!mem.inBounds(ptr, len)) return WasmResult.InvalidMemoryAccess;
      const list = readPairs(mem.view(), ptr, len);
      if (list === null) return WasmResult.ParseFailure;
      const h = type === MapType.RequestHeaders ? s.requestHeaders : s.responseHeaders!;
      while (h.size > 0) h.remove(h.nameAt(0));
      for (const [k, v] of list) put(s, type, k.toLowerCase(), v, true);
      return WasmResult.Ok;
    },
    proxy_get_header_map_value(type: number, kPtr: number, kLen: number, retPtr: number, retSize: number): number {
      if (!mem.inBounds(kPtr, kLen)) return WasmResult.InvalidMemoryAccess;
      const v = getValue(type, mem.lowerToken(kPtr, kLen));
      if (v === undefined) return WasmResult.NotFound;
      return mem.giveString(v, retPtr, retSize) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_add_header_map_value(type: number, kPtr: number, kLen: number, vPtr: number, vLen: number): number {
      const s = stream(type);
      if (s === null) return WasmResult.NotFound;
      if (!mem.inBounds(kPtr, kLen) || !mem.inBounds(vPtr, vLen)) return WasmResult.InvalidMemoryAccess;
      return put(s, type, mem.lowerToken(kPtr, kLen), mem.string(vPtr, vLen), true);
    },
    proxy_replace_header_map_value(type: number, kPtr: number, kLen: number, vPtr: number, vLen: number): number {
      const s = stream(type);
      if (s === null) return WasmResult.NotFound;
      if (!mem.inBounds(kPtr, kLen) || !mem.inBounds(vPtr, vLen)) return WasmResult.InvalidMemoryAccess;
      return put(s, type, mem.lowerToken(kPtr, kLen), mem.string(vPtr, vLen), false);
    },
    proxy_remove_header_map_value(type: number, kPtr: number, kLen: number): number {
      const s = stream(type);
      if (s === null) return WasmResult.NotFound;
      if (!mem.inBounds(kPtr, kLen)) return WasmResult.InvalidMemoryAccess;
      const name = mem.lowerToken(kPtr, kLen);
      if (name.startsWith(':')) return WasmResult.BadArgument;
      if (type === MapType.RequestHeaders) s.requestHeaders.remove(name);
      else s.responseHeaders?.remove(name);
      return WasmResult.Ok;
    },
  };
}
