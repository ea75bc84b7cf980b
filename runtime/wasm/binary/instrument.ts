// instrumentModule: the rewrite applied to every untrusted filter before it is
// compiled. It adds fuel metering (fuel.ts) and caps memories (memory-cap.ts).
// Only the import, memory, global, export and code sections are rewritten; all
// others, custom ones included, are copied byte for byte in their original
// order. No existing index changes: the fuel global is appended after the
// last global, and no function, type, local or label is added.
import { DEFAULT_INITIAL_FUEL, FUEL_EXPORT, fuelCheck, fuelGlobalEntry, MAX_FUEL } from './fuel';
import { readExportSection, readImportSection } from './externs';
import { ulebSize, writeUleb } from './leb';
import { applyPatches, capLimits, capMemorySection, type Patch } from './memory-cap';
import { IntList, scanInstructions, skipConstExpr } from './opcodes';
import { malformed, Reader } from './reader';
import {
  readSections,
  sectionRank,
  SEC_CODE,
  SEC_CUSTOM,
  SEC_EXPORT,
  SEC_GLOBAL,
  SEC_IMPORT,
  SEC_MEMORY,
  type Section,
} from './sections';
import { skipValType } from './types';

export { FUEL_EXPORT, FUEL_TYPE, isFuelExhausted, MAX_FUEL } from './fuel';

export interface InstrumentOptions {
  /** Cap on every memory's maximum, in 64 KiB pages. */
  maxMemoryPages: number;
  /** Fuel the start function (if any) runs with, during instantiation. Default DEFAULT_INITIAL_FUEL. */
  initialFuel?: number;
}

const FUEL_NAME = new TextEncoder().encode(FUEL_EXPORT);
const RANK_GLOBAL = sectionRank(SEC_GLOBAL);
const RANK_EXPORT = sectionRank(SEC_EXPORT);

/**
 * Returns a new module with fuel metering and capped memories. Throws
 * WasmLoadError: WASM_INVALID_MODULE for malformed input or an opcode the
 * decoder does not know, WASM_MEMORY_TOO_LARGE if a memory's initial size is
 * over the cap. The result is not validated here; compiling it does that.
 */
