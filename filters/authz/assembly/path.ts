// Path normalization before matching, as Istio configures Envoy's HTTP
// connection manager (`pathNormalization`): without it `DENY /admin/*` is
// bypassed by `/public/../admin/x`, `/%61dmin/x` or `//admin/x`, which
// the upstream may well resolve to /admin/x. wasmesh's core does not
// normalize, so the filter does, and forwards the normalized path, so the
// upstream gets exactly what was authorized.

export const enum PathNormalization {
  /** Match the path as received. */
  None = 0,
  /** RFC 3986: decode %-escaped unreserved characters, upper-case other escapes, `\` -> `/`, remove `.` and `..` segments. */
  Base = 1,
  /** Base, then merge repeated slashes. */
  MergeSlashes = 2,
}

function hexValue(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function isUnreserved(c: i32): bool {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 46 || c == 95 || c == 126;
}

const HEX = "0123456789ABCDEF";

/** Decodes %XX of unreserved characters and upper-cases the hex of every other escape; `\` becomes `/`. */
function decodeUnreserved(p: string): string {
  if (p.indexOf("%") < 0 && p.indexOf("\\") < 0) return p;
  let out = "";
  let i = 0;
  while (i < p.length) {
    const c = p.charCodeAt(i);
    if (c == 92) { // backslash
      out += "/";
      i++;
      continue;
    }
    if (c == 37 && i + 2 < p.length) {
      const h = hexValue(p.charCodeAt(i + 1));
      const l = hexValue(p.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        const v = (h << 4) | l;
        if (isUnreserved(v)) out += String.fromCharCode(v);
        else out += "%" + HEX.charAt(h) + HEX.charAt(l);
        i += 3;
        continue;
      }
    }
    out += String.fromCharCode(c);
    i++;
  }
  return out;
}

/** RFC 3986 section 5.2.4 on an absolute path (starts with "/"). */
function removeDotSegments(p: string): string {
  const segs = p.split("/");
  const out = new Array<string>();
  // segs[0] is "" (the path starts with "/")
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i];
    const last = i == segs.length - 1;
    if (s == ".") {
      if (last) out.push("");
    } else if (s == "..") {
      if (out.length > 0) out.pop();
      if (last) out.push("");
    } else {
      out.push(s);
    }
  }
  return "/" + out.join("/");
}

function mergeSlashes(p: string): string {
  if (p.indexOf("//") < 0) return p;
  let out = "";
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c == 47 && i > 0 && p.charCodeAt(i - 1) == 47) continue;
    out += String.fromCharCode(c);
  }
  return out;
}

/**
 * The normalized form of a `:path` (query kept as is). A path that is not
 * origin-form (does not start with "/", e.g. "*") is returned unchanged.
 */
export function normalizePath(path: string, mode: PathNormalization): string {
  if (mode == PathNormalization.None || path.length == 0 || path.charCodeAt(0) != 47) return path;
  const q = path.indexOf("?");
  let p = q >= 0 ? path.substring(0, q) : path;
  const query = q >= 0 ? path.substring(q) : "";
  const hash = p.indexOf("#");
  if (hash >= 0) p = p.substring(0, hash);
  p = decodeUnreserved(p);
  if (p.indexOf("/.") >= 0) p = removeDotSegments(p);
  if (mode == PathNormalization.MergeSlashes) p = mergeSlashes(p);
  return p + query;
}
