// proxy-wasm shared data (proxy_get_shared_data / proxy_set_shared_data) as
// a fixed-size open-addressing hash table in one SharedArrayBuffer. The main
// thread creates it and posts `.buffers` to every worker, which attaches;
// all threads then read and write it directly, with no messages.
//
// Semantics follow proxy-wasm-cpp-host (src/shared_data.cc):
//   - get on a missing key -> NOT_FOUND;
//   - set with cas 0 writes unconditionally; set with cas != 0 on an
//     existing key writes only if the entry's cas equals it, else
//     CAS_MISMATCH; set on a missing key inserts whatever cas was passed
//     (cpp-host does the same), so guests must create a counter key once
//     (e.g. in on_vm_start) before CAS loops on it can be exact;
//   - every successful write gives the entry a new cas: +1, skipping 0 on
//     wrap, so a cas read by get is never 0 ("unconditional").
// Keys are scoped by vm_id in proxy-wasm. This store is not: the host
// prefixes each key with its vm_id (e.g. `${vm_id}\0${key}`, built in a
// reused scratch buffer) and maxKeyBytes includes that prefix.
// The ABI has no delete, so neither does the table: a key, once inserted,
// keeps its slot for the life of the process.
//
// Sizing. Linear probing on murmur3(key); a probe sequence ends at the first
// empty slot, or after the longest displacement any insert ever needed
// (MAX_PROBE, so misses in a nearly full table stay bounded). Expected probes
// grow as 1/(1 - load)^2, so give the table about twice the keys you expect
// over the process lifetime. A full table makes inserts of new keys fail with
// INTERNAL_FAILURE; existing keys stay readable and writable. Memory is
// 128 + slots * slotBytes, slotBytes = roundUp(32 + roundUp(maxKeyBytes, 4)
// + roundUp(maxValueBytes, 4), 64); the defaults (4096 slots, 256-byte keys
// and values: slotBytes 576) take 2.25 MiB.
//
// Layout (little-endian; offsets in bytes):
//   header, 128 bytes
//     i32[0] MAGIC 'WMKV'   i32[1] VERSION   i32[2] SLOTS   i32[3] MAX_KEY_BYTES
//     i32[4] MAX_VALUE_BYTES   i32[5] SLOT_BYTES   i32[6] MAX_PROBE
//     i32[16] ENTRIES (byte 64, its own cache line: bumped on every insert)
//   slot s at 128 + s * SLOT_BYTES:
//     +0 LOCK  +4 STATE (0 empty, 1 used)  +8 HASH  +12 KEY_LEN
//     +16 VALUE_LEN  +20 CAS (u32)  +32 key bytes  +32+roundUp(maxKey,4) value bytes
// STATE, HASH, KEY_LEN and the key are written once, under LOCK, before
// STATE is set with a seq-cst store; they never change after, so probes
// compare keys without locking. VALUE_LEN, CAS and the value change on every
// set and are only touched under the slot's LOCK (by get as well, so a
// reader never sees a torn value or a value with another write's cas).

import { murmur3Bytes } from '../../cluster/hash';
import { bytesEqual, copyBytes, roundUp, validRange } from './bytes';
import { lock, unlock } from './spin-lock';
import { WasmResult } from './status';

export interface SharedKvOptions {
  /** Hash table slots = maximum number of distinct keys. Default 4096. */
  slots?: number;
  /** Longest key, vm_id prefix included. Default 256. */
  maxKeyBytes?: number;
  /** Longest value. Default 256. */
  maxValueBytes?: number;
}

/** What the main thread posts to workers (structured-cloneable; the SAB is shared, not copied). */
export interface SharedKvBuffers {
  readonly kv: SharedArrayBuffer;
}

/**
 * Reusable output of get(). `value` is a scratch buffer of maxValueBytes
 * owned by the caller; the entry's bytes are value[0, length). It is a copy,
 * so later writes by other threads do not change it.
 */
export interface KvResult {
  readonly value: Uint8Array;
  length: number;
  cas: number;
}

const MAGIC = 0x574d4b56;
const VERSION = 1;
const HEADER_BYTES = 128;
const H_MAGIC = 0;
const H_VERSION = 1;
const H_SLOTS = 2;
const H_MAX_KEY = 3;
const H_MAX_VALUE = 4;
const H_SLOT_BYTES = 5;
const H_MAX_PROBE = 6;
const H_ENTRIES = 16;

const S_LOCK = 0;
const S_STATE = 1;
const S_HASH = 2;
const S_KEY_LEN = 3;
const S_VALUE_LEN = 4;
const S_CAS = 5;
const SLOT_HEADER_BYTES = 32;

const EMPTY = 0;
const USED = 1;
const SEED = 0x6b766b76;
const WHAT = 'shared kv';

