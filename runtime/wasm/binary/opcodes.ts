// The instruction decoder. Metering only needs the loop headers, but finding
// them means stepping over every immediate exactly, so each opcode's immediate
// shape is tabulated from the spec: MVP, sign-extension, multi-value, reference
// types, bulk memory and saturating truncation (0xFC), SIMD incl. relaxed SIMD
// (0xFD), threads (0xFE), tail calls, typed function references and exception
// handling (legacy try/catch/delegate and try_table). Anything else, e.g. GC
// (0xFB), is refused by name rather than guessed at: a wrong guess would
// desynchronise the decoder and could hide a loop from the meter.
import { malformed, Reader } from './reader';
import { readHeapType, skipBlockType, skipValType } from './types';

/** What goes in at an insertion point. */
export const INSERT_FUEL = 0; // a fuel check: function entry, loop header
export const INSERT_GROW32 = 1; // call $grow_hook, after memory.grow on a 32-bit memory
export const INSERT_GROW64 = 2; // call $grow_hook64, after memory.grow on a 64-bit memory

/** A growable list of insertion points (offset and kind, in code order), reused across bodies. */
export class InsertList {
  at = new Int32Array(64);
  kind = new Uint8Array(64);
  length = 0;
  push(at: number, kind: number): void {
    if (this.length === this.at.length) {
      const a = new Int32Array(this.at.length * 2);
      a.set(this.at);
      this.at = a;
      const k = new Uint8Array(a.length);
      k.set(this.kind);
      this.kind = k;
    }
    this.kind[this.length] = kind;
    this.at[this.length++] = at;
  }
}

/** The module facts the scan checks indices against, and where it records insertion points. */
export interface ScanContext {
  /** The module's own globals (imported + defined): global.get/set must stay below. */
  globalCount: number;
  /** The module's own functions (imported + defined): call, return_call and ref.func must stay below. */
  funcCount: number;
  /** Per memory index, imports first: true for a 64-bit memory (its memory.grow takes and returns i64). */
  memory64: readonly boolean[];
  points: InsertList;
}

// Immediate shapes.
const INVALID = 0;
const NONE = 1;
const U32 = 2; // one LEB index: br, call, local.*, table.get, memory.size, ...
const U32X2 = 3; // call_indirect: type, table
const MEMARG = 4;
const BLOCK = 5; // block, if, try
const LOOP = 6;
const BR_TABLE = 7;
const I32 = 8;
const I64 = 9;
const F32 = 10;
const F64 = 11;
const SELECT_T = 12;
const REF_NULL = 13;
const GLOBAL = 14; // global.get / global.set: index is range-checked
const PREFIX_FC = 15;
const PREFIX_FD = 16;
const PREFIX_FE = 17;
const TRY_TABLE = 18;
const MEMARG_LANE = 19; // SIMD load/store lane
const LANE = 20; // SIMD extract/replace lane
const BYTES16 = 21; // v128.const, i8x16.shuffle
const BYTE = 22; // atomic.fence's reserved byte
const FUNC = 23; // call, return_call, ref.func: index is range-checked
const GROW = 24; // memory.grow: memory index, then a hook call is inserted

function table(size: number, entries: [from: number, to: number, kind: number][]): Uint8Array {
  const t = new Uint8Array(size); // INVALID by default
  for (const [from, to, kind] of entries) t.fill(kind, from, to + 1);
  return t;
}

const ONE_BYTE = table(256, [
  [0x00, 0x01, NONE], // unreachable, nop
  [0x02, 0x02, BLOCK],
  [0x03, 0x03, LOOP],
  [0x04, 0x04, BLOCK], // if
  [0x05, 0x05, NONE], // else
  [0x06, 0x06, BLOCK], // try (legacy EH)
  [0x07, 0x09, U32], // catch tag, throw tag, rethrow label
  [0x0a, 0x0b, NONE], // throw_ref, end
  [0x0c, 0x0d, U32], // br, br_if
  [0x0e, 0x0e, BR_TABLE],
  [0x0f, 0x0f, NONE], // return
  [0x10, 0x10, FUNC], // call
  [0x11, 0x11, U32X2], // call_indirect
  [0x12, 0x12, FUNC], // return_call
  [0x13, 0x13, U32X2], // return_call_indirect
  [0x14, 0x15, U32], // call_ref, return_call_ref
  [0x18, 0x18, U32], // delegate label
  [0x19, 0x19, NONE], // catch_all
  [0x1a, 0x1b, NONE], // drop, select
  [0x1c, 0x1c, SELECT_T],
  [0x1f, 0x1f, TRY_TABLE],
  [0x20, 0x22, U32], // local.get/set/tee
  [0x23, 0x24, GLOBAL],
  [0x25, 0x26, U32], // table.get/set
  [0x28, 0x3e, MEMARG], // loads, stores
  [0x3f, 0x3f, U32], // memory.size memidx
  [0x40, 0x40, GROW], // memory.grow memidx
  [0x41, 0x41, I32],
  [0x42, 0x42, I64],
  [0x43, 0x43, F32],
  [0x44, 0x44, F64],
  [0x45, 0xc4, NONE], // numeric, incl. sign-extension 0xc0-0xc4
  [0xd0, 0xd0, REF_NULL],
  [0xd1, 0xd1, NONE], // ref.is_null
  [0xd2, 0xd2, FUNC], // ref.func
  [0xd4, 0xd4, NONE], // ref.as_non_null
  [0xd5, 0xd6, U32], // br_on_null, br_on_non_null
  [0xfc, 0xfc, PREFIX_FC],
  [0xfd, 0xfd, PREFIX_FD],
  [0xfe, 0xfe, PREFIX_FE],
]);

