// Small byte helpers shared by the KV store, queues and name tables.

/**
 * Copy `len` bytes. Short copies (the common KV case) use a loop, which
 * allocates nothing; longer ones use TypedArray#set for memcpy speed, at the
 * cost of one short-lived subarray view - cheaper than looping over KBs
 * while holding a shared lock.
 */
export function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, len: number): void {
  if (len <= 64) {
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i];
  } else {
    dst.set(src.subarray(srcOff, srcOff + len), dstOff);
  }
}

/** Byte-wise equality of two ranges of equal length `len`. */
export function bytesEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** `x` rounded up to a multiple of `m` (a power of two). */
export function roundUp(x: number, m: number): number {
  return (x + m - 1) & ~(m - 1);
}

const encoder = new TextEncoder();

/** Names arrive as guest bytes from the ABI, or as strings from JS callers (allocates; not for hot paths). */
export function toBytes(s: string | Uint8Array): Uint8Array {
  return typeof s === 'string' ? encoder.encode(s) : s;
}

/** True if [off, off + len) is a valid integer range inside `a`. */
export function validRange(a: Uint8Array, off: number, len: number): boolean {
  return Number.isInteger(off) && Number.isInteger(len) && off >= 0 && len >= 0 && off + len <= a.length;
}
