// proxy-wasm header-map serialization: u32 count, count × (u32 key length,
// u32 value length), then each key and value followed by a NUL. Little-endian.
import type { GuestMemory } from './guest-memory';

/** Limits from proxy-wasm-cpp-host (limits.h); a larger map is a parse failure. */
export const MAX_PAIRS = 1024;
export const MAX_MAP_BYTES = 1024 * 1024;

export interface PairSource {
  readonly count: number;
  name(i: number): string;
  value(i: number): string;
}

/** UTF-8 length; header names and values are almost always ASCII, where it is the string length. */
function byteLength(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return Buffer.byteLength(s);
  return s.length;
}

/** Serialized size of a pair source. */
export function pairsSize(src: PairSource): number {
  let n = 4;
  for (let i = 0; i < src.count; i++) n += 10 + byteLength(src.name(i)) + byteLength(src.value(i));
  return n;
}

function putU32(b: Buffer, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
  b[at + 2] = v >>> 16;
  b[at + 3] = v >>> 24;
}

/** Writes `s` at `at` and returns its byte length; ASCII is copied in JS (cheaper than a native call for short strings). */
function putString(b: Buffer, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) return b.write(s, at, 'utf8');
    b[at + i] = c;
  }
  return n;
}

/** Serializes straight into fresh guest memory; returns the pointer (0 if allocation failed). */
export function writePairs(mem: GuestMemory, src: PairSource, size: number): number {
  const p = mem.allocate(size);
  if (p === 0) return 0;
  const b = mem.view();
  const n = src.count;
  putU32(b, p, n);
  let lens = p + 4;
  let data = p + 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const kl = putString(b, data, src.name(i));
    data += kl;
    b[data++] = 0;
    const vl = putString(b, data, src.value(i));
    data += vl;
    b[data++] = 0;
    putU32(b, lens, kl);
    putU32(b, lens + 4, vl);
    lens += 8;
  }
  return p;
}

/** Parses serialized pairs from bytes; null on malformed input. */
export function readPairs(b: Uint8Array, off: number, len: number): [string, string][] | null {
  if (len === 0 || (len === 1 && b[off] === 0)) return [];
  if (len < 4 || len > MAX_MAP_BYTES) return null;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const n = buf.readUInt32LE(off);
  if (n > MAX_PAIRS || 4 + n * 8 > len) return null;
  const out: [string, string][] = [];
  let data = off + 4 + n * 8;
  const end = off + len;
  for (let i = 0; i < n; i++) {
    const kl = buf.readUInt32LE(off + 4 + i * 8);
    const vl = buf.readUInt32LE(off + 8 + i * 8);
    if (data + kl + vl + 2 > end) return null;
    const k = buf.toString('utf8', data, data + kl);
    data += kl + 1;
    const v = buf.toString('utf8', data, data + vl);
    data += vl + 1;
    out.push([k, v]);
  }
  return out;
}

/** Serializes pairs into a standalone Buffer (for the emulator and tests). */
export function encodePairs(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  let size = 4;
  for (const [k, v] of pairs) size += 10 + Buffer.byteLength(k) + Buffer.byteLength(v);
  const b = Buffer.alloc(size);
  b.writeUInt32LE(pairs.length, 0);
  let data = 4 + pairs.length * 8;
  pairs.forEach(([k, v], i) => {
    const kl = b.write(k, data);
    data += kl + 1;
    const vl = b.write(v, data);
    data += vl + 1;
    b.writeUInt32LE(kl, 4 + i * 8);
    b.writeUInt32LE(vl, 8 + i * 8);
  });
  return b;
}
