// The request's hash key for ring_hash / maglev, from the cluster's HashOn.
// Called once per request of a hash-policy cluster: the value is hashed in
// place (no substring for cookies), and the only allocations are whatever
// the accessors themselves make.
import type { HashOn } from '../config/types';
import { murmur3 } from './hash';
import { NO_HASH_KEY } from './lb/types';

/** How the core exposes a request to computeHashKey. Implemented once per stream type, not per request. */
export interface HashKeySource {
  /**
   * A request header's value, or null/undefined when absent. Matched
   * case-insensitively by the implementation. For `cookie`, several cookie
   * headers should come back joined with "; " (RFC 9113 8.2.3).
   */
  header(name: string): string | null | undefined;
  /** A query parameter's decoded value, or null/undefined when absent. */
  query(name: string): string | null | undefined;
  /** The downstream peer's IP address, "" when unknown. */
  sourceIp(): string;
}

/**
 * The unsigned 32-bit hash key, or NO_HASH_KEY (-1) when the request does not
 * carry the configured value; the hash policies then pick at random, as Envoy
 * does. A present but empty value hashes like any other string.
 */
export function computeHashKey(on: HashOn | null, src: HashKeySource): number {
  if (on === null) return NO_HASH_KEY;
  switch (on.kind) {
    case 'header': {
      const v = src.header(on.name);
      return v == null ? NO_HASH_KEY : murmur3(v);
    }
    case 'cookie': {
      const c = src.header('cookie');
      return c == null ? NO_HASH_KEY : hashCookie(c, on.name);
    }
    case 'query': {
      const v = src.query(on.name);
      return v == null ? NO_HASH_KEY : murmur3(v);
    }
    case 'source_ip': {
      const ip = src.sourceIp();
      return ip === '' ? NO_HASH_KEY : murmur3(ip);
    }
  }
}

/** Hash key for an explicit string, e.g. RouteDecision.hashKey set by a filter. */
export function hashKeyOf(value: string): number {
  return murmur3(value);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

// Result of the last findCookie: the value's [start, end) in the header.
// Module scope instead of a returned object so the scan allocates nothing;
// modules are per thread, and the values are read right after the call.
let foundStart = 0;
let foundEnd = 0;

/**
 * Hash of cookie `name`'s value in a Cookie header ("a=1; b=2"), or
 * NO_HASH_KEY. Names match case-sensitively (RFC 6265); the first occurrence
 * wins; a DQUOTE-wrapped value is hashed without its quotes, so `v` and `"v"`
 * map alike.
 */
export function hashCookie(header: string, name: string): number {
  return findCookie(header, name) ? murmur3(header, 0, foundStart, foundEnd) : NO_HASH_KEY;
}

/** The value of cookie `name`, or null. Allocates the value; for callers outside the hot path. */
export function cookieValue(header: string, name: string): string | null {
  return findCookie(header, name) ? header.slice(foundStart, foundEnd) : null;
}

function findCookie(h: string, name: string): boolean {
  const n = h.length;
  const nl = name.length;
  if (nl === 0) return false;
  let i = 0;
  while (i < n) {
    while (i < n && (isSpace(h.charCodeAt(i)) || h.charCodeAt(i) === 0x3b /* ; */)) i++;
    const eq = i + nl;
    if (eq < n && h.charCodeAt(eq) === 0x3d /* = */ && h.startsWith(name, i)) {
      let s = eq + 1;
      let e = h.indexOf(';', s);
      if (e < 0) e = n;
      while (s < e && isSpace(h.charCodeAt(s))) s++;
      while (e > s && isSpace(h.charCodeAt(e - 1))) e--;
      if (e - s >= 2 && h.charCodeAt(s) === 0x22 && h.charCodeAt(e - 1) === 0x22) {
        s++;
        e--;
      }
      foundStart = s;
      foundEnd = e;
      return true;
    }
    const semi = h.indexOf(';', i);
    if (semi < 0) break;
    i = semi + 1;
  }
  return false;
}
