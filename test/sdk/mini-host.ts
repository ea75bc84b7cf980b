// A deliberately small proxy-wasm host for the SDK tests, standing in until
// the real emulator (sdk/testing) is usable here. It implements just what the
// tests drive: logging, plugin_root_id, configuration buffers, the four HTTP
// header maps, local responses and foreign calls (recorded). Every other
// import answers OK without writing results, and is recorded in `calls`.
import * as fs from 'node:fs';

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;

/** The host functions of proxy-wasm ABI 0.2.1 (module "env"). */
export const ABI_0_2_1_HOST_FUNCTIONS = new Set([
  'proxy_log', 'proxy_get_log_level', 'proxy_set_effective_context', 'proxy_done',
  'proxy_get_current_time_nanoseconds', 'proxy_set_tick_period_milliseconds',
  'proxy_get_buffer_bytes', 'proxy_set_buffer_bytes', 'proxy_get_buffer_status',
  'proxy_get_header_map_size', 'proxy_get_header_map_pairs', 'proxy_set_header_map_pairs',
  'proxy_get_header_map_value', 'proxy_add_header_map_value', 'proxy_replace_header_map_value',
  'proxy_remove_header_map_value', 'proxy_continue_stream', 'proxy_close_stream', 'proxy_get_status',
  'proxy_send_local_response', 'proxy_http_call', 'proxy_grpc_call', 'proxy_grpc_stream', 'proxy_grpc_send',
  'proxy_grpc_cancel', 'proxy_grpc_close', 'proxy_get_shared_data', 'proxy_set_shared_data',
  'proxy_register_shared_queue', 'proxy_resolve_shared_queue', 'proxy_enqueue_shared_queue',
  'proxy_dequeue_shared_queue', 'proxy_define_metric', 'proxy_record_metric', 'proxy_increment_metric',
  'proxy_get_metric', 'proxy_get_property', 'proxy_set_property', 'proxy_call_foreign_function',
]);

const OK = 0;
const NOT_FOUND = 1;
const BUFFER_VM_CONFIGURATION = 6;
const BUFFER_PLUGIN_CONFIGURATION = 7;

export type Pairs = [string, string][];

export function encodePairs(pairs: Pairs): Buffer {
  const parts = pairs.map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as const);
  const head = Buffer.alloc(4 + 8 * parts.length);
  head.writeUInt32LE(parts.length, 0);
  parts.forEach(([k, v], i) => {
    head.writeUInt32LE(k.length, 4 + 8 * i);
    head.writeUInt32LE(v.length, 8 + 8 * i);
  });
  const nul = Buffer.alloc(1);
  return Buffer.concat([head, ...parts.flatMap(([k, v]) => [k, nul, v, nul])]);
}

export function decodePairs(b: Buffer): Pairs {
  if (b.length < 4) return [];
  const n = b.readUInt32LE(0);
  let at = 4 + 8 * n;
  const out: Pairs = [];
  for (let i = 0; i < n; i++) {
    const kl = b.readUInt32LE(4 + 8 * i);
    const vl = b.readUInt32LE(8 + 8 * i);
    out.push([b.subarray(at, at + kl).toString(), b.subarray(at + kl + 1, at + kl + 1 + vl).toString()]);
    at += kl + vl + 2;
  }
  return out;
}

export interface LocalResponse {
  status: number;
  details: string;
  body: string;
  headers: Pairs;
  grpcStatus: number;
}

export class MiniHost {
  readonly logs: { level: (typeof LEVELS)[number]; message: string }[] = [];
  readonly calls: { name: string; args: number[] }[] = [];
  readonly foreign: { name: string; args: Buffer }[] = [];
  readonly localResponses: LocalResponse[] = [];
  /** Header maps by MapType (0 request headers, 1 request trailers, 2 response headers, 3 response trailers). */
  readonly maps = new Map<number, Pairs>();
  readonly properties = new Map<string, Buffer>();
  vmConfig = Buffer.alloc(0);
  pluginConfig = Buffer.alloc(0);
  logLevel = 0;
  private memory!: WebAssembly.Memory;
  exports!: Record<string, (...a: number[]) => number>;

  static async load(wasmPath: string, setup?: (h: MiniHost) => void): Promise<MiniHost> {
    const host = new MiniHost();
    setup?.(host);
    const module = await WebAssembly.compile(fs.readFileSync(wasmPath));
    const instance = await WebAssembly.instantiate(module, host.importObject(module));
    host.exports = instance.exports as unknown as Record<string, (...a: number[]) => number>;
    host.memory = instance.exports.memory as WebAssembly.Memory;
    host.exports._initialize!();
    return host;
  }

