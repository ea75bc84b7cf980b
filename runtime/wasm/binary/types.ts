// Value types, heap types, limits and the type section. Reference types are
// read in their general (GC / function-references) encoding so a module using
// them is parsed, not refused: `(ref null $t)` is 0x63 followed by a heap type.
import { malformed, Reader } from './reader';

/** One-byte value type codes, and the abstract heap types behind the ref shorthands. */
const VALTYPE: Record<number, string> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
  0x6e: 'anyref',
  0x6d: 'eqref',
  0x6c: 'i31ref',
  0x6b: 'structref',
  0x6a: 'arrayref',
  0x69: 'exnref',
  0x71: 'nullref',
  0x72: 'nullexternref',
  0x73: 'nullfuncref',
  0x74: 'nullexnref',
};
const HEAPTYPE: Record<number, string> = {
  0x70: 'func',
  0x6f: 'extern',
  0x6e: 'any',
  0x6d: 'eq',
  0x6c: 'i31',
  0x6b: 'struct',
  0x6a: 'array',
  0x69: 'exn',
  0x71: 'none',
  0x72: 'noextern',
  0x73: 'nofunc',
  0x74: 'noexn',
};
const REF_NULL = 0x63;
const REF = 0x64;

/** Value types as text: 'i32', 'funcref', '(ref null 3)', ... */
export type ValType = string;

export function readHeapType(r: Reader): string {
  const at = r.pos;
  const b = r.bytes[at];
  if (at < r.end && HEAPTYPE[b] !== undefined) {
    r.pos++;
    return HEAPTYPE[b];
  }
  const idx = r.s33('heap type');
  if (idx < 0) malformed(`invalid heap type 0x${(b ?? 0).toString(16)}`, at);
  return String(idx);
}

export function readValType(r: Reader): ValType {
  const at = r.pos;
  const b = r.u8('value type');
  const name = VALTYPE[b];
  if (name !== undefined) return name;
  if (b === REF_NULL || b === REF) return `(ref ${b === REF_NULL ? 'null ' : ''}${readHeapType(r)})`;
  return malformed(`invalid value type 0x${b.toString(16)}`, at);
}

/** Same checks as readValType, without building the name (code bodies). */
export function skipValType(r: Reader): void {
  const at = r.pos;
  const b = r.u8('value type');
  if (VALTYPE[b] !== undefined) return;
  if (b === REF_NULL || b === REF) {
    readHeapType(r);
    return;
  }
  malformed(`invalid value type 0x${b.toString(16)}`, at);
}

/** blocktype: 0x40, a value type, or a non-negative s33 type index (multi-value). */
export function skipBlockType(r: Reader): void {
  const at = r.pos;
  if (at >= r.end) malformed('unexpected end of block type', at);
  const b = r.bytes[at];
  if (b === 0x40 || VALTYPE[b] !== undefined) {
    r.pos++;
    return;
  }
  if (b === REF_NULL || b === REF) {
    r.pos++;
    readHeapType(r);
    return;
  }
  if (r.s33('block type') < 0) malformed(`invalid block type 0x${b.toString(16)}`, at);
}

export interface Limits {
  min: number;
  max: number | null;
  shared: boolean;
  /** memory64 / table64: the limits are u64. */
  is64: boolean;
  /** Byte range of the whole limits encoding, and where `min` ends. */
  start: number;
  minEnd: number;
  end: number;
}

/** Flags: bit 0 has-max, bit 1 shared (threads), bit 2 64-bit index (memory64). */
export function readLimits(r: Reader, what: string): Limits {
  const start = r.pos;
  const flags = r.u8(`${what} limits`);
  if (flags > 7) malformed(`invalid ${what} limits flags 0x${flags.toString(16)}`, start);
  const is64 = (flags & 4) !== 0;
  const min = is64 ? r.u64(`${what} minimum`) : r.u32(`${what} minimum`);
  const minEnd = r.pos;
  const max = flags & 1 ? (is64 ? r.u64(`${what} maximum`) : r.u32(`${what} maximum`)) : null;
  return { min, max, shared: (flags & 2) !== 0, is64, start, minEnd, end: r.pos };
}

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

function readResultType(r: Reader, what: string): ValType[] {
  const n = r.u32(`${what} count`);
  if (n > r.end - r.pos) malformed(`${what} count ${n} exceeds the section`, r.pos);
  const out: ValType[] = [];
  for (let i = 0; i < n; i++) out.push(readValType(r));
  return out;
}

function readCompType(r: Reader): FuncType | null {
  const at = r.pos;
  const form = r.u8('type form');
  switch (form) {
    case 0x60:
      return { params: readResultType(r, 'parameter'), results: readResultType(r, 'result') };
    case 0x5f: {
      // struct: vec(fieldtype)
      const n = r.u32('struct field count');
      for (let i = 0; i < n; i++) skipFieldType(r);
      return null;
    }
    case 0x5e:
      skipFieldType(r);
      return null;
    default:
      return malformed(`invalid type form 0x${form.toString(16)}`, at);
  }
}

function skipFieldType(r: Reader): void {
  const b = r.bytes[r.pos];
  if (r.pos < r.end && (b === 0x78 || b === 0x77)) r.pos++; // packed i8 / i16
  else skipValType(r);
  const at = r.pos;
  if (r.u8('field mutability') > 1) malformed('invalid field mutability', at);
}

function readSubType(r: Reader, out: (FuncType | null)[]): void {
  const b = r.bytes[r.pos];
  if (r.pos < r.end && (b === 0x50 || b === 0x4f)) {
    r.pos++;
    const n = r.u32('supertype count');
    for (let i = 0; i < n; i++) r.u32('supertype index');
  }
  out.push(readCompType(r));
}

/**
 * Every type index in order; non-function (GC struct/array) types are null.
 * `plain`, if given, gets per type index whether it is a plain `func` entry:
 * not in a recursion group and not a declared subtype, so that an identical
 * type appended by the instrumenter would be the same type.
 */
export function readTypeSection(r: Reader, plain?: boolean[]): (FuncType | null)[] {
  const count = r.u32('type count');
  const out: (FuncType | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (r.pos < r.end && r.bytes[r.pos] === 0x4e) {
      r.pos++;
      const n = r.u32('recursion group size');
      for (let j = 0; j < n; j++) {
        readSubType(r, out);
        plain?.push(false);
      }
    } else {
      const isPlain = r.pos < r.end && r.bytes[r.pos] === 0x60;
      readSubType(r, out);
      plain?.push(isPlain);
    }
  }
  r.expectEnd('type section');
  return out;
}

/** The encoding of a plain function type, as a type section entry. */
export function funcTypeEntry(params: readonly number[], results: readonly number[]): Uint8Array {
  return Uint8Array.from([0x60, params.length, ...params, results.length, ...results]);
}
