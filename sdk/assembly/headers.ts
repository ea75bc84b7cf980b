// Header maps: typed, lazy access to the host's request/response headers and
// trailers (and HTTP-call response headers). Every method is exactly one host
// call; nothing is fetched or cached ahead of time.

import {
  proxy_add_header_map_value, proxy_get_header_map_pairs, proxy_get_header_map_value,
  proxy_remove_header_map_value, proxy_replace_header_map_value, proxy_set_header_map_pairs,
} from "./imports";
import { MapType, Status } from "./enums";
import {
  RET_PTR, RET_SIZE, activate, clearReturn, encodeName, encodeValue, freeHostBlock, nameSize, takeString, valueSize,
} from "./internal";

/** One header: a name and a value. */
export class HeaderPair {
  constructor(public name: string, public value: string) {}

  toString(): string {
    return this.name + ": " + this.value;
  }
}

/**
 * A header map of the current stream. Names are matched case-insensitively
 * (they are lowercased before they reach the host, as HTTP/2 requires), and
 * pseudo-headers work like any other name: `":path"`, `":method"`,
 * `":authority"`, `":scheme"`, `":status"`.
 *
 * A map obtained from an `HttpContext` makes that context effective before
 * each host call, so it is safe to use from any callback (for instance from an
 * `HttpCallHandler` or a root context's `onTick`).
 */
export class HeaderMap {
  /**
   * @param mapType which map (`MapType.RequestHeaders`, ...)
   * @param contextId the stream it belongs to; 0 = whatever context is effective
   */
  constructor(readonly mapType: MapType, readonly contextId: u32 = 0) {}

  /** The first value of `name`, or null when absent. */
  get(name: string): string | null {
    activate(this.contextId);
    const key = encodeName(name, true);
    clearReturn();
    const st = proxy_get_header_map_value(this.mapType, key, nameSize(), RET_PTR, RET_SIZE);
    if (st != Status.Ok) return null;
    return takeString();
  }

  /** True when `name` is present. */
  has(name: string): bool {
    return this.get(name) !== null;
  }

  /**
   * Every value of a repeated header, in order (one host call: the pairs are
   * fetched and matched in guest memory, only matching values are decoded).
   */
  getAll(name: string): string[] {
    activate(this.contextId);
    const out = new Array<string>();
    const keyPtr = encodeName(name, true);
    const keyLen = nameSize();
    clearReturn();
    if (proxy_get_header_map_pairs(this.mapType, RET_PTR, RET_SIZE) != Status.Ok) return out;
    const ptr = load<usize>(RET_PTR);
    const size = <usize>load<u32>(RET_SIZE);
    if (size >= 4) {
      const n = <usize>load<u32>(ptr);
      const end = ptr + size;
      let lens = ptr + 4;
      let data = lens + n * 8;
      if (n <= (size - 4) / 8) {
        for (let i: usize = 0; i < n; i++) {
          const klen = <usize>load<u32>(lens);
          const vlen = <usize>load<u32>(lens + 4);
          lens += 8;
          if (<u64>data + <u64>klen + <u64>vlen + 2 > <u64>end) break;
          if (klen == keyLen && equalsAsciiCI(data, keyPtr, klen)) {
            out.push(String.UTF8.decodeUnsafe(data + klen + 1, vlen));
          }
          data += klen + vlen + 2;
        }
      }
    }
    freeHostBlock(ptr);
    return out;
  }

  /** All headers, in order. */
  pairs(): HeaderPair[] {
    activate(this.contextId);
    clearReturn();
    if (proxy_get_header_map_pairs(this.mapType, RET_PTR, RET_SIZE) != Status.Ok) return new Array<HeaderPair>();
    const ptr = load<usize>(RET_PTR);
    const out = decodeHeaderPairs(ptr, <usize>load<u32>(RET_SIZE));
    freeHostBlock(ptr);
    return out;
  }

  /** Sets `name` to `value`, replacing any existing values (adds it when absent). */
  set(name: string, value: string): Status {
    activate(this.contextId);
    const k = encodeName(name, true);
    const v = encodeValue(value);
    return <Status>proxy_replace_header_map_value(this.mapType, k, nameSize(), v, valueSize());
  }

