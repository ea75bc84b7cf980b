// SDK internals shared by the wrappers: the result slots the host writes to,
// copying host-allocated memory into managed objects, scratch encoding of
// arguments, and effective-context tracking. Not part of the public API.
//
// Memory model. Per request, a filter passes a dozen names and values to the
// host and gets as many back; allocating (and later sweeping) an object for
// each was a third of a typical filter's cost, so neither direction allocates:
// - Arguments (header names, keys, property paths, values) are encoded into
//   two reusable raw blocks, the name slot and the value slot (`encodeName`,
//   `encodeValue`), valid until the next encode into the same slot.
// - Results: the host first calls the guest export
//   `proxy_on_memory_allocate(size)` (exports.ts), which bumps a pointer in a
//   raw arena (`allocateForHost`). The SDK copies the bytes into a managed
//   String or ArrayBuffer (or reads them in place) and releases the block at
//   once; the arena rewinds when no block is outstanding, and at the start of
//   every callback. Results too big for the arena get a TLSF block of their own.
// Raw blocks are invisible to the garbage collector, so a collection can never
// move or free them while the host is writing.

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

// ---- result arena

/** Results up to this size share the arena; bigger ones (bodies) get their own block. */
const ARENA_MAX_BLOCK: usize = 16384;
let arenaBase: usize = 0;
let arenaCap: usize = 0;
let arenaTop: usize = 0;
/** Arena blocks handed to the host and not yet released. */
let arenaLive: i32 = 0;

/** Allocates raw memory for the host (the body of `proxy_on_memory_allocate`). */
export function allocateForHost(size: usize): usize {
  const need = (size + 7) & ~<usize>7;
  if (need > ARENA_MAX_BLOCK) return heap.alloc(size);
  if (arenaTop + need > arenaCap) {
    // Grow only when nothing in the arena is outstanding; otherwise this one block goes to the heap.
    if (arenaLive != 0) return heap.alloc(size);
    let cap = arenaCap == 0 ? <usize>1024 : arenaCap;
    while (cap < need) cap <<= 1;
    if (arenaBase != 0) heap.free(arenaBase);
    arenaBase = heap.alloc(cap);
    arenaCap = cap;
    arenaTop = 0;
  }
  const p = arenaBase + arenaTop;
  arenaTop += need;
  arenaLive++;
  return p;
}

/** Frees a block the host wrote a result into. */
export function freeHostBlock(ptr: usize): void {
  if (ptr >= arenaBase && ptr < arenaBase + arenaCap) {
    if (--arenaLive <= 0) {
      arenaLive = 0;
      arenaTop = 0;
    }
  } else if (ptr >= __heap_base) {
    heap.free(ptr);
  }
}

/** Called at the start of each callback: no result of an earlier one can still be in use. */
// @ts-ignore: decorator
@inline function rewindArena(): void {
  arenaTop = 0;
  arenaLive = 0;
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

// ---- scratch encoding of arguments

/** A reusable raw block (not GC-managed) that one argument at a time is encoded into. */
class Scratch {
  ptr: usize = 0;
  cap: usize = 0;
  len: usize = 0;

  /** Room for `n` bytes; the previous contents are not kept. */
  ensure(n: usize): usize {
    if (n > this.cap || this.ptr == 0) {
      let cap: usize = 64;
      while (cap < n) cap <<= 1;
      if (this.ptr != 0) heap.free(this.ptr);
      this.ptr = heap.alloc(cap);
      this.cap = cap;
    }
    return this.ptr;
  }

  /** `n` zero-filled bytes, for arguments built in place. */
  reserve(n: usize): usize {
    const p = this.ensure(n);
    memory.fill(p, 0, n);
    this.len = n;
    return p;
  }

  /** The UTF-8 of `s`, ASCII-lowercased when `lower` (header names). */
  encode(s: string, lower: bool): usize {
    const p = this.ensure(<usize>String.UTF8.byteLength(s));
    const n = String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p);
    if (lower) {
      for (let i: usize = 0; i < n; i++) {
        const c = load<u8>(p + i);
        if (c >= 65 && c <= 90) store<u8>(p + i, c + 32);
      }
    }
    this.len = n;
    return p;
  }
}

/** Names, keys and property paths. */
const nameSlot = new Scratch();
/** Values and foreign-function arguments (a call may need a name and a value at once). */
const valueSlot = new Scratch();

/**
 * Encodes `s` as UTF-8 into the name slot, ASCII-lowercased when `lower`
 * (header names); returns the pointer, `nameSize()` the length. Valid until
 * the next use of the name slot.
 */
export function encodeName(s: string, lower: bool = false): usize {
  return nameSlot.encode(s, lower);
}

/** `n` bytes of the name slot, zero-filled, for arguments built in place; `nameSize()` is `n`. */
export function reserveName(n: usize): usize {
  return nameSlot.reserve(n);
}

/** Length in bytes of the last `encodeName`/`reserveName`. */
export function nameSize(): usize {
  return nameSlot.len;
}

/** Encodes `s` as UTF-8 into the value slot; `valueSize()` is the length. */
export function encodeValue(s: string): usize {
  return valueSlot.encode(s, false);
}

/** `n` bytes of the value slot, zero-filled, for arguments built in place; `valueSize()` is `n`. */
export function reserveValue(n: usize): usize {
  return valueSlot.reserve(n);
}

/** Length in bytes of the last `encodeValue`/`reserveValue`. */
export function valueSize(): usize {
  return valueSlot.len;
}

// ---- effective context

/** The context the host is currently calling into (0 outside callbacks). */
let currentContextId: u32 = 0;
/** The context host calls act on; starts as `currentContextId` in every callback. */
let effectiveContextId: u32 = 0;

/** Called at the start of every `proxy_on_*` callback. */
export function enterCallback(contextId: u32): void {
  rewindArena();
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
