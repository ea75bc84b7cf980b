// MurmurHash3 (x86, 32-bit) over the UTF-8 bytes of a JS string.
//
// Why this hash: it is fast in JS (Math.imul, no BigInt), well mixed (the
// ring and Maglev tables need uniformly spread points), non-cryptographic
// (hashing runs on every request of a hash-policy cluster), and it has public
// test vectors, so every wasmesh process - whatever the thread or version -
// provably places the same key at the same point.
//
// Why UTF-8 and not UTF-16 code units: the result is the standard byte-level
// MurmurHash3 of the key, so another implementation (a control plane, a test
// tool) can reproduce it. ASCII keys - the usual case for header values,
// cookies and IPs - take a fast path that reads char codes directly and
// allocates nothing. Other keys are encoded into a reused module-level
// scratch buffer (only a non-ASCII *range* of a longer string, e.g. a cookie
// value, costs one slice first).

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

let scratch: Buffer = Buffer.allocUnsafeSlow(256);

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number, len: number): number {
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3_x86_32 of `bytes[start, end)`. Returns an unsigned 32-bit integer. */
export function murmur3Bytes(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed | 0;
  const len = end - start;
  const blockEnd = start + (len & ~3);
  let p = start;
  for (; p < blockEnd; p += 4) {
    h = mixH(h, bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24));
  }
  const rem = len & 3;
  if (rem !== 0) {
    let k = bytes[p];
    if (rem > 1) k |= bytes[p + 1] << 8;
    if (rem > 2) k |= bytes[p + 2] << 16;
    h ^= mixK(k);
  }
  return fmix(h, len);
}

function isAscii(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * MurmurHash3_x86_32 of the UTF-8 encoding of `s.slice(start, end)`, without
 * creating the slice. Unsigned 32-bit result.
 */
export function murmur3(s: string, seed = 0, start = 0, end = s.length): number {
  if (!isAscii(s, start, end)) {
    const need = (end - start) * 3;
    if (scratch.length < need) scratch = Buffer.allocUnsafeSlow(Math.max(need, scratch.length * 2));
    // A lone surrogate encodes as U+FFFD, as TextEncoder does; deterministic either way.
    const n = start === 0 && end === s.length ? scratch.write(s, 0, 'utf8') : scratch.write(s.slice(start, end), 0, 'utf8');
    return murmur3Bytes(scratch, 0, n, seed);
  }
  let h = seed | 0;
  const len = end - start;
  const blockEnd = start + (len & ~3);
  let p = start;
  for (; p < blockEnd; p += 4) {
    h = mixH(h, s.charCodeAt(p) | (s.charCodeAt(p + 1) << 8) | (s.charCodeAt(p + 2) << 16) | (s.charCodeAt(p + 3) << 24));
  }
  const rem = len & 3;
  if (rem !== 0) {
    let k = s.charCodeAt(p);
    if (rem > 1) k |= s.charCodeAt(p + 1) << 8;
    if (rem > 2) k |= s.charCodeAt(p + 2) << 16;
    h ^= mixK(k);
  }
  return fmix(h, len);
}

/** The hash key of a request-supplied string (seed 0). */
export function hashString(s: string): number {
  return murmur3(s, 0, 0, s.length);
}