function sizing(o: SharedKvOptions): { slots: number; maxKey: number; maxValue: number; slotBytes: number } {
  const slots = o.slots ?? 4096;
  const maxKey = o.maxKeyBytes ?? 256;
  const maxValue = o.maxValueBytes ?? 256;
  if (!Number.isInteger(slots) || slots < 1 || slots > 1 << 22) throw new RangeError(`shared kv: bad slots ${slots}`);
  if (!Number.isInteger(maxKey) || maxKey < 1 || maxKey > 1 << 16) throw new RangeError(`shared kv: bad maxKeyBytes ${maxKey}`);
  if (!Number.isInteger(maxValue) || maxValue < 0 || maxValue > 1 << 20) throw new RangeError(`shared kv: bad maxValueBytes ${maxValue}`);
  const slotBytes = roundUp(SLOT_HEADER_BYTES + roundUp(maxKey, 4) + roundUp(maxValue, 4), 64);
  if (HEADER_BYTES + slots * slotBytes > 1 << 30) throw new RangeError('shared kv: larger than 1 GiB');
  return { slots, maxKey, maxValue, slotBytes };
}

export class SharedKv {
  readonly buffers: SharedKvBuffers;
  readonly slots: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly slotWords: number;
  private readonly valueOffset: number;

  /** Bytes of shared memory a table with these options takes. */
  static bytes(options: SharedKvOptions = {}): number {
    const s = sizing(options);
    return HEADER_BYTES + s.slots * s.slotBytes;
  }

  /** A new, empty table (main thread). */
  static create(options: SharedKvOptions = {}): SharedKv {
    const s = sizing(options);
    const buffer = new SharedArrayBuffer(HEADER_BYTES + s.slots * s.slotBytes);
    const h = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    h[H_MAGIC] = MAGIC;
    h[H_VERSION] = VERSION;
    h[H_SLOTS] = s.slots;
    h[H_MAX_KEY] = s.maxKey;
    h[H_MAX_VALUE] = s.maxValue;
    h[H_SLOT_BYTES] = s.slotBytes;
    return new SharedKv({ kv: buffer });
  }

  /** Another view of an existing table, e.g. in a worker that received `buffers`. */
  static attach(buffers: SharedKvBuffers): SharedKv {
    return new SharedKv(buffers);
  }

