// SDK internals shared by the wrappers: the result slots the host writes to,
// copying host-allocated memory into managed objects, and effective-context
// tracking. Not part of the public API.
//
// Memory model: when a host call returns data (`**ret_data, *ret_size`), the
// host first calls the guest export `proxy_on_memory_allocate(size)` (see
// exports.ts), which takes a raw block from the TLSF heap with `heap.alloc`.
// Raw blocks are invisible to the garbage collector, so a collection can never
// move or free them while the host is writing. The SDK copies the bytes into a
// managed ArrayBuffer or String and frees the raw block straight away.

import { proxy_set_effective_context } from "./imports";

/** Slot for a returned pointer (`**ret_data`). Static memory, never collected. */
export const RET_PTR: usize = memory.data(4, 4);
/** Slot for a returned size or u32 (`*ret_size`, ids, tokens, levels). */
export const RET_SIZE: usize = memory.data(4, 4);
/** Slot for a second u32 result (flags, cas). */
export const RET_AUX: usize = memory.data(4, 4);
/** Slot for a u64 result (time, metric value). */
export const RET_U64: usize = memory.data(8, 8);

/** Clears the pointer/size slots before a host call, so "no data written" reads as empty. */
// @ts-ignore: decorator
@inline export function clearReturn(): void {
  store<usize>(RET_PTR, 0);
  store<u32>(RET_SIZE, 0);
}

/** Allocates raw memory for the host (the body of `proxy_on_memory_allocate`). */
export function allocateForHost(size: usize): usize {
  return heap.alloc(size);
}

/** Frees a block the host wrote a result into. */
export function freeHostBlock(ptr: usize): void {
  if (ptr >= __heap_base) heap.free(ptr);
}

/** Copies the returned block into a new ArrayBuffer and frees the block. */
export function takeBuffer(): ArrayBuffer {
  const ptr = load<usize>(RET_PTR);
  const size = load<u32>(RET_SIZE);
  const out = new ArrayBuffer(<i32>size);
  if (size > 0) memory.copy(changetype<usize>(out), ptr, size);
  freeHostBlock(ptr);
  return out;
}

/** Decodes the returned block as UTF-8 and frees the block. */
export function takeString(): string {
  const ptr = load<usize>(RET_PTR);
  const size = load<u32>(RET_SIZE);
  const out = size > 0 ? String.UTF8.decodeUnsafe(ptr, size) : "";
  freeHostBlock(ptr);
  return out;
}

/** Frees the returned block without reading it. */
export function dropReturned(): void {
  freeHostBlock(load<usize>(RET_PTR));
}

/** UTF-8 bytes of a string (managed; pass `changetype<usize>(b)` and `b.byteLength`). */
// @ts-ignore: decorator
@inline export function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

/** Bytes of a string as an ArrayBuffer pointer, for host calls. */
// @ts-ignore: decorator
@inline export function ptrOf(b: ArrayBuffer): usize {
  return changetype<usize>(b);
}

/** ASCII-lowercases a header name; returns the same string when already lowercase. */
export function lowerAscii(s: string): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = load<u16>(changetype<usize>(s) + (<usize>i << 1));
    if (c >= 65 && c <= 90) break;
  }
  if (i == n) return s;
  const out = changetype<string>(__new(<usize>n << 1, idof<string>()));
  for (let j = 0; j < n; j++) {
    let c = load<u16>(changetype<usize>(s) + (<usize>j << 1));
    if (c >= 65 && c <= 90) c += 32;
    store<u16>(changetype<usize>(out) + (<usize>j << 1), c);
  }
  return out;
}

// ---- effective context

/** The context the host is currently calling into (0 outside callbacks). */
let currentContextId: u32 = 0;
/** The context host calls act on; starts as `currentContextId` in every callback. */
let effectiveContextId: u32 = 0;

/** Called at the start of every `proxy_on_*` callback. */
export function enterCallback(contextId: u32): void {
  currentContextId = contextId;
  effectiveContextId = contextId;
}

/** The context whose callback is running. */
export function currentContext(): u32 {
  return currentContextId;
}

/** The context host calls currently act on. */
export function effectiveContext(): u32 {
  return effectiveContextId;
}

/**
 * Makes `contextId` the one host calls act on, with one host call only when it
 * is not already effective. 0 means "leave it as it is". Returns false when
 * the host does not know the context (e.g. the stream is gone).
 */
export function activate(contextId: u32): bool {
  if (contextId == 0 || contextId == effectiveContextId) return true;
  if (proxy_set_effective_context(contextId) != 0) return false;
  effectiveContextId = contextId;
  return true;
}

// ---- buffer size hint: set by the dispatcher for the duration of a body or
// call-response callback, so `Body.size`/`readAll` need no extra host call.

let hintBufferType: i32 = -1;
let hintContextId: u32 = 0;
let hintSize: u32 = 0;

export function setSizeHint(bufferType: i32, contextId: u32, size: u32): void {
  hintBufferType = bufferType;
  hintContextId = contextId;
  hintSize = size;
}

export function clearSizeHint(): void {
  hintBufferType = -1;
}

/** The hinted size, or -1 when the dispatcher gave none for this buffer. */
export function sizeHint(bufferType: i32, contextId: u32): i64 {
  if (hintBufferType != bufferType) return -1;
  if (contextId != 0 && contextId != hintContextId) return -1;
  return <i64>hintSize;
}