  /** Adds a value for `name`, keeping existing ones. */
  add(name: string, value: string): Status {
    activate(this.contextId);
    const k = encodeName(name, true);
    const v = encodeValue(value);
    return <Status>proxy_add_header_map_value(this.mapType, k, nameSize(), v, valueSize());
  }

  /** Removes every value of `name`. */
  remove(name: string): Status {
    activate(this.contextId);
    const k = encodeName(name, true);
    return <Status>proxy_remove_header_map_value(this.mapType, k, nameSize());
  }

  /** Replaces the whole map with `pairs`. */
  setPairs(pairs: HeaderPair[]): Status {
    activate(this.contextId);
    const b = encodeHeaderPairs(pairs);
    return <Status>proxy_set_header_map_pairs(this.mapType, changetype<usize>(b), b.byteLength);
  }
}

function equalsAsciiCI(a: usize, b: usize, n: usize): bool {
  for (let i: usize = 0; i < n; i++) {
    let x = load<u8>(a + i);
    const y = load<u8>(b + i); // already lowercase
    if (x >= 65 && x <= 90) x += 32;
    if (x != y) return false;
  }
  return true;
}

/**
 * Serializes headers in the ABI's header-map format (little-endian u32s):
 * `[count]`, then `[name_len, value_len]` per pair, then `name \0 value \0`
 * per pair. Lengths exclude the NULs.
 */
export function encodeHeaderPairs(pairs: HeaderPair[] | null): ArrayBuffer {
  if (pairs === null || pairs.length == 0) {
    return new ArrayBuffer(4); // count 0
  }
  const n = pairs.length;
  const lens = new StaticArray<i32>(n * 2);
  let total: i32 = 4;
  for (let i = 0; i < n; i++) {
    const p = unchecked(pairs[i]);
    const kl = String.UTF8.byteLength(p.name);
    const vl = String.UTF8.byteLength(p.value);
    unchecked(lens[i * 2] = kl);
    unchecked(lens[i * 2 + 1] = vl);
    total += 8 + kl + 1 + vl + 1;
  }
  const out = new ArrayBuffer(total); // zero-filled: the NULs are already there
  const base = changetype<usize>(out);
  store<u32>(base, n);
  for (let i = 0; i < n; i++) {
    store<u32>(base + 4 + <usize>i * 8, unchecked(lens[i * 2]));
    store<u32>(base + 8 + <usize>i * 8, unchecked(lens[i * 2 + 1]));
  }
  let at = base + 4 + <usize>n * 8;
  for (let i = 0; i < n; i++) {
    const p = unchecked(pairs[i]);
    at += String.UTF8.encodeUnsafe(changetype<usize>(p.name), p.name.length, at) + 1;
    at += String.UTF8.encodeUnsafe(changetype<usize>(p.value), p.value.length, at) + 1;
  }
  return out;
}

/**
 * Parses a serialized header map at `ptr` (`size` bytes). An empty (0 or 1
 * byte) or malformed map yields no pairs, as in proxy-wasm-cpp-host.
 */
export function decodeHeaderPairs(ptr: usize, size: usize): HeaderPair[] {
  const out = new Array<HeaderPair>();
  if (size < 4) return out;
  const n = <usize>load<u32>(ptr);
  if (n > (size - 4) / 8) return out;
  const end = ptr + size;
  let lens = ptr + 4;
  let data = lens + n * 8;
  for (let i: usize = 0; i < n; i++) {
    const klen = <usize>load<u32>(lens);
    const vlen = <usize>load<u32>(lens + 4);
    lens += 8;
    if (<u64>data + <u64>klen + <u64>vlen + 2 > <u64>end) return new Array<HeaderPair>();
    out.push(new HeaderPair(
      String.UTF8.decodeUnsafe(data, klen),
      String.UTF8.decodeUnsafe(data + klen + 1, vlen),
    ));
    data += klen + vlen + 2;
  }
  return out;
}

/** `decodeHeaderPairs` over an ArrayBuffer. */
export function decodeHeaderBuffer(buffer: ArrayBuffer): HeaderPair[] {
  return decodeHeaderPairs(changetype<usize>(buffer), <usize>buffer.byteLength);
}
