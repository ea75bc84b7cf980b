// Reading and writing a guest's linear memory. The Buffer view is rebuilt only
// when memory.grow detached the old one, so host calls allocate nothing to
// reach guest memory. Strings go through Buffer's native slice/write methods
// directly: the public toString()/write() wrappers normalize their arguments
// on every call, which showed up as a third of a header lookup's cost.

/** Buffer's native codecs (present on every Buffer; not in @types/node). */
interface NativeBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  utf8Write(s: string, offset: number, length: number): number;
}

const TOKEN_CACHE = 64;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

export class GuestMemory {
  private memory: WebAssembly.Memory | null = null;
  private buf = Buffer.alloc(0) as NativeBuffer;
  private alloc: ((size: number) => number) | null = null;

  bind(memory: WebAssembly.Memory, alloc: (size: number) => number): void {
    this.memory = memory;
    this.alloc = alloc;
    this.buf = Buffer.from(memory.buffer) as NativeBuffer;
  }

  /**
   * The current view. memory.grow detaches the old ArrayBuffer (length 0),
   * so that check alone suffices; reading memory.buffer on every host call
   * would cost more than the rest of a typical host function.
   */
  view(): NativeBuffer {
    if (this.buf.byteLength === 0) this.buf = Buffer.from(this.memory!.buffer) as NativeBuffer;
    return this.buf;
  }

  inBounds(ptr: number, len: number): boolean {
    return ptr >= 0 && len >= 0 && ptr + len <= this.view().byteLength;
  }

  string(ptr: number, len: number): string {
    return this.view().utf8Slice(ptr, ptr + len);
  }

  /**
   * A header name or other ASCII token, lower-cased. Filters ask for the same
   * few names on every request, so decoded names are cached by a hash of
   * their bytes and verified byte by byte: no native call, no new string.
   */
  lowerToken(ptr: number, len: number): string {
    const b = this.view();
    if (len > 48) return b.latin1Slice(ptr, ptr + len).toLowerCase();
    let h = len;
    for (let i = 0; i < len; i++) h = (Math.imul(h, 31) + (b[ptr + i]! | 0x20)) | 0;
    const slot = (h >>> 0) & (TOKEN_CACHE - 1);
    const hit = this.tokens[slot];
    if (hit !== undefined && hit.length === len) {
      let same = true;
      for (let i = 0; i < len; i++) {
        const c = b[ptr + i]!;
        if ((c >= 65 && c <= 90 ? c + 32 : c) !== hit.charCodeAt(i)) {
          same = false;
          break;
        }
      }
      if (same) return hit;
    }
    const t = b.latin1Slice(ptr, ptr + len).toLowerCase();
    this.tokens[slot] = t;
    return t;
  }
  private readonly tokens: (string | undefined)[] = new Array(TOKEN_CACHE);

  /** An ASCII string the guest passes again and again (a property path), cached like lowerToken but case-kept. */
  cachedAscii(ptr: number, len: number): string {
    const b = this.view();
    if (len > 64) return b.utf8Slice(ptr, ptr + len);
    let h = len ^ 0x5bd1e995;
    for (let i = 0; i < len; i++) h = (Math.imul(h, 31) + b[ptr + i]!) | 0;
    const slot = (h >>> 0) & (TOKEN_CACHE - 1);
    const hit = this.paths[slot];
    if (hit !== undefined && hit.length === len) {
      let same = true;
      for (let i = 0; i < len; i++) {
        if (b[ptr + i] !== hit.charCodeAt(i)) {
          same = false;
          break;
        }
      }
      if (same) return hit;
    }
    const t = b.utf8Slice(ptr, ptr + len);
    // Only pure-ASCII strings are comparable byte for byte with their UTF-16 form.
    if (t.length === len) this.paths[slot] = t;
    return t;
  }
  private readonly paths: (string | undefined)[] = new Array(TOKEN_CACHE);

  /** A copy of guest bytes (the guest may reuse its memory after the call). */
  copy(ptr: number, len: number): Buffer {
    return Buffer.from(this.view().subarray(ptr, ptr + len));
  }

  /** A view valid only until the next call into the guest. */
  peek(ptr: number, len: number): Buffer {
    return this.view().subarray(ptr, ptr + len);
  }

  u32(ptr: number): number {
    const b = this.view();
    return (b[ptr]! | (b[ptr + 1]! << 8) | (b[ptr + 2]! << 16) | (b[ptr + 3]! << 24)) >>> 0;
  }

  /** Little-endian store; callers have checked nothing, so out-of-range pointers are dropped like a failed write. */
  setU32(ptr: number, v: number): void {
    const b = this.view();
    if (ptr < 0 || ptr + 4 > b.length) return;
    b[ptr] = v;
    b[ptr + 1] = v >>> 8;
    b[ptr + 2] = v >>> 16;
    b[ptr + 3] = v >>> 24;
  }

  setU64(ptr: number, v: bigint): void {
    this.view().writeBigUInt64LE(v, ptr);
  }

  /**
   * Stores `ms` (epoch milliseconds, fractional) as u64 nanoseconds. Filters
   * read the clock on every request; doing it in doubles, split so every step
   * stays exact below 2^53, avoids a BigInt per call.
   */
  setEpochNanos(ptr: number, ms: number): void {
    if (ptr < 0 || ptr + 8 > this.view().length) return;
    const whole = Math.floor(ms);
    const sub = Math.floor((ms - whole) * 1e6);
    const h = Math.floor(whole / 65536);
    const b = h * 1e6; // nanos = b * 2^16 + a
    const a = (whole - h * 65536) * 1e6 + sub;
    const t = (b % 65536) * 65536 + a;
    const lo = t % 4294967296;
    const hi = Math.floor(b / 65536) + Math.floor(t / 4294967296);
    this.setU32(ptr, lo);
    this.setU32(ptr + 4, hi);
  }

  /** Guest memory from the guest's own allocator; 0 if it failed. */
  allocate(size: number): number {
    // A zero-byte allocation may legitimately return 0 in some allocators; ask for one byte.
    return this.alloc!(size === 0 ? 1 : size) >>> 0;
  }

  /**
   * Copies bytes into fresh guest memory and stores pointer and size at the
   * two return addresses. False when the guest could not allocate.
   */
  give(bytes: Uint8Array, retPtr: number, retSize: number): boolean {
    const p = this.allocate(bytes.byteLength);
    if (p === 0) return false;
    this.view().set(bytes, p);
    this.setU32(retPtr, p);
    this.setU32(retSize, bytes.byteLength);
    return true;
  }

  /** give() for a string, encoded as UTF-8 straight into guest memory. */
  giveString(s: string, retPtr: number, retSize: number): boolean {
    // Header values are short and almost always ASCII: copying them in JS beats a native call.
    const ascii = s.length <= 64 && isAscii(s);
    const n = ascii ? s.length : Buffer.byteLength(s);
    const p = this.allocate(n);
    if (p === 0) return false;
    // allocate() ran guest code, which may have grown (and detached) memory: take the view after it.
    const b = this.view();
    if (ascii) for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
    else b.utf8Write(s, p, n);
    this.setU32(retPtr, p);
    this.setU32(retSize, n);
    return true;
  }
}