const FC = table(18, [
  [0, 7, NONE], // i32/i64.trunc_sat_f32/f64_s/u
  [8, 8, U32X2], // memory.init data, mem
  [9, 9, U32], // data.drop
  [10, 10, U32X2], // memory.copy mem, mem
  [11, 11, U32], // memory.fill mem
  [12, 12, U32X2], // table.init elem, table
  [13, 13, U32], // elem.drop
  [14, 14, U32X2], // table.copy
  [15, 17, U32], // table.grow/size/fill
]);

const FD = table(0x114, [
  [0x00, 0x0b, MEMARG], // v128.load*, load*_splat, v128.store
  [0x0c, 0x0d, BYTES16], // v128.const, i8x16.shuffle
  [0x0e, 0x14, NONE], // swizzle, splats
  [0x15, 0x22, LANE], // extract_lane / replace_lane
  [0x23, 0x53, NONE], // comparisons, bitwise, any_true
  [0x54, 0x5b, MEMARG_LANE], // load/store*_lane
  [0x5c, 0x5d, MEMARG], // load32_zero, load64_zero
  [0x5e, 0xff, NONE], // arithmetic and conversions; the gaps are cleared below
  [0x100, 0x113, NONE], // relaxed SIMD
]);
// Reserved SIMD opcodes inside 0x5e..0xff.
for (const op of [0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee]) FD[op] = INVALID;

const FE = table(0x4f, [
  [0x00, 0x02, MEMARG], // memory.atomic.notify, wait32, wait64
  [0x03, 0x03, BYTE], // atomic.fence 0x00
  [0x10, 0x4e, MEMARG], // atomic loads, stores, rmw, cmpxchg
]);

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(2, '0');
}

function skipMemarg(r: Reader): void {
  const align = r.u32('memarg alignment');
  if (align & 0x40) r.skipLeb(5, 'memarg memory index'); // multi-memory
  r.skipLeb(10, 'memarg offset'); // u64 under memory64
}

/**
 * Decodes the instructions of one function body, r.pos (just past the locals)
 * to r.end, and records the insertion points: just after each loop's block
 * type (a fuel check) and just after each memory.grow (a call to the grow
 * hook). Indices that would, after instrumentation, reach what it appends are
 * refused: global.get/set past the module's own globals (the fuel global: the
 * guest could refill its own budget) and call/return_call/ref.func past its
 * own functions (the fuel setter, the grow hooks).
 */
