// A bounds-checked cursor over module bytes. Every decode error becomes a
// WasmLoadError naming what was being read and the absolute byte offset, so a
// refused filter can be diagnosed with a hex dump. One Reader per section or
// body; no objects are created per value read.
import { WasmLoadError } from '../../core/errors';

/** Throws the typed load error; `offset` is absolute within the module. */
export function malformed(what: string, offset: number): never {
  throw new WasmLoadError(`invalid wasm module: ${what} at byte offset ${offset}`, 'WASM_INVALID_MODULE');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class Reader {
  pos: number;
  end: number;
  constructor(
    readonly bytes: Uint8Array,
    pos: number,
    end: number,
  ) {
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(what: string): number {
    if (this.pos >= this.end) malformed(`unexpected end of ${what}`, this.pos);
    return this.bytes[this.pos++];
  }

  /** Unsigned LEB128, at most 5 bytes, value < 2^32. */
  u32(what: string): number {
    const b = this.bytes;
    const start = this.pos;
    let p = start;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (p >= this.end) malformed(`unexpected end of ${what}`, p);
      const byte = b[p++];
      if (shift === 28 && byte > 0x0f) malformed(`${what} does not fit in 32 bits`, start);
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        this.pos = p;
        return result;
      }
    }
    return malformed(`${what} is longer than 5 bytes`, start);
  }

  /** Signed LEB128 of up to 33 bits (block types, heap types); exact in a double. */
  s33(what: string): number {
    const b = this.bytes;
    const start = this.pos;
    let p = start;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (p >= this.end) malformed(`unexpected end of ${what}`, p);
      const byte = b[p++];
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        this.pos = p;
        return byte & 0x40 ? result - 2 ** (shift + 7) : result;
      }
    }
    return malformed(`${what} is longer than 5 bytes`, start);
  }

  /** Unsigned LEB128 up to 64 bits, as a double (memory64 limits; precision beyond 2^53 is irrelevant for caps). */
  u64(what: string): number {
    const b = this.bytes;
    const start = this.pos;
    let p = start;
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (p >= this.end) malformed(`unexpected end of ${what}`, p);
      const byte = b[p++];
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        this.pos = p;
        return result;
      }
    }
    return malformed(`${what} is longer than 10 bytes`, start);
  }

  /** Skips a LEB128 of at most `maxBytes` bytes without decoding it. */
  skipLeb(maxBytes: number, what: string): void {
    const b = this.bytes;
    const start = this.pos;
    const limit = Math.min(this.end, start + maxBytes);
    let p = start;
    while (p < limit) {
      if (b[p++] < 0x80) {
        this.pos = p;
        return;
      }
    }
    if (p >= this.end) malformed(`unexpected end of ${what}`, p);
    malformed(`${what} is longer than ${maxBytes} bytes`, start);
  }

  skip(n: number, what: string): void {
    if (n > this.end - this.pos) malformed(`unexpected end of ${what} (${n} bytes needed, ${this.end - this.pos} left)`, this.pos);
    this.pos += n;
  }

  /** A length-prefixed UTF-8 name. */
  name(what: string): string {
    const len = this.u32(`${what} length`);
    const start = this.pos;
    this.skip(len, what);
    try {
      return utf8.decode(this.bytes.subarray(start, start + len));
    } catch {
      return malformed(`${what} is not valid UTF-8`, start);
    }
  }

  /** Fails unless the cursor stopped exactly at the end of its range. */
  expectEnd(what: string): void {
    if (this.pos !== this.end) malformed(`${what} has ${this.end - this.pos} unexpected trailing bytes`, this.pos);
  }
}
