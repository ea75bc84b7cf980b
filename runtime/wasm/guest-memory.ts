// Reading and writing a guest's linear memory. The Buffer view is rebuilt only
// when memory.grow detached the old one, so host calls allocate nothing to
// reach guest memory.
export class GuestMemory {
  private memory: WebAssembly.Memory | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private alloc: ((size: number) => number) | null = null;

  bind(memory: WebAssembly.Memory, alloc: (size: number) => number): void {
    this.memory = memory;
    this.alloc = alloc;
    this.buf = Buffer.from(memory.buffer);
  }

  /**
   * The current view. memory.grow detaches the old ArrayBuffer (length 0),
   * so that check alone suffices; reading memory.buffer on every host call
   * would cost more than the rest of a typical host function.
   */
  view(): Buffer {
    if (this.buf.byteLength === 0) this.buf = Buffer.from(this.memory!.buffer);
    return this.buf;
  }

  inBounds(ptr: number, len: number): boolean {
    return ptr >= 0 && len >= 0 && ptr + len <= this.view().byteLength;
  }

  string(ptr: number, len: number): string {
    return this.view().toString('utf8', ptr, ptr + len);
  }

  /** A copy of guest bytes (the guest may reuse its memory after the call). */
  copy(ptr: number, len: number): Buffer {
    return Buffer.from(this.view().subarray(ptr, ptr + len));
  }

  /** A view valid only until the next call into the guest. */
  peek(ptr: number, len: number): Buffer {
    return this.view().subarray(ptr, ptr + len);
  }

  u32(ptr: number): number {
    return this.view().readUInt32LE(ptr);
  }

  setU32(ptr: number, v: number): void {
    this.view().writeUInt32LE(v >>> 0, ptr);
  }

  setU64(ptr: number, v: bigint): void {
    this.view().writeBigUInt64LE(v, ptr);
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
    const n = Buffer.byteLength(s);
    const p = this.allocate(n);
    if (p === 0) return false;
    this.view().write(s, p, n, 'utf8');
    this.setU32(retPtr, p);
    this.setU32(retSize, n);
    return true;
  }
}
