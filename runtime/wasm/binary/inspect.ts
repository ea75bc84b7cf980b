// inspectModule: what a filter module imports, exports and declares as memory,
// read straight from the binary without compiling it, so the loader can check
// the ABI marker and the import list before handing the bytes to V8.
import { readExportSection, readImportSection, type ExternKind, type RawImport } from './externs';
import { malformed, Reader } from './reader';
import { readSections, SEC_EXPORT, SEC_IMPORT, SEC_MEMORY, SEC_TYPE, type Section } from './sections';
import { readLimits, readTypeSection, type FuncType, type Limits, type ValType } from './types';

export type { ExternKind, ValType };

export interface MemoryLimits {
  /** Pages of 64 KiB. */
  min: number;
  max: number | null;
  shared: boolean;
  memory64: boolean;
}

interface ImportBase {
  module: string;
  name: string;
}
export type ImportInfo =
  | (ImportBase & { kind: 'function'; typeIndex: number; params: ValType[]; results: ValType[] })
  | (ImportBase & { kind: 'memory'; memory: MemoryLimits })
  | (ImportBase & { kind: 'table'; elementType: ValType; min: number; max: number | null })
  | (ImportBase & { kind: 'global'; valueType: ValType; mutable: boolean })
  | (ImportBase & { kind: 'tag'; typeIndex: number; params: ValType[] });

export interface ExportInfo {
  name: string;
  kind: ExternKind;
  index: number;
}

export interface MemoryInfo extends MemoryLimits {
  /** Index in the memory index space (imports first). */
  index: number;
  /** Set for an imported memory. */
  import: { module: string; name: string } | null;
}

export interface ModuleInfo {
  imports: ImportInfo[];
  exports: ExportInfo[];
  memories: MemoryInfo[];
  /** "X.Y.Z" for every export named proxy_abi_version_X_Y_Z, in export order. */
  abiVersions: string[];
}

const ABI_MARKER = /^proxy_abi_version_(\d+)_(\d+)_(\d+)$/;

/** Parses the module's framing and its type, import, memory and export sections; throws WasmLoadError (WASM_INVALID_MODULE) if malformed. */
export function inspectModule(bytes: Uint8Array): ModuleInfo {
  const sections = readSections(bytes);
  const reader = (s: Section): Reader => new Reader(bytes, s.payload, s.end);
  let types: (FuncType | null)[] = [];
  const imports: ImportInfo[] = [];
  const exports: ExportInfo[] = [];
  const memories: MemoryInfo[] = [];
  for (const s of sections) {
    switch (s.id) {
      case SEC_TYPE:
        types = readTypeSection(reader(s));
        break;
      case SEC_IMPORT:
        for (const raw of readImportSection(reader(s))) {
          const info = describeImport(raw, types);
          imports.push(info);
          if (info.kind === 'memory') memories.push({ ...info.memory, index: memories.length, import: { module: info.module, name: info.name } });
        }
        break;
      case SEC_MEMORY: {
        const r = reader(s);
        const n = r.u32('memory count');
        for (let i = 0; i < n; i++) memories.push({ ...memoryLimits(readLimits(r, 'memory')), index: memories.length, import: null });
        r.expectEnd('memory section');
        break;
      }
      case SEC_EXPORT:
        exports.push(...readExportSection(reader(s)));
        break;
    }
  }
  const abiVersions: string[] = [];
  for (const e of exports) {
    const m = ABI_MARKER.exec(e.name);
    if (m !== null) abiVersions.push(`${m[1]}.${m[2]}.${m[3]}`);
  }
  return { imports, exports, memories, abiVersions };
}

function memoryLimits(l: Limits): MemoryLimits {
  return { min: l.min, max: l.max, shared: l.shared, memory64: l.is64 };
}

function funcType(types: readonly (FuncType | null)[], index: number, what: string, at: number): FuncType {
  const t = types[index];
  if (t === undefined) malformed(`${what} uses type index ${index}, but the module defines ${types.length} types`, at);
  if (t === null) malformed(`${what} uses type index ${index}, which is not a function type`, at);
  return t;
}

function describeImport(raw: RawImport, types: readonly (FuncType | null)[]): ImportInfo {
  const base = { module: raw.module, name: raw.name };
  const what = `import "${raw.module}"."${raw.name}"`;
  switch (raw.kind) {
    case 'function': {
      const t = funcType(types, raw.typeIndex, what, raw.offset);
      return { ...base, kind: 'function', typeIndex: raw.typeIndex, params: t.params.slice(), results: t.results.slice() };
    }
    case 'memory':
      return { ...base, kind: 'memory', memory: memoryLimits(raw.limits) };
    case 'table':
      return { ...base, kind: 'table', elementType: raw.elementType, min: raw.limits.min, max: raw.limits.max };
    case 'global':
      return { ...base, kind: 'global', valueType: raw.valueType, mutable: raw.mutable };
    case 'tag':
      return { ...base, kind: 'tag', typeIndex: raw.typeIndex, params: funcType(types, raw.typeIndex, what, raw.offset).params.slice() };
  }
}