export function scanInstructions(r: Reader, cx: ScanContext, funcIndex: number): void {
  const globalCount = cx.globalCount;
  const funcCount = cx.funcCount;
  const points = cx.points;
  const b = r.bytes;
  while (r.pos < r.end) {
    const at = r.pos;
    const op = b[r.pos++];
    switch (ONE_BYTE[op]) {
      case NONE:
        break;
      case U32: {
        const p = r.pos;
        if (p < r.end && b[p] < 0x80) r.pos = p + 1;
        else r.skipLeb(5, 'index immediate');
        break;
      }
      case GLOBAL: {
        const idx = r.u32('global index');
        if (idx >= globalCount) malformed(`global index ${idx} out of range (the module has ${globalCount} globals) in function ${funcIndex}`, at);
        break;
      }
      case FUNC: {
        const p = r.pos;
        let idx: number;
        if (p < r.end && b[p] < 0x80) {
          idx = b[p];
          r.pos = p + 1;
        } else {
          idx = r.u32('function index');
        }
        if (idx >= funcCount) malformed(`function index ${idx} out of range (the module has ${funcCount} functions) in function ${funcIndex}`, at);
        break;
      }
      case GROW: {
        const mem = r.u32('memory index');
        if (mem >= cx.memory64.length) malformed(`memory index ${mem} out of range (the module has ${cx.memory64.length} memories) in function ${funcIndex}`, at);
        points.push(r.pos, cx.memory64[mem] ? INSERT_GROW64 : INSERT_GROW32);
        break;
      }
      case MEMARG:
        skipMemarg(r);
        break;
      case I32:
        r.skipLeb(5, 'i32 constant');
        break;
      case BLOCK:
        skipBlockType(r);
        break;
      case LOOP:
        skipBlockType(r);
        points.push(r.pos, INSERT_FUEL);
        break;
      case U32X2:
        r.skipLeb(5, 'index immediate');
        r.skipLeb(5, 'index immediate');
        break;
      case I64:
        r.skipLeb(10, 'i64 constant');
        break;
      case F32:
        r.skip(4, 'f32 constant');
        break;
      case F64:
        r.skip(8, 'f64 constant');
        break;
      case BR_TABLE: {
        const n = r.u32('br_table length');
        if (n >= r.end - r.pos) malformed(`br_table with ${n} targets exceeds the function body`, at);
        for (let i = 0; i <= n; i++) r.skipLeb(5, 'br_table target');
        break;
      }
      case SELECT_T: {
        const n = r.u32('select type count');
        if (n > r.end - r.pos) malformed(`select with ${n} types exceeds the function body`, at);
        for (let i = 0; i < n; i++) skipValType(r);
        break;
      }
      case REF_NULL:
        readHeapType(r);
        break;
      case TRY_TABLE: {
        skipBlockType(r);
        const n = r.u32('try_table catch count');
        for (let i = 0; i < n; i++) {
          const kAt = r.pos;
          const kind = r.u8('catch kind');
          if (kind > 3) malformed(`invalid try_table catch kind ${kind}`, kAt);
          if (kind < 2) r.skipLeb(5, 'catch tag index'); // catch, catch_ref
          r.skipLeb(5, 'catch label');
        }
        break;
      }
      case PREFIX_FC:
      case PREFIX_FD:
      case PREFIX_FE:
        scanPrefixed(r, op, at, funcIndex);
        break;
      default:
        malformed(`unknown opcode ${hex(op)} in function ${funcIndex}`, at);
    }
  }
}

function scanPrefixed(r: Reader, op: number, at: number, funcIndex: number): void {
  const sub = r.u32('prefixed opcode');
  const t = op === 0xfc ? FC : op === 0xfd ? FD : FE;
  const kind = sub < t.length ? t[sub] : INVALID;
  switch (kind) {
    case NONE:
      return;
    case U32:
      r.skipLeb(5, 'index immediate');
      return;
    case U32X2:
      r.skipLeb(5, 'index immediate');
      r.skipLeb(5, 'index immediate');
      return;
    case MEMARG:
      skipMemarg(r);
      return;
    case MEMARG_LANE:
      skipMemarg(r);
      r.skip(1, 'lane index');
      return;
    case LANE:
      r.skip(1, 'lane index');
      return;
    case BYTE:
      r.skip(1, 'atomic.fence immediate');
      return;
    case BYTES16:
      r.skip(16, 'v128 immediate');
      return;
    default:
      malformed(`unknown opcode ${hex(op)} ${hex(sub)} in function ${funcIndex}`, at);
  }
}

/**
 * Skips a constant expression (global, table and element initialisers): the
 * few instructions allowed there (constants, ref.null/ref.func, global.get,
 * extended-const arithmetic) up to its `end`. ref.func must name one of the
 * module's own functions (index < funcCount): past them are the appended ones.
 */
export function skipConstExpr(r: Reader, what: string, funcCount: number): void {
  for (;;) {
    const at = r.pos;
    const op = r.u8(what);
    switch (op) {
      case 0x0b:
        return;
      case 0x41:
        r.skipLeb(5, 'i32 constant');
        break;
      case 0x42:
        r.skipLeb(10, 'i64 constant');
        break;
      case 0x43:
        r.skip(4, 'f32 constant');
        break;
      case 0x44:
        r.skip(8, 'f64 constant');
        break;
      case 0x23: // global.get: the appended globals are mutable, which no constant expression may read
        r.u32('index immediate');
        break;
      case 0xd2: {
        const idx = r.u32('function index');
        if (idx >= funcCount) malformed(`function index ${idx} out of range (the module has ${funcCount} functions) in ${what}`, at);
        break;
      }
      case 0xd0:
        readHeapType(r);
        break;
      case 0x6a: // i32.add, sub, mul; i64.add, sub, mul
      case 0x6b:
      case 0x6c:
      case 0x7c:
      case 0x7d:
      case 0x7e:
        break;
      case 0xfd: {
        const sub = r.u32('prefixed opcode');
        if (sub !== 0x0c) malformed(`unsupported instruction 0xfd ${hex(sub)} in ${what}`, at);
        r.skip(16, 'v128 immediate');
        break;
      }
      default:
        malformed(`unsupported instruction ${hex(op)} in ${what}`, at);
    }
  }
}
