// What the matchers see of one request. Everything is fetched lazily and at
// most once: the pseudo-headers with one host call each, all headers (only
// when a header matcher or hash key needs them) with one host call, and the
// query string is split on first use.

import { HeaderMap, HeaderPair } from "wasmesh-sdk";
import { pathOnly } from "./text";

export class RequestView {
  private pairsCache: HeaderPair[] | null = null;
  private pathValue: string = "";
  private methodValue: string = "";
  private authorityValue: string = "";
  private urlPathValue: string = "";
  /** Which of the above are loaded: bits 1 path, 2 method, 4 authority, 8 url path. */
  private loaded: i32 = 0;
  private queryNames: string[] | null = null;
  private queryValues: string[] = new Array<string>();

  constructor(readonly headers: HeaderMap) {}

  get authority(): string {
    if ((this.loaded & 4) == 0) {
      const v = this.headers.get(":authority");
      this.authorityValue = v !== null ? v : "";
      this.loaded |= 4;
    }
    return this.authorityValue;
  }

  /** `:path` with its query string. */
  get path(): string {
    if ((this.loaded & 1) == 0) {
      const v = this.headers.get(":path");
      this.pathValue = v !== null ? v : "";
      this.loaded |= 1;
    }
    return this.pathValue;
  }

  /** `:path` without query string or fragment. */
  get urlPath(): string {
    if ((this.loaded & 8) == 0) {
      this.urlPathValue = pathOnly(this.path);
      this.loaded |= 8;
    }
    return this.urlPathValue;
  }

  get method(): string {
    if ((this.loaded & 2) == 0) {
      const v = this.headers.get(":method");
      this.methodValue = v !== null ? v : "";
      this.loaded |= 2;
    }
    return this.methodValue;
  }

  /**
   * A request header (name lower-case; pseudo-headers such as ":authority"
   * work too): all its values joined with ",", as Envoy's header matchers
   * see them; null when absent.
   */
  header(name: string): string | null {
    let pairs = this.pairsCache;
    if (pairs === null) this.pairsCache = pairs = this.headers.pairs();
    let out: string | null = null;
    for (let i = 0; i < pairs.length; i++) {
      const p = unchecked(pairs[i]);
      if (p.name == name) out = out === null ? p.value : out + "," + p.value;
    }
    return out;
  }

  /** The raw (not decoded) value of the first query parameter `name`; "" when it has no `=`; null when absent. */
  query(name: string): string | null {
    let names = this.queryNames;
    if (names === null) names = this.parseQuery();
    for (let i = 0; i < names.length; i++) {
      if (unchecked(names[i]) == name) return unchecked(this.queryValues[i]);
    }
    return null;
  }

  private parseQuery(): string[] {
    const names = new Array<string>();
    const path = this.path;
    const q = path.indexOf("?");
    if (q >= 0) {
      let end = path.indexOf("#", q);
      if (end < 0) end = path.length;
      let start = q + 1;
      while (start <= end) {
        let amp = path.indexOf("&", start);
        if (amp < 0 || amp > end) amp = end;
        if (amp > start) {
          const eq = path.indexOf("=", start);
          if (eq >= 0 && eq < amp) {
            names.push(path.substring(start, eq));
            this.queryValues.push(path.substring(eq + 1, amp));
          } else {
            names.push(path.substring(start, amp));
            this.queryValues.push("");
          }
        }
        start = amp + 1;
      }
    }
    this.queryNames = names;
    return names;
  }

  /** The value of cookie `name` in the Cookie header(s), or null. */
  cookie(name: string): string | null {
    const all = this.header("cookie");
    if (all === null) return null;
    // Several Cookie headers were joined with ","; cookies are separated by ";".
    let start = 0;
    const n = all.length;
    while (start < n) {
      let end = start;
      while (end < n) {
        const c = all.charCodeAt(end);
        if (c == 59 || c == 44) break; // ; ,
        end++;
      }
      let a = start;
      while (a < end && all.charCodeAt(a) == 32) a++;
      const eq = all.indexOf("=", a);
      if (eq >= 0 && eq < end && all.substring(a, eq).trim() == name) {
        return all.substring(eq + 1, end).trim();
      }
      start = end + 1;
    }
    return null;
  }
}
