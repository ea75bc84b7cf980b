// A tiny Wasm assembler for tests: encode sections and instruction bytes by
// hand, so a test shows exactly which opcodes and immediates it exercises.
// Also a typed handle on the WebAssembly global (the repo's lib has no DOM
// typings), kept to what the tests and benchmarks use.

export type Bytes = number[];

// --- the WebAssembly JS API, minimally typed -------------------------------

export interface WasmModule {
  readonly __brand?: 'WebAssembly.Module';
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export interface WasmGlobal {
  value: number | bigint;
}
type Imports = Record<string, Record<string, unknown>>;
interface WasmApi {
  Module: { new (bytes: Uint8Array): WasmModule; imports(m: WasmModule): { module: string; name: string; kind: string }[]; exports(m: WasmModule): { name: string; kind: string }[] };
  Instance: new (module: WasmModule, imports?: Imports) => WasmInstance;
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Global: new (d: { value: string; mutable?: boolean }, v?: number | bigint) => WasmGlobal;
  RuntimeError: new (message?: string) => Error;
  CompileError: new (message?: string) => Error;
  LinkError: new (message?: string) => Error;
  validate(bytes: Uint8Array): boolean;
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Compiles and instantiates; returns the exports. */
export function instantiate(bytes: Uint8Array, imports: Imports = {}): Record<string, unknown> {
  return new wasm.Instance(new wasm.Module(bytes), imports).exports;
}

// --- encodings --------------------------------------------------------------

export const T = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b, funcref: 0x70, externref: 0x6f } as const;
export const EMPTY = 0x40; // empty block type
export const KIND = { func: 0, table: 1, memory: 2, global: 3, tag: 4 } as const;

export function u32(n: number): Bytes {
  const out: Bytes = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

export function s32(n: number): Bytes {
  return s64(BigInt(n | 0));
}

export function s64(n: bigint): Bytes {
  const out: Bytes = [];
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function f32(x: number): Bytes {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return [...b];
}

export function f64(x: number): Bytes {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return [...b];
}

export function str(s: string): Bytes {
  const b = Buffer.from(s, 'utf8');
  return [...u32(b.length), ...b];
}

// concat, not spread: a 200 KB code section would overflow a spread's argument list.
export function vec(items: Bytes[]): Bytes {
  return u32(items.length).concat(...items);
}

export function section(id: number, payload: Bytes): Bytes {
  return [id].concat(u32(payload.length), payload);
}

export function limits(min: number, max?: number, shared = false): Bytes {
  const flags = (max !== undefined ? 1 : 0) | (shared ? 2 : 0);
  return [flags, ...u32(min), ...(max !== undefined ? u32(max) : [])];
}

/** The 8-byte module header. */
export const HEADER: Bytes = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

// --- opcodes ----------------------------------------------------------------

export const op = {
  unreachable: 0x00, nop: 0x01, block: 0x02, loop: 0x03, if: 0x04, else: 0x05,
  try: 0x06, catch: 0x07, throw: 0x08, rethrow: 0x09, end: 0x0b,
  br: 0x0c, br_if: 0x0d, br_table: 0x0e, return: 0x0f, call: 0x10, call_indirect: 0x11,
  return_call: 0x12, delegate: 0x18, catch_all: 0x19, drop: 0x1a, select: 0x1b, select_t: 0x1c,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  table_get: 0x25, table_set: 0x26,
  i32_load: 0x28, i64_load: 0x29, i32_load8_u: 0x2d, i32_store: 0x36, i64_store: 0x37, i32_store8: 0x3a,
  memory_size: 0x3f, memory_grow: 0x40,
  i32_const: 0x41, i64_const: 0x42, f32_const: 0x43, f64_const: 0x44,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a, i32_gt_u: 0x4b,
  i32_le_s: 0x4c, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  i64_eqz: 0x50, i64_eq: 0x51,
  i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_div_s: 0x6d, i32_rem_u: 0x70, i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73, i32_shl: 0x74,
  i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e,
  f64_add: 0xa0, f64_mul: 0xa2,
  i32_wrap_i64: 0xa7, i32_trunc_f64_s: 0xaa, i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad, f64_convert_i32_s: 0xb7,
  i32_extend8_s: 0xc0, i32_extend16_s: 0xc1, i64_extend32_s: 0xc4,
  ref_null: 0xd0, ref_is_null: 0xd1, ref_func: 0xd2,
  prefix_fc: 0xfc, prefix_fd: 0xfd, prefix_fe: 0xfe,
} as const;

/** A 0xFC / 0xFD / 0xFE prefixed opcode. */
export function fc(sub: number, ...imm: number[]): Bytes {
  return [0xfc, ...u32(sub), ...imm];
}
export function fd(sub: number, ...imm: number[]): Bytes {
  return [0xfd, ...u32(sub), ...imm];
}
export function fe(sub: number, ...imm: number[]): Bytes {
  return [0xfe, ...u32(sub), ...imm];
}
export function i32c(n: number): Bytes {
  return [op.i32_const, ...s32(n)];
}
export function i64c(n: bigint): Bytes {
  return [op.i64_const, ...s64(n)];
}

// --- the module builder -----------------------------------------------------

interface FuncDef {
  type: number;
  locals: number[];
  body: Bytes;
}

/**
 * Assembles a module section by section in the spec order. Imports must be
 * declared before definitions of the same kind, since they come first in the
 * index spaces. Function bodies get their final `end` appended.
 */
export class ModuleBuilder {
  private readonly types: Bytes[] = [];
  private readonly imports: Bytes[] = [];
  private readonly funcs: FuncDef[] = [];
  private readonly tables: Bytes[] = [];
  private readonly memories: Bytes[] = [];
  private readonly tags: Bytes[] = [];
  private readonly globals: Bytes[] = [];
  private readonly exports: Bytes[] = [];
  private readonly elems: Bytes[] = [];
  private readonly datas: Bytes[] = [];
  private readonly customs: Bytes[] = [];
  private startFunc = -1;
  private importedFuncs = 0;
  private importedGlobals = 0;
  private importedMemories = 0;

  type(params: number[], results: number[]): number {
    const enc = [0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))];
    const key = enc.join(',');
    const i = this.types.findIndex((t) => t.join(',') === key);
    if (i >= 0) return i;
    this.types.push(enc);
    return this.types.length - 1;
  }

  importFunction(module: string, name: string, params: number[], results: number[]): number {
    if (this.funcs.length > 0) throw new Error('import functions before defining any');
    this.imports.push([...str(module), ...str(name), KIND.func, ...u32(this.type(params, results))]);
    return this.importedFuncs++;
  }

  importMemory(module: string, name: string, min: number, max?: number, shared = false): number {
    if (this.memories.length > 0) throw new Error('import memories before defining any');
    this.imports.push([...str(module), ...str(name), KIND.memory, ...limits(min, max, shared)]);
    return this.importedMemories++;
  }

  importGlobal(module: string, name: string, type: number, mutable: boolean): number {
    if (this.globals.length > 0) throw new Error('import globals before defining any');
    this.imports.push([...str(module), ...str(name), KIND.global, type, mutable ? 1 : 0]);
    return this.importedGlobals++;
  }

  importTable(module: string, name: string, min: number, max?: number): void {
    this.imports.push([...str(module), ...str(name), KIND.table, T.funcref, ...limits(min, max)]);
  }

  /** Defines a function; returns its index. `export` also exports it under that name. */
  func(params: number[], results: number[], body: Bytes, opts: { locals?: number[]; export?: string } = {}): number {
    const index = this.importedFuncs + this.funcs.length;
    this.funcs.push({ type: this.type(params, results), locals: opts.locals ?? [], body });
    if (opts.export !== undefined) this.export(opts.export, KIND.func, index);
    return index;
  }

  table(min: number, max?: number, elem: number = T.funcref): number {
    this.tables.push([elem, ...limits(min, max)]);
    return this.tables.length - 1;
  }

  memory(min: number, max?: number, shared = false, exportAs?: string): number {
    const index = this.importedMemories + this.memories.length;
    this.memories.push(limits(min, max, shared));
    if (exportAs !== undefined) this.export(exportAs, KIND.memory, index);
    return index;
  }

  tag(params: number[]): number {
    this.tags.push([0x00, ...u32(this.type(params, []))]);
    return this.tags.length - 1;
  }

  /** A defined global; `init` is its constant expression without the final end. */
  global(type: number, mutable: boolean, init: Bytes, exportAs?: string): number {
    const index = this.importedGlobals + this.globals.length;
    this.globals.push([type, mutable ? 1 : 0, ...init, op.end]);
    if (exportAs !== undefined) this.export(exportAs, KIND.global, index);
    return index;
  }

  export(name: string, kind: number, index: number): this {
    this.exports.push([...str(name), kind, ...u32(index)]);
    return this;
  }

  start(func: number): this {
    this.startFunc = func;
    return this;
  }

  /** An active element segment for table 0 at a constant offset. */
  elem(offset: number, funcs: number[]): this {
    this.elems.push([0x00, ...i32c(offset), op.end, ...vec(funcs.map((f) => u32(f)))]);
    return this;
  }

  /** A passive element segment of function references (for table.init). */
  passiveElem(funcs: number[]): number {
    this.elems.push([0x01, 0x00, ...vec(funcs.map((f) => u32(f)))]);
    return this.elems.length - 1;
  }

  /** A declarative element segment, so ref.func may name these functions. */
  declare(funcs: number[]): this {
    this.elems.push([0x03, 0x00, ...vec(funcs.map((f) => u32(f)))]);
    return this;
  }

  /** An active data segment for memory 0, or a passive one when offset is null. */
  data(offset: number | null, bytes: Bytes): number {
    this.datas.push(offset === null ? [0x01, ...u32(bytes.length), ...bytes] : [0x00, ...i32c(offset), op.end, ...u32(bytes.length), ...bytes]);
    return this.datas.length - 1;
  }

  /** A custom section, emitted after the header (at: 'start') or at the end. */
  custom(name: string, payload: Bytes, at: 'start' | 'end' = 'end'): this {
    const s = section(0, [...str(name), ...payload]);
    this.customs.push([at === 'start' ? 1 : 0, ...s]);
    return this;
  }

  build(): Uint8Array {
    let out: Bytes = [...HEADER];
    const add = (id: number, items: Bytes[]): void => {
      if (items.length > 0) out = out.concat(section(id, vec(items)));
    };
    for (const c of this.customs) if (c[0] === 1) out = out.concat(c.slice(1));
    add(1, this.types);
    add(2, this.imports);
    add(3, this.funcs.map((f) => u32(f.type)));
    add(4, this.tables);
    add(5, this.memories);
    add(13, this.tags);
    add(6, this.globals);
    add(7, this.exports);
    if (this.startFunc >= 0) out = out.concat(section(8, u32(this.startFunc)));
    add(9, this.elems);
    if (this.datas.length > 0) out = out.concat(section(12, u32(this.datas.length)));
    add(
      10,
      this.funcs.map((f) => {
        const groups: Bytes[] = [];
        for (const t of f.locals) {
          const last = groups[groups.length - 1];
          if (last !== undefined && last[1] === t) last[0]++;
          else groups.push([1, t]);
        }
        const body = [...vec(groups.map(([n, t]) => [...u32(n), t])), ...f.body, op.end];
        return [...u32(body.length), ...body];
      }),
    );
    add(11, this.datas);
    for (const c of this.customs) if (c[0] === 0) out = out.concat(c.slice(1));
    return Uint8Array.from(out);
  }
}
