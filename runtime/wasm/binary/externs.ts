// The import and export sections, decoded into plain records. Shared by
// inspect (which reports them) and instrument (which needs the global count,
// the memory limits to cap, and the export names to avoid a clash).
import { malformed, Reader } from './reader';
import { readLimits, readValType, type Limits, type ValType } from './types';

export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
export const EXTERN_KINDS: readonly ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

interface RawImportBase {
  module: string;
  name: string;
  /** Byte offset of the entry, for error messages. */
  offset: number;
}
export type RawImport = RawImportBase &
  (
    | { kind: 'function'; typeIndex: number }
    | { kind: 'table'; elementType: ValType; limits: Limits }
    | { kind: 'memory'; limits: Limits }
    | { kind: 'global'; valueType: ValType; mutable: boolean }
    | { kind: 'tag'; typeIndex: number }
  );

export function readImportSection(r: Reader): RawImport[] {
  const count = r.u32('import count');
  const out: RawImport[] = [];
  for (let i = 0; i < count; i++) {
    const offset = r.pos;
    const module = r.name('import module name');
    const name = r.name('import name');
    const at = r.pos;
    const kind = r.u8('import kind');
    switch (kind) {
      case 0:
        out.push({ module, name, offset, kind: 'function', typeIndex: r.u32('import type index') });
        break;
      case 1: {
        const elementType = readRefType(r);
        out.push({ module, name, offset, kind: 'table', elementType, limits: readLimits(r, 'table') });
        break;
      }
      case 2:
        out.push({ module, name, offset, kind: 'memory', limits: readLimits(r, 'memory') });
        break;
      case 3: {
        const valueType = readValType(r);
        const mAt = r.pos;
        const m = r.u8('global mutability');
        if (m > 1) malformed(`invalid global mutability ${m}`, mAt);
        out.push({ module, name, offset, kind: 'global', valueType, mutable: m === 1 });
        break;
      }
      case 4: {
        const aAt = r.pos;
        if (r.u8('tag attribute') !== 0) malformed('invalid tag attribute', aAt);
        out.push({ module, name, offset, kind: 'tag', typeIndex: r.u32('tag type index') });
        break;
      }
      default:
        malformed(`invalid import kind ${kind} for "${module}"."${name}"`, at);
    }
  }
  r.expectEnd('import section');
  return out;
}

function readRefType(r: Reader): ValType {
  const at = r.pos;
  const t = readValType(r);
  if (t === 'i32' || t === 'i64' || t === 'f32' || t === 'f64' || t === 'v128') malformed(`table element type must be a reference type, got ${t}`, at);
  return t;
}

export interface RawExport {
  name: string;
  kind: ExternKind;
  index: number;
}

export function readExportSection(r: Reader): RawExport[] {
  const count = r.u32('export count');
  const out: RawExport[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.name('export name');
    const at = r.pos;
    const k = r.u8('export kind');
    if (k > 4) malformed(`invalid export kind ${k} for "${name}"`, at);
    out.push({ name, kind: EXTERN_KINDS[k], index: r.u32('export index') });
  }
  r.expectEnd('export section');
  return out;
}
