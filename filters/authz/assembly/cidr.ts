// IP addresses and CIDR ranges, IPv4 and IPv6 in one 128-bit space: an IPv4
// address is stored as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so
// "10.0.0.0/8" matches both 10.1.2.3 and ::ffff:10.1.2.3.

/** A 128-bit address as two halves. */
export class IpAddr {
  constructor(readonly hi: u64, readonly lo: u64) {}
}

/** An address range: `bits` leading bits of (hi, lo); the rest are zero. */
export class Cidr {
  constructor(readonly hi: u64, readonly lo: u64, readonly bits: i32) {}

  contains(a: IpAddr): bool {
    return (a.hi & maskHi(this.bits)) == this.hi && (a.lo & maskLo(this.bits)) == this.lo;
  }
}

function maskHi(bits: i32): u64 {
  if (bits <= 0) return 0;
  if (bits >= 64) return U64.MAX_VALUE;
  return U64.MAX_VALUE << <u64>(64 - bits);
}

function maskLo(bits: i32): u64 {
  if (bits <= 64) return 0;
  if (bits >= 128) return U64.MAX_VALUE;
  return U64.MAX_VALUE << <u64>(128 - bits);
}

const V4_MAPPED: u64 = 0x0000ffff00000000;

/** Parses dotted IPv4 ("10.1.2.3"); -1 when invalid, else the 32-bit value. */
function parseV4(s: string): i64 {
  let value: u64 = 0;
  let octets = 0;
  let digits = 0;
  let cur: u32 = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c == 46) {
      if (digits == 0 || octets == 4) return -1;
      value = (value << 8) | <u64>cur;
      octets++;
      digits = 0;
      cur = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && cur == 0) return -1; // no leading zeros (ambiguous octal)
      cur = cur * 10 + <u32>(c - 48);
      digits++;
      if (cur > 255) return -1;
    } else {
      return -1;
    }
  }
  return octets == 4 ? <i64>value : -1;
}

/** Parses up to 4 hex digits; -1 when invalid. */
function parseHexGroup(s: string): i32 {
  if (s.length == 0 || s.length > 4) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let d: i32;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return -1;
    v = (v << 4) | d;
  }
  return v;
}

/** Appends the 16-bit groups of one side of "::"; false when invalid. */
function parseGroups(s: string, out: Array<i32>, allowV4Tail: bool): bool {
  if (s.length == 0) return true;
  const parts = s.split(":");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (allowV4Tail && i == parts.length - 1 && p.indexOf(".") >= 0) {
      const v4 = parseV4(p);
      if (v4 < 0) return false;
      out.push(<i32>((v4 >> 16) & 0xffff));
      out.push(<i32>(v4 & 0xffff));
      continue;
    }
    const g = parseHexGroup(p);
    if (g < 0) return false;
    out.push(g);
  }
  return true;
}

/** Parses an IPv4 or IPv6 address (IPv6 may be bracketed and carry a %zone). Null when invalid. */
export function parseIp(text: string): IpAddr | null {
  let s = text;
  if (s.length >= 2 && s.charCodeAt(0) == 91 && s.charCodeAt(s.length - 1) == 93) s = s.substring(1, s.length - 1);
  const pct = s.indexOf("%");
  if (pct >= 0) s = s.substring(0, pct);
  if (s.length == 0) return null;
  if (s.indexOf(":") < 0) {
    const v4 = parseV4(s);
    if (v4 < 0) return null;
    return new IpAddr(0, V4_MAPPED | <u64>v4);
  }
  const groups = new Array<i32>();
  const dc = s.indexOf("::");
  if (dc >= 0) {
    if (s.indexOf("::", dc + 1) >= 0) return null;
    const left = s.substring(0, dc);
    const right = s.substring(dc + 2);
    const l = new Array<i32>();
    const r = new Array<i32>();
    if (!parseGroups(left, l, false) || !parseGroups(right, r, true)) return null;
    if (l.length + r.length > 7) return null;
    for (let i = 0; i < l.length; i++) groups.push(l[i]);
    for (let i = l.length + r.length; i < 8; i++) groups.push(0);
    for (let i = 0; i < r.length; i++) groups.push(r[i]);
  } else {
    if (!parseGroups(s, groups, true) || groups.length != 8) return null;
  }
  let hi: u64 = 0;
  let lo: u64 = 0;
  for (let i = 0; i < 4; i++) hi = (hi << 16) | <u64>groups[i];
  for (let i = 4; i < 8; i++) lo = (lo << 16) | <u64>groups[i];
  return new IpAddr(hi, lo);
}

/**
 * Parses "addr" or "addr/len" (IPv4 len 0-32, IPv6 0-128). Host bits below
 * the prefix are ignored (masked), as Envoy's CidrRange does. Null when invalid.
 */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.substring(0, slash);
  const a = parseIp(addrText);
  if (a === null) return null;
  const v4 = addrText.indexOf(":") < 0;
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const lenText = text.substring(slash + 1);
    if (lenText.length == 0 || lenText.length > 3) return null;
    bits = 0;
    for (let i = 0; i < lenText.length; i++) {
      const c = lenText.charCodeAt(i);
      if (c < 48 || c > 57) return null;
      bits = bits * 10 + (c - 48);
    }
    if (bits > max) return null;
  }
  if (v4) bits += 96;
  return new Cidr(a.hi & maskHi(bits), a.lo & maskLo(bits), bits);
}

/**
 * The IP of an `ip:port` address as the host reports it (`source.address`):
 * "10.0.0.1:5000", "[::1]:5000" or "::1:5000" (IPv6 unbracketed, port last).
 */
export function stripPort(address: string): string {
  if (address.length > 0 && address.charCodeAt(0) == 91) {
    const close = address.indexOf("]");
    return close > 0 ? address.substring(1, close) : address;
  }
  const colon = address.lastIndexOf(":");
  return colon < 0 ? address : address.substring(0, colon);
}
