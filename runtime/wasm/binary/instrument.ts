// instrumentModule: the rewrite applied to every untrusted filter before it is
// compiled. It adds fuel metering and a fuel setter (fuel.ts), the
// memory.grow failure flag (grow.ts), and caps memories (memory-cap.ts).
// The type, import, function, memory, global, export and code sections are
// rewritten; table, start and element sections are read for their function
// indices (funcrefs.ts) and copied; all others, custom ones included, are
// copied byte for byte in their original order. No existing index changes:
// everything added goes at the end of its index space. Two globals (fuel,
// grow flag) after the last global; the hook and setter functions after the
// last function; their types, unless the module already has identical ones,
// after the last type. No local or label is added.
import { readExportSection, readImportSection } from './externs';
import { DEFAULT_INITIAL_FUEL, FUEL_EXPORT, FUEL_SETTER_EXPORT, fuelCheck, fuelGlobalEntry, fuelSetterBody, MAX_FUEL } from './fuel';
import { checkElementSection, checkStartSection, checkTableSection } from './funcrefs';
import { GROW_FAILED_EXPORT, GROW_FLAG_GLOBAL_ENTRY, growHookBody } from './grow';
import { uleb, ulebSize, writeUleb } from './leb';
import { applyPatches, capLimits, capMemorySection, type Patch } from './memory-cap';
import { INSERT_FUEL, INSERT_GROW32, INSERT_GROW64, InsertList, scanInstructions, skipConstExpr, type ScanContext } from './opcodes';
import { malformed, Reader } from './reader';
import {
  readSections,
  sectionRank,
  SEC_CODE,
  SEC_CUSTOM,
  SEC_ELEMENT,
  SEC_EXPORT,
  SEC_FUNCTION,
  SEC_GLOBAL,
  SEC_IMPORT,
  SEC_MEMORY,
  SEC_START,
  SEC_TABLE,
  SEC_TYPE,
  type Section,
} from './sections';
import { funcTypeEntry, readLimits, readTypeSection, skipValType, type FuncType } from './types';

export { FUEL_EXPORT, FUEL_SETTER_EXPORT, FUEL_TYPE, isFuelExhausted, MAX_FUEL } from './fuel';
export { GROW_FAILED_EXPORT } from './grow';

export interface InstrumentOptions {
  /** Cap on every memory's maximum, in 64 KiB pages. */
  maxMemoryPages: number;
  /** Fuel the start function (if any) runs with, during instantiation. Default DEFAULT_INITIAL_FUEL. */
  initialFuel?: number;
}

const encoder = new TextEncoder();
const ADDED_EXPORTS = [FUEL_EXPORT, GROW_FAILED_EXPORT, FUEL_SETTER_EXPORT];
const I32 = 0x7f;
const I64 = 0x7e;
// The sections the rewrite always emits, created where missing, in spec order.
const EMITTED = [SEC_TYPE, SEC_FUNCTION, SEC_GLOBAL, SEC_EXPORT, SEC_CODE];

/**
 * Returns a new module with fuel metering, a fuel setter, the grow-failure
 * flag and capped memories. Throws WasmLoadError: WASM_INVALID_MODULE for
 * malformed input, an opcode the decoder does not know, an index that would
 * reach something appended, or an export name the rewrite adds;
 * WASM_MEMORY_TOO_LARGE if a memory's initial size is over the cap. The
 * result is not validated here; compiling it does that.
 */