  setRootId(rootId: string): void {
    this.properties.set('plugin_root_id', Buffer.from(rootId));
  }

  /** Messages logged at `level`. */
  messages(level: (typeof LEVELS)[number]): string[] {
    return this.logs.filter((l) => l.level === level).map((l) => l.message);
  }

  header(map: number, name: string): string | undefined {
    return this.maps.get(map)?.find(([k]) => k === name)?.[1];
  }

  /** Copies bytes into memory the guest allocates (proxy_on_memory_allocate); returns [ptr, len]. */
  give(data: Buffer | string): [number, number] {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    const ptr = this.exports.proxy_on_memory_allocate!(b.length);
    new Uint8Array(this.memory.buffer, ptr, b.length).set(b);
    return [ptr, b.length];
  }

  private bytes(ptr: number, len: number): Buffer {
    return Buffer.from(new Uint8Array(this.memory.buffer, ptr, len));
  }

  private u32(ptr: number, v: number): void {
    new DataView(this.memory.buffer).setUint32(ptr, v, true);
  }

  /** Returns data the way a host does: guest allocation, then pointer and size. */
  private ret(data: Buffer, ptrPtr: number, sizePtr: number): number {
    const [p, n] = this.give(data);
    this.u32(ptrPtr, p);
    this.u32(sizePtr, n);
    return OK;
  }

  private importObject(module: WebAssembly.Module): WebAssembly.Imports {
    const mapOf = (t: number): Pairs => {
      let m = this.maps.get(t);
      if (!m) this.maps.set(t, (m = []));
      return m;
    };
    const str = (p: number, n: number) => this.bytes(p, n).toString();
    const impl: Record<string, (...a: number[]) => number> = {
      proxy_log: (level, p, n) => (this.logs.push({ level: LEVELS[level]!, message: str(p, n) }), OK),
      proxy_get_log_level: (ret) => (this.u32(ret, this.logLevel), OK),
      proxy_set_effective_context: () => OK,
      proxy_get_property: (p, n, retPtr, retSize) => {
        const v = this.properties.get(str(p, n).split('\0').join('.'));
        return v ? this.ret(v, retPtr, retSize) : NOT_FOUND;
      },
      proxy_get_buffer_bytes: (type, start, max, retPtr, retSize) => {
        const b = type === BUFFER_VM_CONFIGURATION ? this.vmConfig : type === BUFFER_PLUGIN_CONFIGURATION ? this.pluginConfig : null;
        return b ? this.ret(b.subarray(start, start + max), retPtr, retSize) : NOT_FOUND;
      },
      proxy_get_header_map_value: (t, kp, kn, retPtr, retSize) => {
        const v = mapOf(t).find(([k]) => k === str(kp, kn));
        return v ? this.ret(Buffer.from(v[1]), retPtr, retSize) : NOT_FOUND;
      },
      proxy_get_header_map_pairs: (t, retPtr, retSize) => this.ret(encodePairs(mapOf(t)), retPtr, retSize),
      proxy_set_header_map_pairs: (t, p, n) => (this.maps.set(t, decodePairs(this.bytes(p, n))), OK),
      proxy_add_header_map_value: (t, kp, kn, vp, vn) => (mapOf(t).push([str(kp, kn), str(vp, vn)]), OK),
      proxy_replace_header_map_value: (t, kp, kn, vp, vn) => {
        const k = str(kp, kn);
        this.maps.set(t, [...mapOf(t).filter(([x]) => x !== k), [k, str(vp, vn)]]);
        return OK;
      },
      proxy_remove_header_map_value: (t, kp, kn) => {
        const k = str(kp, kn);
        this.maps.set(t, mapOf(t).filter(([x]) => x !== k));
        return OK;
      },
      proxy_send_local_response: (status, dp, dn, bp, bn, hp, hn, grpc) => {
        this.localResponses.push({ status, details: str(dp, dn), body: str(bp, bn), headers: decodePairs(this.bytes(hp, hn)), grpcStatus: grpc });
        return OK;
      },
      proxy_call_foreign_function: (np, nn, ap, an) => {
        this.foreign.push({ name: str(np, nn), args: this.bytes(ap, an) });
        return OK; // no result written: the guest sees empty bytes
      },
    };
    const env: Record<string, (...a: number[]) => number> = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.module !== 'env' || imp.kind !== 'function') continue;
      const f = impl[imp.name];
      env[imp.name] = (...args: number[]) => {
        this.calls.push({ name: imp.name, args });
        return f ? f(...args) : OK;
      };
    }
    return { env };
  }
}
