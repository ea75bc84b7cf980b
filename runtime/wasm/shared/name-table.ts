// An append-only table of byte-string names inside a shared buffer, used to
// give queues and metrics the same id on every thread. Entries are never
// removed or changed once published, which is what keeps it simple:
//
//   - lookups take no lock: COUNT is published with a seq-cst store after an
//     entry is fully written, so a reader that loads COUNT = n may read
//     entries [0, n) with plain loads (the store/load pair orders them);
//   - adding takes the table lock, re-checks the entries appended since the
//     lock-free scan, then appends, so one name gets exactly one index.
//
// Lookups are a linear scan comparing a stored hash first. Tables hold at
// most a few thousand names and are consulted at definition time (once per
// VM), not per request.
//
// Region layout (byte offsets from the region start, region 8-byte aligned):
//   header, 64 bytes (its own cache line, since the lock lives there)
//     i32[0] LOCK   i32[1] COUNT   i32[2] CAPACITY   i32[3] MAX_KEY_BYTES
//   then CAPACITY entries of 16 + roundUp(MAX_KEY_BYTES, 4) bytes:
//     +0 i32 HASH (murmur3 of the key)   +4 i32 LENGTH   +8 i32 AUX   +12 unused
//     +16 key bytes
// AUX is an immutable per-entry word for the owner (the metric type).

import { murmur3Bytes } from '../../cluster/hash';
import { bytesEqual, copyBytes, roundUp } from './bytes';
import { lock, unlock } from './spin-lock';

const H_LOCK = 0;
const H_COUNT = 1;
const H_CAPACITY = 2;
const H_MAX_KEY = 3;
const HEADER_BYTES = 64;
const E_HASH = 0;
const E_LENGTH = 1;
const E_AUX = 2;
const ENTRY_HEADER_BYTES = 16;
const SEED = 0x6e616d65; // 'name'

function entryBytes(maxKeyBytes: number): number {
  return ENTRY_HEADER_BYTES + roundUp(maxKeyBytes, 4);
}

/** Bytes a table region needs (a multiple of 64). */
export function nameTableBytes(capacity: number, maxKeyBytes: number): number {
  return roundUp(HEADER_BYTES + capacity * entryBytes(maxKeyBytes), 64);
}

/** Write the header of a fresh (zero-filled) region. Main thread, before sharing. */
export function initNameTable(buffer: SharedArrayBuffer, byteOffset: number, capacity: number, maxKeyBytes: number): void {
  const h = new Int32Array(buffer, byteOffset, HEADER_BYTES / 4);
  h[H_CAPACITY] = capacity;
  h[H_MAX_KEY] = maxKeyBytes;
}

export class NameTable {
  readonly capacity: number;
  readonly maxKeyBytes: number;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  /** Entry stride in i32 words, and the first entry's word index in i32. */
  private readonly strideWords: number;
  private readonly firstWord: number;

  constructor(buffer: SharedArrayBuffer, private readonly byteOffset: number, private readonly what: string) {
    if (byteOffset % 8 !== 0) throw new RangeError('name table must be 8-byte aligned');
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    const base = byteOffset >> 2;
    this.capacity = this.i32[base + H_CAPACITY];
    this.maxKeyBytes = this.i32[base + H_MAX_KEY];
    this.strideWords = entryBytes(this.maxKeyBytes) >> 2;
    this.firstWord = base + HEADER_BYTES / 4;
    if (byteOffset + nameTableBytes(this.capacity, this.maxKeyBytes) > buffer.byteLength) throw new RangeError(`${what}: name table exceeds its buffer`);
  }

  /** Published entries. */
  count(): number {
    return Atomics.load(this.i32, (this.byteOffset >> 2) + H_COUNT);
  }

  /** Index of `key[off, off+len)`, or -1. Lock-free. */
  find(key: Uint8Array, off: number, len: number): number {
    return this.scan(key, off, len, murmur3Bytes(key, off, off + len, SEED) | 0, 0, this.count());
  }

  /**
   * Index of the key, appending it (with `aux`) if absent. -1 if the table is
   * full. The caller has checked len <= maxKeyBytes. An existing entry keeps
   * its original aux: compare aux(index) to detect a conflicting definition.
   */
  add(key: Uint8Array, off: number, len: number, aux: number): number {
    if (len > this.maxKeyBytes) throw new RangeError(`${this.what}: key longer than ${this.maxKeyBytes} bytes`);
    const hash = murmur3Bytes(key, off, off + len, SEED) | 0;
    const seen = this.count();
    const found = this.scan(key, off, len, hash, 0, seen);
    if (found >= 0) return found;
    const lockWord = (this.byteOffset >> 2) + H_LOCK;
    lock(this.i32, lockWord, this.what);
    try {
      const n = this.i32[(this.byteOffset >> 2) + H_COUNT];
      const raced = this.scan(key, off, len, hash, seen, n);
      if (raced >= 0) return raced;
      if (n >= this.capacity) return -1;
      const e = this.firstWord + n * this.strideWords;
      this.i32[e + E_HASH] = hash;
      this.i32[e + E_LENGTH] = len;
      this.i32[e + E_AUX] = aux;
      copyBytes(key, off, this.u8, (e << 2) + ENTRY_HEADER_BYTES, len);
      // Publish: everything above becomes visible to whoever loads COUNT > n.
      Atomics.store(this.i32, (this.byteOffset >> 2) + H_COUNT, n + 1);
      return n;
    } finally {
      unlock(this.i32, lockWord);
    }
  }

  /** The AUX word of a published entry. */
  aux(index: number): number {
    return this.i32[this.firstWord + index * this.strideWords + E_AUX];
  }

  /** A copy of a published entry's key (allocates; for snapshots). */
  key(index: number): Uint8Array {
    const e = this.firstWord + index * this.strideWords;
    const start = (e << 2) + ENTRY_HEADER_BYTES;
    return this.u8.slice(start, start + this.i32[e + E_LENGTH]);
  }

  private scan(key: Uint8Array, off: number, len: number, hash: number, from: number, to: number): number {
    for (let i = from; i < to; i++) {
      const e = this.firstWord + i * this.strideWords;
      if (this.i32[e + E_HASH] === hash && this.i32[e + E_LENGTH] === len && bytesEqual(this.u8, (e << 2) + ENTRY_HEADER_BYTES, key, off, len)) return i;
    }
    return -1;
  }
}