export function instrumentModule(bytes: Uint8Array, options: InstrumentOptions): Uint8Array {
  const maxPages = options.maxMemoryPages;
  if (!Number.isSafeInteger(maxPages) || maxPages < 0) throw new RangeError(`maxMemoryPages must be a non-negative integer, got ${maxPages}`);
  const initialFuel = options.initialFuel ?? DEFAULT_INITIAL_FUEL;
  if (!Number.isInteger(initialFuel) || initialFuel < 0 || initialFuel > MAX_FUEL) throw new RangeError(`initialFuel must be an integer in [0, ${MAX_FUEL}], got ${initialFuel}`);

  const sections = readSections(bytes);
  // Needed before the memory section: the type section must know whether to add the i64 hook's type.
  const memory64 = memoryKinds(bytes, sections);
  const hasMemory64 = memory64.includes(true);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let importedFuncs = 0;
  let funcs = 0; // imported + defined, once the function section is passed: the first appended function's index
  let globals = 0; // imported + defined: the fuel global's index once the global section is passed
  let memories = 0;
  // The module's own types, and those of the appended functions (set by the type section).
  let typeCount = 0;
  let growType = -1;
  let setterType = -1;
  let grow64Type = -1;
  const emitted = new Set<number>();

  const addTypeSection = (s: Section | null): void => {
    let groups = 0;
    let entries: Uint8Array = new Uint8Array(0);
    let types: (FuncType | null)[] = [];
    const plain: boolean[] = [];
    if (s !== null) {
      types = readTypeSection(new Reader(bytes, s.payload, s.end), plain);
      const r = new Reader(bytes, s.payload, s.end);
      groups = r.u32('type count');
      entries = bytes.subarray(r.pos, s.end);
    }
    typeCount = types.length;
    const added: Uint8Array[] = [];
    const need = (params: number[], results: number[]): number => {
      const want = funcTypeEntry(params, results);
      const p = params.map(valTypeName);
      const q = results.map(valTypeName);
      for (let i = 0; i < types.length; i++) {
        const t = types[i];
        if (plain[i] && t !== null && sameTypes(t.params, p) && sameTypes(t.results, q)) return i;
      }
      const j = added.findIndex((a) => a.length === want.length && a.every((b, k) => b === want[k]));
      if (j >= 0) return types.length + j;
      added.push(want);
      return types.length + added.length - 1;
    };
    growType = need([I32], [I32]);
    setterType = need([I32], []);
    if (hasMemory64) grow64Type = need([I64], [I64]);
    parts.push(s !== null && added.length === 0 ? bytes.subarray(s.start, s.end) : section(SEC_TYPE, groups + added.length, entries, ...added));
  };
  const addFunctionSection = (s: Section | null): void => {
    let count = 0;
    let entries: Uint8Array = new Uint8Array(0);
    if (s !== null) {
      const r = new Reader(bytes, s.payload, s.end);
      count = r.u32('function count');
      entries = bytes.subarray(r.pos, s.end);
      // An index past the module's types is invalid; refused so it does not become valid by naming an appended type.
      for (let i = 0; i < count; i++) {
        const at = r.pos;
        const t = r.u32('function type index');
        if (t >= typeCount) malformed(`function ${importedFuncs + i} uses type index ${t}, but the module defines ${typeCount} types`, at);
      }
      r.expectEnd('function section');
    }
    funcs = importedFuncs + count;
    const added = [uleb(growType), uleb(setterType)];
    if (hasMemory64) added.push(uleb(grow64Type));
    parts.push(section(SEC_FUNCTION, count + added.length, entries, ...added));
  };
  const addGlobalSection = (s: Section | null): void => {
    let count = 0;
    let entries: Uint8Array = new Uint8Array(0);
    if (s !== null) {
      // Parsed in full, not just counted: the fuel global's index is derived from the count.
      const r = new Reader(bytes, s.payload, s.end);
      count = r.u32('global count');
      entries = bytes.subarray(r.pos, s.end);
      for (let i = 0; i < count; i++) {
        skipValType(r);
        const at = r.pos;
        if (r.u8('global mutability') > 1) malformed('invalid global mutability', at);
        skipConstExpr(r, 'global initialiser', funcs);
      }
      r.expectEnd('global section');
    }
    globals += count;
    parts.push(section(SEC_GLOBAL, count + 2, entries, fuelGlobalEntry(initialFuel), GROW_FLAG_GLOBAL_ENTRY));
  };
  const addExportSection = (s: Section | null): void => {
    let count = 0;
    let entries: Uint8Array = new Uint8Array(0);
    if (s !== null) {
      const r = new Reader(bytes, s.payload, s.end);
      for (const e of readExportSection(r)) {
        if (ADDED_EXPORTS.includes(e.name)) malformed(`the module already exports "${e.name}" (instrumented twice?)`, s.payload);
        // Invalid as they stand, but they would become handles on the fuel global, the grow flag or the setter.
        if (e.kind === 'global' && e.index >= globals) malformed(`export "${e.name}" names global ${e.index}, but the module has ${globals} globals`, s.payload);
        if (e.kind === 'function' && e.index >= funcs) malformed(`export "${e.name}" names function ${e.index}, but the module has ${funcs} functions`, s.payload);
      }
      r.pos = s.payload;
      count = r.u32('export count');
      entries = bytes.subarray(r.pos, s.end);
    }
    const fuel = globals;
    const flag = globals + 1;
    const setter = funcs + 1;
    parts.push(section(SEC_EXPORT, count + 3, entries, exportEntry(FUEL_EXPORT, 0x03, fuel), exportEntry(GROW_FAILED_EXPORT, 0x03, flag), exportEntry(FUEL_SETTER_EXPORT, 0x00, setter)));
  };
  const addCodeSection = (s: Section | null): void => {
    const fuel = globals;
    const flag = globals + 1;
    const appended = [growHookBody(flag, false), fuelSetterBody(fuel)];
    if (hasMemory64) appended.push(growHookBody(flag, true));
    const cx: ScanContext = { globalCount: globals, funcCount: funcs, memory64, points: new InsertList() };
    const inserts = [fuelCheck(fuel), callInstr(funcs), hasMemory64 ? callInstr(funcs + 2) : new Uint8Array(0)];
    parts.push(rewriteCode(bytes, s, cx, importedFuncs, inserts, appended));
  };
  const add = (id: number, s: Section | null): void => {
    if (id === SEC_TYPE) addTypeSection(s);
    else if (id === SEC_FUNCTION) addFunctionSection(s);
    else if (id === SEC_GLOBAL) addGlobalSection(s);
    else if (id === SEC_EXPORT) addExportSection(s);
    else addCodeSection(s);
    emitted.add(id);
  };

  for (const s of sections) {
    if (s.id !== SEC_CUSTOM) {
      // A missing section goes where the first later section starts.
      const rank = sectionRank(s.id);
      for (const id of EMITTED) if (!emitted.has(id) && sectionRank(id) < rank) add(id, null);
    }
    switch (s.id) {
      case SEC_IMPORT: {
        const patches: Patch[] = [];
        for (const imp of readImportSection(new Reader(bytes, s.payload, s.end))) {
          if (imp.kind === 'function') {
            if (imp.typeIndex >= typeCount) malformed(`import "${imp.module}"."${imp.name}" uses type index ${imp.typeIndex}, but the module defines ${typeCount} types`, imp.offset);
            importedFuncs++;
          } else if (imp.kind === 'global') globals++;
          else if (imp.kind === 'memory') {
            capLimits(bytes, imp.limits, maxPages, `imported memory "${imp.module}"."${imp.name}"`, patches);
            memories++;
          }
        }
        parts.push(patches.length === 0 ? bytes.subarray(s.start, s.end) : section(SEC_IMPORT, -1, applyPatches(bytes, s.payload, s.end, patches)));
        break;
      }
      case SEC_MEMORY: {
        const patches: Patch[] = [];
        capMemorySection(bytes, s.payload, s.end, maxPages, memories, patches);
        parts.push(patches.length === 0 ? bytes.subarray(s.start, s.end) : section(SEC_MEMORY, -1, applyPatches(bytes, s.payload, s.end, patches)));
        break;
      }
      case SEC_TYPE:
      case SEC_FUNCTION:
      case SEC_GLOBAL:
      case SEC_EXPORT:
      case SEC_CODE:
        add(s.id, s);
        break;
      case SEC_TABLE:
        checkTableSection(new Reader(bytes, s.payload, s.end), funcs);
        parts.push(bytes.subarray(s.start, s.end));
        break;
      case SEC_START:
        checkStartSection(new Reader(bytes, s.payload, s.end), funcs);
        parts.push(bytes.subarray(s.start, s.end));
        break;
      case SEC_ELEMENT:
        checkElementSection(new Reader(bytes, s.payload, s.end), funcs);
        parts.push(bytes.subarray(s.start, s.end));
        break;
      default:
        parts.push(bytes.subarray(s.start, s.end));
    }
  }
  for (const id of EMITTED) if (!emitted.has(id)) add(id, null);

  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Per memory index (imports first): whether it is a 64-bit memory. */
function memoryKinds(bytes: Uint8Array, sections: readonly Section[]): boolean[] {
  const out: boolean[] = [];
  for (const s of sections) {
    if (s.id === SEC_IMPORT) {
      for (const imp of readImportSection(new Reader(bytes, s.payload, s.end))) if (imp.kind === 'memory') out.push(imp.limits.is64);
    } else if (s.id === SEC_MEMORY) {
      const r = new Reader(bytes, s.payload, s.end);
      const n = r.u32('memory count');
      for (let i = 0; i < n; i++) out.push(readLimits(r, 'memory').is64);
      r.expectEnd('memory section');
    }
  }
  return out;
}

function valTypeName(code: number): string {
  return code === I64 ? 'i64' : 'i32';
}

function sameTypes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** call f */
function callInstr(funcIndex: number): Uint8Array {
  return Uint8Array.from([0x10, ...uleb(funcIndex)]);
}

/** An export section entry: name, kind, index. */
function exportEntry(name: string, kind: number, index: number): Uint8Array {
  const n = encoder.encode(name);
  const entry = new Uint8Array(ulebSize(n.length) + n.length + 1 + ulebSize(index));
  let p = writeUleb(entry, 0, n.length);
  entry.set(n, p);
  p += n.length;
  entry[p++] = kind;
  writeUleb(entry, p, index);
  return entry;
}

/** A whole section: id, size, then (if count >= 0) the new count, then the chunks. */
function section(id: number, count: number, ...chunks: Uint8Array[]): Uint8Array {
  let payload = count >= 0 ? ulebSize(count) : 0;
  for (const c of chunks) payload += c.length;
  const out = new Uint8Array(1 + ulebSize(payload) + payload);
  out[0] = id;
  let p = writeUleb(out, 1, payload);
  if (count >= 0) p = writeUleb(out, p, count);
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/**
 * Two passes: decode every body to find where things go (a fuel check at
 * function entry, after the locals, and after each loop's block type; a hook
 * call after each memory.grow), then size the output exactly and copy the
 * original bytes around the insertions. `inserts` holds the bytes per insert
 * kind; the `appended` bodies (locals included, size prefix not) go last.
 */
function rewriteCode(bytes: Uint8Array, s: Section | null, cx: ScanContext, importedFuncs: number, inserts: readonly Uint8Array[], appended: readonly Uint8Array[]): Uint8Array {
  const r = s === null ? new Reader(bytes, 0, 0) : new Reader(bytes, s.payload, s.end);
  const count = s === null ? 0 : r.u32('function body count');
  if (s !== null && count > s.end - r.pos) malformed(`code section declares ${count} bodies in ${s.end - r.pos} bytes`, s.payload);
  const points = cx.points;
  const bodyStart = new Int32Array(count);
  const bodyEnd = new Int32Array(count);
  const pointsEnd = new Int32Array(count);
  const added = new Int32Array(count); // bytes inserted per body
  const body = new Reader(bytes, 0, 0);
  const sizes = [inserts[INSERT_FUEL].length, inserts[INSERT_GROW32].length, inserts[INSERT_GROW64].length];
  for (let i = 0; i < count; i++) {
    const size = r.u32('function body size');
    const start = r.pos;
    if (size > r.end - start) malformed(`body of function ${importedFuncs + i} (size ${size}) runs past the code section`, start);
    body.pos = start;
    body.end = start + size;
    const groups = body.u32('local declaration count');
    for (let g = 0; g < groups; g++) {
      body.u32('local count');
      skipValType(body);
    }
    const first = points.length;
    points.push(body.pos, INSERT_FUEL);
    scanInstructions(body, cx, importedFuncs + i);
    let n = 0;
    for (let k = first; k < points.length; k++) n += sizes[points.kind[k]];
    bodyStart[i] = start;
    bodyEnd[i] = body.end;
    pointsEnd[i] = points.length;
    added[i] = n;
    r.pos = body.end;
  }
  r.expectEnd('code section');

  let payload = ulebSize(count + appended.length);
  for (let i = 0; i < count; i++) {
    const n = bodyEnd[i] - bodyStart[i] + added[i];
    payload += ulebSize(n) + n;
  }
  for (const a of appended) payload += ulebSize(a.length) + a.length;
  const out = new Uint8Array(1 + ulebSize(payload) + payload);
  out[0] = SEC_CODE;
  let o = writeUleb(out, 1, payload);
  o = writeUleb(out, o, count + appended.length);
  const at = points.at;
  const kind = points.kind;
  let k = 0;
  for (let i = 0; i < count; i++) {
    const end = bodyEnd[i];
    const last = pointsEnd[i];
    o = writeUleb(out, o, end - bodyStart[i] + added[i]);
    let from = bodyStart[i];
    for (; k < last; k++) {
      const p = at[k];
      out.set(bytes.subarray(from, p), o);
      o += p - from;
      const chunk = inserts[kind[k]];
      out.set(chunk, o);
      o += chunk.length;
      from = p;
    }
    out.set(bytes.subarray(from, end), o);
    o += end - from;
  }
  for (const a of appended) {
    o = writeUleb(out, o, a.length);
    out.set(a, o);
    o += a.length;
  }
  return out;
}
