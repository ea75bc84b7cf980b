// Caps every memory's declared maximum at the configured page limit, so that
// memory.grow past it returns -1 inside the guest and a host-side grow throws,
// with no runtime check of ours. Imported memories are capped too: the host
// must then supply one whose maximum fits, which is the point.
import { WasmLoadError } from '../../core/errors';
import { uleb } from './leb';
import { Reader } from './reader';
import { readLimits, type Limits } from './types';

/** Replace bytes [start, end) of the input with `bytes`. */
export interface Patch {
  start: number;
  end: number;
  bytes: Uint8Array;
}

const MEM32_PAGES = 65536;
const MEM64_PAGES = 2 ** 48;

/** Adds a patch for `limits` if its maximum must come down; refuses a memory whose minimum is already over the cap. */
export function capLimits(bytes: Uint8Array, l: Limits, maxPages: number, what: string, patches: Patch[]): void {
  const cap = Math.min(maxPages, l.is64 ? MEM64_PAGES : MEM32_PAGES);
  if (l.min > cap) {
    throw new WasmLoadError(
      `${what} needs ${l.min} pages (${pagesToMiB(l.min)} MiB) initially, more than the limit of ${maxPages} pages (${pagesToMiB(maxPages)} MiB)`,
      'WASM_MEMORY_TOO_LARGE',
    );
  }
  if (l.max !== null && l.max <= cap) return;
  const minBytes = bytes.subarray(l.start + 1, l.minEnd);
  const max = uleb(cap);
  const out = new Uint8Array(1 + minBytes.length + max.length);
  out[0] = bytes[l.start] | 1; // has-max; shared and 64-bit flags kept
  out.set(minBytes, 1);
  out.set(max, 1 + minBytes.length);
  patches.push({ start: l.start, end: l.end, bytes: out });
}

/** Patches for the memory section payload [start, end). */
export function capMemorySection(bytes: Uint8Array, start: number, end: number, maxPages: number, firstIndex: number, patches: Patch[]): void {
  const r = new Reader(bytes, start, end);
  const n = r.u32('memory count');
  for (let i = 0; i < n; i++) capLimits(bytes, readLimits(r, 'memory'), maxPages, `memory ${firstIndex + i}`, patches);
  r.expectEnd('memory section');
}

/** The bytes [start, end) with the (ordered, non-overlapping) patches applied. */
export function applyPatches(bytes: Uint8Array, start: number, end: number, patches: readonly Patch[]): Uint8Array {
  let size = end - start;
  for (const p of patches) size += p.bytes.length - (p.end - p.start);
  const out = new Uint8Array(size);
  let from = start;
  let o = 0;
  for (const p of patches) {
    out.set(bytes.subarray(from, p.start), o);
    o += p.start - from;
    out.set(p.bytes, o);
    o += p.bytes.length;
    from = p.end;
  }
  out.set(bytes.subarray(from, end), o);
  return out;
}

function pagesToMiB(pages: number): string {
  return String(Math.round((pages * 65536) / 1048576 * 100) / 100);
}