  private constructor(buffers: SharedKvBuffers) {
    const buffer = buffers.kv;
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HEADER_BYTES) throw new TypeError('shared kv: not a SharedArrayBuffer of the right size');
    this.i32 = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    if (this.i32[H_MAGIC] !== MAGIC || this.i32[H_VERSION] !== VERSION) throw new TypeError('shared kv: bad magic/version');
    this.slots = this.i32[H_SLOTS];
    this.maxKeyBytes = this.i32[H_MAX_KEY];
    this.maxValueBytes = this.i32[H_MAX_VALUE];
    const slotBytes = this.i32[H_SLOT_BYTES];
    if (buffer.byteLength !== HEADER_BYTES + this.slots * slotBytes) throw new RangeError('shared kv: buffer has the wrong length');
    this.slotWords = slotBytes >> 2;
    this.valueOffset = SLOT_HEADER_BYTES + roundUp(this.maxKeyBytes, 4);
    this.buffers = { kv: buffer };
  }

  /** A result object to reuse across get() calls (allocate once per thread). */
  createResult(): KvResult {
    return { value: new Uint8Array(this.maxValueBytes), length: 0, cas: 0 };
  }

  /** Keys stored (never decreases). */
  size(): number {
    return Atomics.load(this.i32, H_ENTRIES);
  }

  /**
   * proxy_get_shared_data: copies the value of key[keyOff, keyOff+keyLen)
   * into out.value and sets out.length and out.cas. OK, NOT_FOUND, or
   * BAD_ARGUMENT (bad range, or a key longer than maxKeyBytes - it could
   * never have been stored). Allocates nothing.
   */
  get(key: Uint8Array, out: KvResult, keyOff = 0, keyLen = key.length - keyOff): WasmResult {
    if (!validRange(key, keyOff, keyLen) || keyLen > this.maxKeyBytes) return WasmResult.BadArgument;
    if (out.value.length < this.maxValueBytes) throw new RangeError('shared kv: result buffer smaller than maxValueBytes (use createResult())');
    const hash = murmur3Bytes(key, keyOff, keyOff + keyLen, SEED) | 0;
    // Inserts raise MAX_PROBE before publishing, so every key visible now
    // lies within this many steps of its home slot.
    const limit = Atomics.load(this.i32, H_MAX_PROBE);
    let s = (hash >>> 0) % this.slots;
    for (let p = 0; p <= limit; p++) {
      const w = s * this.slotWords + (HEADER_BYTES >> 2);
      if (Atomics.load(this.i32, w + S_STATE) === EMPTY) return WasmResult.NotFound;
      if (this.keyMatches(w, hash, key, keyOff, keyLen)) {
        lock(this.i32, w + S_LOCK, WHAT);
        const len = this.i32[w + S_VALUE_LEN];
        copyBytes(this.u8, (w << 2) + this.valueOffset, out.value, 0, len);
        out.length = len;
        out.cas = this.i32[w + S_CAS] >>> 0;
        unlock(this.i32, w + S_LOCK);
        return WasmResult.Ok;
      }
      if (++s === this.slots) s = 0;
    }
    return WasmResult.NotFound;
  }

  /**
   * proxy_set_shared_data: store value[valueOff, valueOff+valueLen) under
   * key[keyOff, keyOff+keyLen). `cas` is a u32 (an i32 straight from Wasm is
   * accepted and reinterpreted). Returns OK, CAS_MISMATCH, BAD_ARGUMENT (bad
   * range or cas, key over maxKeyBytes, value over maxValueBytes) or
   * INTERNAL_FAILURE (new key, table full). Allocates nothing.
   */
  set(key: Uint8Array, value: Uint8Array, cas: number, keyOff = 0, keyLen = key.length - keyOff, valueOff = 0, valueLen = value.length - valueOff): WasmResult {
    if (!validRange(key, keyOff, keyLen) || keyLen > this.maxKeyBytes) return WasmResult.BadArgument;
    if (!validRange(value, valueOff, valueLen) || valueLen > this.maxValueBytes) return WasmResult.BadArgument;
    if (!Number.isInteger(cas) || cas < -0x80000000 || cas > 0xffffffff) return WasmResult.BadArgument;
    cas >>>= 0;
    const hash = murmur3Bytes(key, keyOff, keyOff + keyLen, SEED) | 0;
    let s = (hash >>> 0) % this.slots;
    for (let p = 0; p < this.slots; p++) {
      const w = s * this.slotWords + (HEADER_BYTES >> 2);
      if (Atomics.load(this.i32, w + S_STATE) === USED) {
        if (this.keyMatches(w, hash, key, keyOff, keyLen)) return this.update(w, value, valueOff, valueLen, cas);
      } else {
        // Empty: claim it under its lock. A racing insert may have filled it
        // first; every thread walks the same sequence and only passes a slot
        // that holds another key, so a key can only ever land in one slot.
        lock(this.i32, w + S_LOCK, WHAT);
        if (this.i32[w + S_STATE] === EMPTY) {
          this.insert(w, p, hash, key, keyOff, keyLen, value, valueOff, valueLen);
          unlock(this.i32, w + S_LOCK);
          return WasmResult.Ok;
        }
        unlock(this.i32, w + S_LOCK);
        if (this.keyMatches(w, hash, key, keyOff, keyLen)) return this.update(w, value, valueOff, valueLen, cas);
      }
      if (++s === this.slots) s = 0;
    }
    return WasmResult.InternalFailure;
  }

  // Called with the slot locked and empty.
  private insert(w: number, probe: number, hash: number, key: Uint8Array, keyOff: number, keyLen: number, value: Uint8Array, valueOff: number, valueLen: number): void {
    // Raise MAX_PROBE first, so a get that can see this key also probes far enough.
    for (;;) {
      const cur = Atomics.load(this.i32, H_MAX_PROBE);
      if (cur >= probe || Atomics.compareExchange(this.i32, H_MAX_PROBE, cur, probe) === cur) break;
    }
    this.i32[w + S_HASH] = hash;
    this.i32[w + S_KEY_LEN] = keyLen;
    copyBytes(key, keyOff, this.u8, (w << 2) + SLOT_HEADER_BYTES, keyLen);
    copyBytes(value, valueOff, this.u8, (w << 2) + this.valueOffset, valueLen);
    this.i32[w + S_VALUE_LEN] = valueLen;
    this.i32[w + S_CAS] = 1;
    Atomics.store(this.i32, w + S_STATE, USED);
    Atomics.add(this.i32, H_ENTRIES, 1);
  }

  private update(w: number, value: Uint8Array, valueOff: number, valueLen: number, cas: number): WasmResult {
    lock(this.i32, w + S_LOCK, WHAT);
    const cur = this.i32[w + S_CAS] >>> 0;
    if (cas !== 0 && cas !== cur) {
      unlock(this.i32, w + S_LOCK);
      return WasmResult.CasMismatch;
    }
    copyBytes(value, valueOff, this.u8, (w << 2) + this.valueOffset, valueLen);
    this.i32[w + S_VALUE_LEN] = valueLen;
    this.i32[w + S_CAS] = cur === 0xffffffff ? 1 : cur + 1;
    unlock(this.i32, w + S_LOCK);
    return WasmResult.Ok;
  }

  // Only for a slot seen USED: its hash, length and key bytes are immutable.
  private keyMatches(w: number, hash: number, key: Uint8Array, keyOff: number, keyLen: number): boolean {
    return this.i32[w + S_HASH] === hash && this.i32[w + S_KEY_LEN] === keyLen && bytesEqual(this.u8, (w << 2) + SLOT_HEADER_BYTES, key, keyOff, keyLen);
  }
}
