// Small string helpers (ASCII-only case folding, as HTTP wants).

/** ASCII-lowercases `s`; returns `s` itself when it has no upper-case letter. */
export function lowerAscii(s: string): string {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) break;
  }
  if (i == n) return s;
  const out = new Array<string>();
  let from = 0;
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c >= 65 && c <= 90) {
      if (j > from) out.push(s.substring(from, j));
      out.push(String.fromCharCode(c + 32));
      from = j + 1;
    }
  }
  if (from < n) out.push(s.substring(from));
  return out.join("");
}

/** True when `a` starts with `prefix`, ignoring ASCII case (`prefix` already lower-case). */
export function startsWithLower(a: string, prefix: string): bool {
  const n = prefix.length;
  if (a.length < n) return false;
  for (let i = 0; i < n; i++) {
    let c = a.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c != prefix.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The host part of an authority: "example.com:8080" -> "example.com",
 * "[::1]:80" -> "[::1]". A bare IPv6 address (several colons) is kept whole.
 */
export function stripPort(authority: string): string {
  const n = authority.length;
  if (n == 0) return authority;
  if (authority.charCodeAt(0) == 91) { // [v6]:port
    const close = authority.indexOf("]");
    return close < 0 ? authority : authority.substring(0, close + 1);
  }
  const colon = authority.lastIndexOf(":");
  if (colon < 0) return authority;
  if (authority.indexOf(":") != colon) return authority; // bare IPv6
  for (let i = colon + 1; i < n; i++) {
    const c = authority.charCodeAt(i);
    if (c < 48 || c > 57) return authority;
  }
  return authority.substring(0, colon);
}

/** The port of an authority, or "" when it has none. */
export function portOf(authority: string): string {
  const host = stripPort(authority);
  return host.length < authority.length ? authority.substring(host.length + 1) : "";
}

/** An HTTP token character (RFC 9110), as allowed in header names. */
export function isTokenChar(c: i32): bool {
  if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90)) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return c == 33 || c == 35 || c == 36 || c == 37 || c == 38 || c == 39 || c == 42 || c == 43 ||
    c == 45 || c == 46 || c == 94 || c == 95 || c == 96 || c == 124 || c == 126;
}

export function isToken(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** True when `s` has no CR, LF or NUL (a header value must not). */
export function isSafeHeaderValue(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 13 || c == 10 || c == 0) return false;
  }
  return true;
}

/** The path without its query string and fragment. */
export function pathOnly(path: string): string {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c == 63 || c == 35) return path.substring(0, i); // ? #
  }
  return path;
}

/** The query string with its '?' ("" when none), without a fragment. */
export function queryPart(path: string): string {
  const q = path.indexOf("?");
  if (q < 0) return "";
  const hash = path.indexOf("#", q);
  return hash < 0 ? path.substring(q) : path.substring(q, hash);
}
