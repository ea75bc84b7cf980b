// LEB128 encoding for the few values the rewriter emits (section and body
// sizes, counts, indices, memory limits). Decoding lives in reader.ts.

/** Bytes needed for an unsigned LEB128 of v (0 <= v < 2^53). */
export function ulebSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes an unsigned LEB128 at out[pos]; returns the position after it. */
export function writeUleb(out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}

export function uleb(v: number): Uint8Array {
  const out = new Uint8Array(ulebSize(v));
  writeUleb(out, 0, v);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
export function sleb32(v: number): Uint8Array {
  const out: number[] = [];
  v |= 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return Uint8Array.from(out);
    }
    out.push(byte | 0x80);
  }
}