export function instrumentModule(bytes: Uint8Array, options: InstrumentOptions): Uint8Array {
  const maxPages = options.maxMemoryPages;
  if (!Number.isSafeInteger(maxPages) || maxPages < 0) throw new RangeError(`maxMemoryPages must be a non-negative integer, got ${maxPages}`);
  const initialFuel = options.initialFuel ?? DEFAULT_INITIAL_FUEL;
  if (!Number.isInteger(initialFuel) || initialFuel < 0 || initialFuel > MAX_FUEL) throw new RangeError(`initialFuel must be an integer in [0, ${MAX_FUEL}], got ${initialFuel}`);

  const sections = readSections(bytes);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let importedFuncs = 0;
  let globals = 0; // imported + defined: the fuel global's index once the global section is passed
  let memories = 0;
  let globalDone = false;
  let exportDone = false;

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
        skipConstExpr(r, 'global initialiser');
      }
      r.expectEnd('global section');
    }
    globals += count;
    parts.push(section(SEC_GLOBAL, count + 1, entries, fuelGlobalEntry(initialFuel)));
    globalDone = true;
  };
  const addExportSection = (s: Section | null): void => {
    let count = 0;
    let entries: Uint8Array = new Uint8Array(0);
    if (s !== null) {
      const r = new Reader(bytes, s.payload, s.end);
      for (const e of readExportSection(r)) {
        if (e.name === FUEL_EXPORT) malformed(`the module already exports "${FUEL_EXPORT}" (instrumented twice?)`, s.payload);
        // Invalid as it stands, but it would become a second handle on the fuel global.
        if (e.kind === 'global' && e.index >= globals) malformed(`export "${e.name}" names global ${e.index}, but the module has ${globals} globals`, s.payload);
      }
      r.pos = s.payload;
      count = r.u32('export count');
      entries = bytes.subarray(r.pos, s.end);
    }
    const entry = new Uint8Array(ulebSize(FUEL_NAME.length) + FUEL_NAME.length + 1 + ulebSize(globals));
    let p = writeUleb(entry, 0, FUEL_NAME.length);
    entry.set(FUEL_NAME, p);
    p += FUEL_NAME.length;
    entry[p++] = 0x03; // global
    writeUleb(entry, p, globals);
    parts.push(section(SEC_EXPORT, count + 1, entries, entry));
    exportDone = true;
  };

  for (const s of sections) {
    if (s.id !== SEC_CUSTOM) {
      // A missing global or export section goes where the first later section starts.
      const rank = sectionRank(s.id);
      if (!globalDone && rank > RANK_GLOBAL) addGlobalSection(null);
      if (!exportDone && rank > RANK_EXPORT) addExportSection(null);
    }
    switch (s.id) {
      case SEC_IMPORT: {
        const patches: Patch[] = [];
        for (const imp of readImportSection(new Reader(bytes, s.payload, s.end))) {
          if (imp.kind === 'function') importedFuncs++;
          else if (imp.kind === 'global') globals++;
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
      case SEC_GLOBAL:
        addGlobalSection(s);
        break;
      case SEC_EXPORT:
        addExportSection(s);
        break;
      case SEC_CODE:
        parts.push(rewriteCode(bytes, s, globals, importedFuncs));
        break;
      default:
        parts.push(bytes.subarray(s.start, s.end));
    }
  }
  if (!globalDone) addGlobalSection(null);
  if (!exportDone) addExportSection(null);

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
 * Two passes: decode every body to find where checks go (function entry,
 * after the locals, and after each loop's block type), then size the output
 * exactly and copy the original bytes around the inserted checks.
 */
function rewriteCode(bytes: Uint8Array, s: Section, fuelIndex: number, importedFuncs: number): Uint8Array {
  const r = new Reader(bytes, s.payload, s.end);
  const count = r.u32('function body count');
  if (count > s.end - r.pos) malformed(`code section declares ${count} bodies in ${s.end - r.pos} bytes`, s.payload);
  const check = fuelCheck(fuelIndex);
  const points = new IntList(); // offsets where a check is inserted, in order
  const bodyStart = new Int32Array(count);
  const bodyEnd = new Int32Array(count);
  const pointsEnd = new Int32Array(count);
  const body = new Reader(bytes, 0, 0);
  for (let i = 0; i < count; i++) {
    const size = r.u32('function body size');
    const start = r.pos;
    if (size > s.end - start) malformed(`body of function ${importedFuncs + i} (size ${size}) runs past the code section`, start);
    body.pos = start;
    body.end = start + size;
    const groups = body.u32('local declaration count');
    for (let g = 0; g < groups; g++) {
      body.u32('local count');
      skipValType(body);
    }
    points.push(body.pos);
    scanInstructions(body, fuelIndex, points, importedFuncs + i);
    bodyStart[i] = start;
    bodyEnd[i] = body.end;
    pointsEnd[i] = points.length;
    r.pos = body.end;
  }
  r.expectEnd('code section');

  let payload = ulebSize(count);
  let k = 0;
  for (let i = 0; i < count; i++) {
    const n = bodyEnd[i] - bodyStart[i] + (pointsEnd[i] - k) * check.length;
    payload += ulebSize(n) + n;
    k = pointsEnd[i];
  }
  const out = new Uint8Array(1 + ulebSize(payload) + payload);
  out[0] = SEC_CODE;
  let o = writeUleb(out, 1, payload);
  o = writeUleb(out, o, count);
  const at = points.data;
  k = 0;
  for (let i = 0; i < count; i++) {
    const end = bodyEnd[i];
    const last = pointsEnd[i];
    o = writeUleb(out, o, end - bodyStart[i] + (last - k) * check.length);
    let from = bodyStart[i];
    for (; k < last; k++) {
      const p = at[k];
      out.set(bytes.subarray(from, p), o);
      o += p - from;
      out.set(check, o);
      o += check.length;
      from = p;
    }
    out.set(bytes.subarray(from, end), o);
    o += end - from;
  }
  return out;
}
