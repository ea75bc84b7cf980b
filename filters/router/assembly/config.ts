// The router's configuration: parsed and validated once (onConfigure) into
// structures that are cheap to match per request — lower-cased domains in
// maps, compiled regexes, pre-lowered header names. filters/router/README.md
// documents every field.

import { JsonObject, parseJson } from "wasmesh-sdk";
import {
  Problems, checkKeys, child, countPresent, getArray, getBool, getInt, getObject, getString,
  getStringList, index, objectAt, quote,
} from "./checks";
import { compileRegex, Regex } from "./regex";
import { RequestView } from "./request";
import { isSafeHeaderValue, isToken, lowerAscii, startsWithLower, stripPort } from "./text";

const U32_MAX: i64 = 0xffffffff;

// ---- string matching (header values, query parameters)

export const SM_EXACT: i32 = 0;
export const SM_PREFIX: i32 = 1;
export const SM_SUFFIX: i32 = 2;
export const SM_CONTAINS: i32 = 3;
export const SM_REGEX: i32 = 4;
/** No value test: presence (or absence) only. */
export const SM_PRESENT: i32 = 5;

const VALUE_KINDS: string[] = ["exact", "prefix", "suffix", "contains", "regex", "present"];

/** A matcher on a named value (a header or a query parameter). */
export class ValueMatcher {
  kind: i32 = SM_EXACT;
  /** The value to compare with (lower-case when ignoreCase). */
  value: string = "";
  ignoreCase: bool = false;
  regex: Regex | null = null;
  /** SM_PRESENT: true = must be present, false = must be absent. */
  present: bool = true;
  invert: bool = false;

  constructor(readonly name: string) {}

  /** The value test alone (the value is present). */
  test(v: string): bool {
    switch (this.kind) {
      case SM_EXACT: return this.ignoreCase ? lowerAscii(v) == this.value : v == this.value;
      case SM_PREFIX: return this.ignoreCase ? startsWithLower(v, this.value) : v.startsWith(this.value);
      case SM_SUFFIX: return (this.ignoreCase ? lowerAscii(v) : v).endsWith(this.value);
      case SM_CONTAINS: return (this.ignoreCase ? lowerAscii(v) : v).includes(this.value);
      case SM_REGEX: return this.regex!.matches(v);
      default: return this.present;
    }
  }

  /**
   * Envoy's header matching: an absent header matches only `present: false`
   * (or `present: true` inverted); a present one matches when the test passes,
   * inverted by `invert`.
   */
  matchesHeader(v: string | null): bool {
    if (v === null) return this.kind == SM_PRESENT && (this.invert ? this.present : !this.present);
    return this.test(v) != this.invert;
  }

  /** Query parameters: absent matches only `present: false`. */
  matchesQuery(v: string | null): bool {
    if (v === null) return this.kind == SM_PRESENT && !this.present;
    return this.test(v);
  }
}

// ---- header mutation

export class HeaderValueOption {
  constructor(readonly name: string, readonly value: string, readonly append: bool) {}
}

// ---- routes

export const PATH_PREFIX: i32 = 0;
export const PATH_EXACT: i32 = 1;
export const PATH_REGEX: i32 = 2;

export const ACTION_ROUTE: i32 = 0;
export const ACTION_REDIRECT: i32 = 1;
export const ACTION_DIRECT: i32 = 2;

export const HASH_NONE: i32 = 0;
export const HASH_HEADER: i32 = 1;
export const HASH_COOKIE: i32 = 2;
export const HASH_QUERY: i32 = 3;
export const HASH_SOURCE_IP: i32 = 4;

export class WeightedCluster {
  constructor(readonly cluster: string, readonly weight: u64) {}
}

export class Redirect {
  scheme: string = "";
  host: string = "";
  port: i32 = 0;
  path: string = "";
  hasPath: bool = false;
  prefixRewrite: string = "";
  hasPrefixRewrite: bool = false;
  responseCode: u32 = 301;
  stripQuery: bool = false;
}

export class Route {
  name: string = "";
  pathKind: i32 = PATH_PREFIX;
  /** The prefix or exact path (lower-case when !caseSensitive). */
  pathValue: string = "";
  pathRegex: Regex | null = null;
  caseSensitive: bool = true;
  methods: string[] = new Array<string>();
  headers: ValueMatcher[] = new Array<ValueMatcher>();
  queryParams: ValueMatcher[] = new Array<ValueMatcher>();

  action: i32 = ACTION_ROUTE;
  // route
  cluster: string = "";
  weighted: WeightedCluster[] = new Array<WeightedCluster>();
  totalWeight: u64 = 0;
  timeoutMs: u32 = 0;
  perTryTimeoutMs: u32 = 0;
  prefixRewrite: string = "";
  hasPrefixRewrite: bool = false;
  hostRewrite: string = "";
  hashKind: i32 = HASH_NONE;
  hashName: string = "";
  // redirect
  redirect: Redirect | null = null;
  // direct response
  directStatus: u32 = 0;
  directBody: string = "";
  hasDirectBody: bool = false;

  requestHeadersToAdd: HeaderValueOption[] = new Array<HeaderValueOption>();
  requestHeadersToRemove: string[] = new Array<string>();
  responseHeadersToAdd: HeaderValueOption[] = new Array<HeaderValueOption>();
  responseHeadersToRemove: string[] = new Array<string>();

  /** First-match test of this route against the request. */
  matches(req: RequestView): bool {
    switch (this.pathKind) {
      case PATH_PREFIX: {
        // Envoy: the prefix is compared with the whole :path (query included).
        const p = req.path;
        if (this.caseSensitive ? !p.startsWith(this.pathValue) : !startsWithLower(p, this.pathValue)) return false;
        break;
      }
      case PATH_EXACT: {
        const p = req.urlPath;
        if (this.caseSensitive ? p != this.pathValue : lowerAscii(p) != this.pathValue) return false;
        break;
      }
      default:
        if (!this.pathRegex!.matches(req.urlPath)) return false;
    }
    if (this.methods.length > 0 && !this.methods.includes(req.method)) return false;
    for (let i = 0; i < this.headers.length; i++) {
      const h = unchecked(this.headers[i]);
      if (!h.matchesHeader(req.header(h.name))) return false;
    }
    for (let i = 0; i < this.queryParams.length; i++) {
      const q = unchecked(this.queryParams[i]);
      if (!q.matchesQuery(req.query(q.name))) return false;
    }
    return true;
  }

  /**
   * The path after `prefixRewrite` (route or redirect): for a prefix route
   * the matched prefix is replaced, for path and regex routes the whole path;
   * the query string is kept unless `dropQuery`.
   */
  rewritePath(fullPath: string, urlPath: string, replacement: string, dropQuery: bool): string {
    const query = fullPath.length > urlPath.length ? fullPath.substring(urlPath.length) : "";
    let rest = "";
    if (this.pathKind == PATH_PREFIX) {
      // The prefix may reach into the query string (Envoy compares it with the full :path).
      if (this.pathValue.length > urlPath.length) {
        return replacement + fullPath.substring(this.pathValue.length);
      }
      rest = urlPath.substring(this.pathValue.length);
    }
    return replacement + rest + (dropQuery ? "" : query);
  }
}

export class VirtualHost {
  routes: Route[] = new Array<Route>();
  constructor(readonly name: string) {}
}

/** Wildcard domains of one length, for the `*.suffix` / `prefix.*` lookups. */
class WildcardBucket {
  readonly map: Map<string, VirtualHost> = new Map<string, VirtualHost>();
  constructor(readonly length: i32) {}
}

function bucketFor(buckets: WildcardBucket[], length: i32): WildcardBucket {
  for (let i = 0; i < buckets.length; i++) if (buckets[i].length == length) return buckets[i];
  const b = new WildcardBucket(length);
  buckets.push(b);
  return b;
}

export class RouterConfig {
  readonly virtualHosts: VirtualHost[] = new Array<VirtualHost>();
  /** Exact domains, lower-case (with a port when the config gave one). */
  readonly exact: Map<string, VirtualHost> = new Map<string, VirtualHost>();
  hasPortDomains: bool = false;
  /** `*.example.com`: keyed by ".example.com", longest first. */
  readonly suffixes: WildcardBucket[] = new Array<WildcardBucket>();
  /** `foo.*`: keyed by "foo.", longest first. */
  readonly prefixes: WildcardBucket[] = new Array<WildcardBucket>();
  catchAll: VirtualHost | null = null;

  /**
   * The virtual host for an authority, in Envoy's order: exact domain, then
   * the longest `*.suffix`, then the longest `prefix.*`, then `*`.
   */
  selectVirtualHost(authority: string): VirtualHost | null {
    const full = lowerAscii(authority);
    const host = stripPort(full);
    if (this.hasPortDomains && host.length < full.length && this.exact.has(full)) return this.exact.get(full);
    if (this.exact.has(host)) return this.exact.get(host);
    const n = host.length;
    for (let i = 0; i < this.suffixes.length; i++) {
      const b = unchecked(this.suffixes[i]);
      // The '*' stands for at least one character.
      if (n > b.length) {
        const key = host.substring(n - b.length);
        if (b.map.has(key)) return b.map.get(key);
      }
    }
    for (let i = 0; i < this.prefixes.length; i++) {
      const b = unchecked(this.prefixes[i]);
      if (n > b.length) {
        const key = host.substring(0, b.length);
        if (b.map.has(key)) return b.map.get(key);
      }
    }
    return this.catchAll;
  }
}

// ---- parsing

const TOP_KEYS: string[] = ["virtualHosts"];
const VHOST_KEYS: string[] = ["name", "domains", "routes"];
const ROUTE_KEYS: string[] = [
  "name", "match", "route", "redirect", "directResponse",
  "requestHeadersToAdd", "requestHeadersToRemove", "responseHeadersToAdd", "responseHeadersToRemove",
];
const MATCH_KEYS: string[] = ["prefix", "path", "regex", "caseSensitive", "methods", "headers", "queryParams"];
const PATH_SPECIFIERS: string[] = ["prefix", "path", "regex"];
const HEADER_MATCH_KEYS: string[] = ["name", "exact", "prefix", "suffix", "contains", "regex", "present", "invert", "ignoreCase"];
const QUERY_MATCH_KEYS: string[] = ["name", "exact", "prefix", "suffix", "contains", "regex", "present", "ignoreCase"];
const ACTION_KEYS: string[] = ["route", "redirect", "directResponse"];
const ROUTE_ACTION_KEYS: string[] = [
  "cluster", "weightedClusters", "timeoutMs", "perTryTimeoutMs", "prefixRewrite", "hostRewrite", "hashKey",
];
const WEIGHTED_KEYS: string[] = ["cluster", "weight"];
const REDIRECT_KEYS: string[] = ["scheme", "host", "port", "path", "prefixRewrite", "responseCode", "stripQuery"];
const DIRECT_KEYS: string[] = ["status", "body"];
const HEADER_ADD_KEYS: string[] = ["name", "value", "append"];
const METHODS: string[] = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

/** The outcome of `parseRouterConfig`: a config, or the problems found. */
export class ParseResult {
  constructor(readonly config: RouterConfig | null, readonly problems: string[]) {}
}

/** Parses and validates the router's JSON configuration. Never traps. */
export function parseRouterConfig(text: string): ParseResult {
  const p = new Problems();
  const r = parseJson(text.trim().length == 0 ? "{}" : text);
  if (!r.ok) {
    p.add("", "invalid JSON: " + r.error);
    return new ParseResult(null, p.list);
  }
  const top = r.value!.asObject();
  if (top === null) {
    p.add("", "expected a JSON object");
    return new ParseResult(null, p.list);
  }
  checkKeys(top, "", TOP_KEYS, p);
  const cfg = new RouterConfig();
  const vhosts = getArray(top, "virtualHosts", "", p, true);
  if (vhosts !== null) {
    if (vhosts.length == 0) p.add("virtualHosts", "must list at least one virtual host");
    // Where each domain was defined, to report duplicates.
    const owners = new Map<string, string>();
    for (let i = 0; i < vhosts.length; i++) {
      const path = index("virtualHosts", i);
      const o = objectAt(vhosts, i, "virtualHosts", p);
      if (o === null) continue;
      const vh = parseVirtualHost(o, path, p, i);
      cfg.virtualHosts.push(vh);
      parseDomains(o, path, p, cfg, vh, owners);
    }
  }
  // Longest wildcard first.
  cfg.suffixes.sort((a: WildcardBucket, b: WildcardBucket): i32 => b.length - a.length);
  cfg.prefixes.sort((a: WildcardBucket, b: WildcardBucket): i32 => b.length - a.length);
  return new ParseResult(p.ok ? cfg : null, p.list);
}

function parseVirtualHost(o: JsonObject, path: string, p: Problems, i: i32): VirtualHost {
  checkKeys(o, path, VHOST_KEYS, p);
  const name = getString(o, "name", path, p, false);
  const vh = new VirtualHost(name !== null ? name : "virtualHosts[" + i.toString() + "]");
  const routes = getArray(o, "routes", path, p, true);
  if (routes !== null) {
    const rpath = child(path, "routes");
    for (let j = 0; j < routes.length; j++) {
      const ro = objectAt(routes, j, rpath, p);
      if (ro === null) continue;
      const route = parseRoute(ro, index(rpath, j), p);
      if (route !== null) vh.routes.push(route);
    }
  }
  return vh;
}

function parseDomains(o: JsonObject, path: string, p: Problems, cfg: RouterConfig, vh: VirtualHost, owners: Map<string, string>): void {
  const domains = getStringList(o, "domains", path, p, true);
  if (domains === null) return;
  const dpath = child(path, "domains");
  if (domains.length == 0) p.add(dpath, "must list at least one domain (\"*\" matches any)");
  for (let k = 0; k < domains.length; k++) {
    const at = index(dpath, k);
    const d = lowerAscii(domains[k]);
    if (owners.has(d)) {
      p.add(at, "domain " + quote(d) + " is already used by " + owners.get(d) + " (each domain may appear once)");
      continue;
    }
    const star = d.indexOf("*");
    if (star >= 0 && d.lastIndexOf("*") != star) {
      p.add(at, "invalid domain " + quote(d) + ": at most one '*'");
      continue;
    }
    if (d.indexOf(" ") >= 0 || d.indexOf("/") >= 0) {
      p.add(at, "invalid domain " + quote(d));
      continue;
    }
    owners.set(d, at);
    if (d == "*") {
      cfg.catchAll = vh;
    } else if (star == 0) {
      const suffix = d.substring(1);
      if (suffix.indexOf(":") >= 0) {
        p.add(at, "invalid domain " + quote(d) + ": a wildcard domain cannot have a port (ports are stripped before wildcard matching)");
        continue;
      }
      bucketFor(cfg.suffixes, suffix.length).map.set(suffix, vh);
    } else if (star == d.length - 1) {
      const prefix = d.substring(0, star);
      if (prefix.indexOf(":") >= 0) {
        p.add(at, "invalid domain " + quote(d) + ": a wildcard domain cannot have a port");
        continue;
      }
      bucketFor(cfg.prefixes, prefix.length).map.set(prefix, vh);
    } else if (star > 0) {
      p.add(at, "invalid domain " + quote(d) + ": '*' must be the first or last character (\"*.example.com\", \"example.*\")");
      continue;
    } else {
      if (stripPort(d).length < d.length) cfg.hasPortDomains = true;
      cfg.exact.set(d, vh);
    }
  }
}

function parseRoute(o: JsonObject, path: string, p: Problems): Route | null {
  checkKeys(o, path, ROUTE_KEYS, p);
  const route = new Route();
  const name = getString(o, "name", path, p, false);
  if (name !== null) route.name = name;

  const match = getObject(o, "match", path, p, true);
  if (match !== null) parseMatch(match, child(path, "match"), p, route);

  const actions = countPresent(o, ACTION_KEYS);
  if (actions != 1) {
    p.add(path, actions == 0
      ? "needs one of \"route\", \"redirect\" or \"directResponse\""
      : "has more than one of \"route\", \"redirect\" and \"directResponse\" (exactly one is allowed)");
  } else if (o.has("route")) {
    route.action = ACTION_ROUTE;
    const a = getObject(o, "route", path, p, true);
    if (a !== null) parseRouteAction(a, child(path, "route"), p, route);
  } else if (o.has("redirect")) {
    route.action = ACTION_REDIRECT;
    const a = getObject(o, "redirect", path, p, true);
    if (a !== null) route.redirect = parseRedirect(a, child(path, "redirect"), p);
  } else {
    route.action = ACTION_DIRECT;
    const a = getObject(o, "directResponse", path, p, true);
    if (a !== null) parseDirect(a, child(path, "directResponse"), p, route);
  }

  route.requestHeadersToAdd = parseHeadersToAdd(o, "requestHeadersToAdd", path, p);
  route.requestHeadersToRemove = parseHeadersToRemove(o, "requestHeadersToRemove", path, p);
  route.responseHeadersToAdd = parseHeadersToAdd(o, "responseHeadersToAdd", path, p);
  route.responseHeadersToRemove = parseHeadersToRemove(o, "responseHeadersToRemove", path, p);
  return route;
}

function parseMatch(m: JsonObject, path: string, p: Problems, route: Route): void {
  checkKeys(m, path, MATCH_KEYS, p);
  const n = countPresent(m, PATH_SPECIFIERS);
  if (n != 1) {
    p.add(path, n == 0
      ? "needs one of \"prefix\", \"path\" or \"regex\" (\"prefix\": \"/\" matches every path)"
      : "has more than one of \"prefix\", \"path\" and \"regex\" (exactly one is allowed)");
  }
  const cs = getBool(m, "caseSensitive", path, p, 1);
  route.caseSensitive = cs != 0;
  if (m.has("prefix")) {
    route.pathKind = PATH_PREFIX;
    const s = getString(m, "prefix", path, p, true, false);
    if (s !== null) route.pathValue = route.caseSensitive ? s : lowerAscii(s);
  } else if (m.has("path")) {
    route.pathKind = PATH_EXACT;
    const s = getString(m, "path", path, p, true);
    if (s !== null) {
      if (s.indexOf("?") >= 0) p.add(child(path, "path"), "must not contain a query string (it is compared with the path without one)");
      route.pathValue = route.caseSensitive ? s : lowerAscii(s);
    }
  } else if (m.has("regex")) {
    route.pathKind = PATH_REGEX;
    if (cs == 0) p.add(child(path, "caseSensitive"), "not supported with \"regex\" (write the pattern to accept both cases, e.g. [Aa])");
    const s = getString(m, "regex", path, p, true, false);
    if (s !== null) route.pathRegex = regexOrProblem(s, child(path, "regex"), p);
  }

  const methods = getStringList(m, "methods", path, p, false);
  if (methods !== null) {
    for (let i = 0; i < methods.length; i++) {
      const meth = methods[i];
      if (!isToken(meth)) p.add(index(child(path, "methods"), i), "invalid method " + quote(meth));
      else if (!METHODS.includes(meth) && meth.toUpperCase() != meth) {
        p.add(index(child(path, "methods"), i), "method " + quote(meth) + " is compared case-sensitively: did you mean " + quote(meth.toUpperCase()) + "?");
      }
    }
    route.methods = methods;
  }

  const headers = getArray(m, "headers", path, p, false);
  if (headers !== null) {
    const hpath = child(path, "headers");
    for (let i = 0; i < headers.length; i++) {
      const ho = objectAt(headers, i, hpath, p);
      if (ho === null) continue;
      const vm = parseValueMatcher(ho, index(hpath, i), p, true);
      if (vm !== null) route.headers.push(vm);
    }
  }
  const query = getArray(m, "queryParams", path, p, false);
  if (query !== null) {
    const qpath = child(path, "queryParams");
    for (let i = 0; i < query.length; i++) {
      const qo = objectAt(query, i, qpath, p);
      if (qo === null) continue;
      const vm = parseValueMatcher(qo, index(qpath, i), p, false);
      if (vm !== null) route.queryParams.push(vm);
    }
  }
}

function regexOrProblem(pattern: string, path: string, p: Problems): Regex | null {
  const r = compileRegex(pattern);
  if (r.regex === null) p.add(path, "invalid regex " + quote(pattern) + ": " + r.error);
  return r.regex;
}

function parseValueMatcher(o: JsonObject, path: string, p: Problems, isHeader: bool): ValueMatcher | null {
  checkKeys(o, path, isHeader ? HEADER_MATCH_KEYS : QUERY_MATCH_KEYS, p);
  let name = getString(o, "name", path, p, true);
  if (name === null) return null;
  if (isHeader) {
    name = lowerAscii(name);
    if (name == "host") name = ":authority";
    const bare = name.startsWith(":") ? name.substring(1) : name;
    if (!isToken(bare)) {
      p.add(child(path, "name"), "invalid header name " + quote(name));
      return null;
    }
  }
  const vm = new ValueMatcher(name);
  const kinds = countPresent(o, VALUE_KINDS);
  if (kinds != 1) {
    p.add(path, kinds == 0
      ? "needs one of \"exact\", \"prefix\", \"suffix\", \"contains\", \"regex\" or \"present\""
      : "has more than one of \"exact\", \"prefix\", \"suffix\", \"contains\", \"regex\" and \"present\" (exactly one is allowed)");
    return null;
  }
  const ic = getBool(o, "ignoreCase", path, p, 0);
  vm.ignoreCase = ic == 1;
  if (isHeader) vm.invert = getBool(o, "invert", path, p, 0) == 1;
  if (o.has("present")) {
    vm.kind = SM_PRESENT;
    const b = getBool(o, "present", path, p, 1);
    vm.present = b != 0;
    if (ic == 1) p.add(child(path, "ignoreCase"), "has no meaning with \"present\"");
  } else if (o.has("regex")) {
    vm.kind = SM_REGEX;
    if (ic == 1) p.add(child(path, "ignoreCase"), "not supported with \"regex\" (write the pattern to accept both cases, e.g. [Aa])");
    const s = getString(o, "regex", path, p, true, false);
    if (s !== null) vm.regex = regexOrProblem(s, child(path, "regex"), p);
  } else {
    let key = "exact";
    if (o.has("prefix")) { key = "prefix"; vm.kind = SM_PREFIX; }
    else if (o.has("suffix")) { key = "suffix"; vm.kind = SM_SUFFIX; }
    else if (o.has("contains")) { key = "contains"; vm.kind = SM_CONTAINS; }
    else vm.kind = SM_EXACT;
    const s = getString(o, key, path, p, true, false);
    if (s !== null) vm.value = vm.ignoreCase ? lowerAscii(s) : s;
  }
  return vm;
}

function parseRouteAction(a: JsonObject, path: string, p: Problems, route: Route): void {
  checkKeys(a, path, ROUTE_ACTION_KEYS, p);
  const hasCluster = a.has("cluster");
  const hasWeighted = a.has("weightedClusters");
  if (hasCluster == hasWeighted) {
    p.add(path, hasCluster
      ? "has both \"cluster\" and \"weightedClusters\" (exactly one is allowed)"
      : "needs \"cluster\" or \"weightedClusters\"");
  }
  if (hasCluster) {
    const c = getString(a, "cluster", path, p, true);
    if (c !== null) route.cluster = c;
  } else if (hasWeighted) {
    const list = getArray(a, "weightedClusters", path, p, true);
    if (list !== null) {
      const wpath = child(path, "weightedClusters");
      if (list.length == 0) p.add(wpath, "must list at least one cluster");
      let total: u64 = 0;
      for (let i = 0; i < list.length; i++) {
        const wo = objectAt(list, i, wpath, p);
        if (wo === null) continue;
        const at = index(wpath, i);
        checkKeys(wo, at, WEIGHTED_KEYS, p);
        const c = getString(wo, "cluster", at, p, true);
        const w = getInt(wo, "weight", at, p, -2, 0, U32_MAX);
        if (w == -2) p.add(child(at, "weight"), "required");
        if (c !== null && w >= 0) {
          route.weighted.push(new WeightedCluster(c, <u64>w));
          total += <u64>w;
        }
      }
      if (list.length > 0 && total == 0 && p.ok) p.add(wpath, "the weights add up to 0 (at least one must be positive)");
      route.totalWeight = total;
    }
  }
  const t = getInt(a, "timeoutMs", path, p, 0, 0, U32_MAX);
  route.timeoutMs = t > 0 ? <u32>t : 0;
  const pt = getInt(a, "perTryTimeoutMs", path, p, 0, 0, U32_MAX);
  route.perTryTimeoutMs = pt > 0 ? <u32>pt : 0;
  const pr = getString(a, "prefixRewrite", path, p, false, false);
  if (pr !== null) {
    route.prefixRewrite = pr;
    route.hasPrefixRewrite = true;
    if (!isSafeHeaderValue(pr)) p.add(child(path, "prefixRewrite"), "must not contain CR, LF or NUL");
  }
  const hr = getString(a, "hostRewrite", path, p, false);
  if (hr !== null) {
    route.hostRewrite = hr;
    if (!isSafeHeaderValue(hr) || hr.indexOf(" ") >= 0 || hr.indexOf("/") >= 0) p.add(child(path, "hostRewrite"), "invalid host " + quote(hr));
  }
  const hk = getString(a, "hashKey", path, p, false);
  if (hk !== null) parseHashKey(hk, child(path, "hashKey"), p, route);
}

function parseHashKey(s: string, path: string, p: Problems, route: Route): void {
  if (s == "source_ip") {
    route.hashKind = HASH_SOURCE_IP;
    return;
  }
  const colon = s.indexOf(":");
  const kind = colon < 0 ? s : s.substring(0, colon);
  const name = colon < 0 ? "" : s.substring(colon + 1);
  if (name.length > 0) {
    if (kind == "header") {
      route.hashKind = HASH_HEADER;
      route.hashName = lowerAscii(name) == "host" ? ":authority" : lowerAscii(name);
      return;
    }
    if (kind == "cookie") { route.hashKind = HASH_COOKIE; route.hashName = name; return; }
    if (kind == "query") { route.hashKind = HASH_QUERY; route.hashName = name; return; }
  }
  p.add(path, "invalid hash key " + quote(s) + " (expected header:NAME, cookie:NAME, query:NAME or source_ip)");
}

function parseRedirect(a: JsonObject, path: string, p: Problems): Redirect {
  checkKeys(a, path, REDIRECT_KEYS, p);
  const r = new Redirect();
  const scheme = getString(a, "scheme", path, p, false);
  if (scheme !== null) {
    r.scheme = lowerAscii(scheme);
    let ok = isAsciiAlpha(r.scheme.charCodeAt(0));
    for (let i = 1; i < r.scheme.length; i++) {
      const c = r.scheme.charCodeAt(i);
      if (!isAsciiAlpha(c) && !(c >= 48 && c <= 57) && c != 43 && c != 45 && c != 46) ok = false;
    }
    if (!ok) p.add(child(path, "scheme"), "invalid scheme " + quote(scheme));
  }
  const host = getString(a, "host", path, p, false);
  if (host !== null) {
    r.host = host;
    if (!isSafeHeaderValue(host) || host.indexOf("/") >= 0 || host.indexOf(" ") >= 0) p.add(child(path, "host"), "invalid host " + quote(host));
  }
  const port = getInt(a, "port", path, p, 0, 1, 65535);
  r.port = port > 0 ? <i32>port : 0;
  const hasPath = a.has("path");
  const hasPrefix = a.has("prefixRewrite");
  if (hasPath && hasPrefix) p.add(path, "has both \"path\" and \"prefixRewrite\" (at most one is allowed)");
  const rp = getString(a, "path", path, p, false);
  if (rp !== null) {
    r.path = rp;
    r.hasPath = true;
    if (!rp.startsWith("/")) p.add(child(path, "path"), "must start with '/'");
    if (!isSafeHeaderValue(rp)) p.add(child(path, "path"), "must not contain CR, LF or NUL");
  }
  const pr = getString(a, "prefixRewrite", path, p, false, false);
  if (pr !== null) {
    r.prefixRewrite = pr;
    r.hasPrefixRewrite = true;
    if (!isSafeHeaderValue(pr)) p.add(child(path, "prefixRewrite"), "must not contain CR, LF or NUL");
  }
  const code = getInt(a, "responseCode", path, p, 301, 0, 999);
  if (code >= 0) {
    if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) {
      p.add(child(path, "responseCode"), "must be 301, 302, 303, 307 or 308, got " + code.toString());
    } else {
      r.responseCode = <u32>code;
    }
  }
  r.stripQuery = getBool(a, "stripQuery", path, p, 0) == 1;
  return r;
}

function isAsciiAlpha(c: i32): bool {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function parseDirect(a: JsonObject, path: string, p: Problems, route: Route): void {
  checkKeys(a, path, DIRECT_KEYS, p);
  const status = getInt(a, "status", path, p, -2, 200, 599);
  if (status == -2) p.add(child(path, "status"), "required");
  else if (status > 0) route.directStatus = <u32>status;
  const body = getString(a, "body", path, p, false, false);
  if (body !== null) {
    route.directBody = body;
    route.hasDirectBody = true;
  }
}

function parseHeadersToAdd(o: JsonObject, key: string, path: string, p: Problems): HeaderValueOption[] {
  const out = new Array<HeaderValueOption>();
  const list = getArray(o, key, path, p, false);
  if (list === null) return out;
  const lpath = child(path, key);
  for (let i = 0; i < list.length; i++) {
    const ho = objectAt(list, i, lpath, p);
    if (ho === null) continue;
    const at = index(lpath, i);
    checkKeys(ho, at, HEADER_ADD_KEYS, p);
    const name = getString(ho, "name", at, p, true);
    const value = getString(ho, "value", at, p, true, false);
    const append = getBool(ho, "append", at, p, 1);
    if (name === null || value === null) continue;
    const lname = lowerAscii(name);
    if (!checkMutableHeader(lname, child(at, "name"), p)) continue;
    if (!isSafeHeaderValue(value)) {
      p.add(child(at, "value"), "must not contain CR, LF or NUL");
      continue;
    }
    out.push(new HeaderValueOption(lname, value, append != 0));
  }
  return out;
}

function parseHeadersToRemove(o: JsonObject, key: string, path: string, p: Problems): string[] {
  const out = new Array<string>();
  const list = getStringList(o, key, path, p, false);
  if (list === null) return out;
  for (let i = 0; i < list.length; i++) {
    const lname = lowerAscii(list[i]);
    if (checkMutableHeader(lname, index(child(path, key), i), p)) out.push(lname);
  }
  return out;
}

/** Pseudo-headers and Host are changed through rewrites, not header lists (as in Envoy). */
function checkMutableHeader(name: string, path: string, p: Problems): bool {
  if (name.startsWith(":") || name == "host") {
    p.add(path, quote(name) + " cannot be added or removed (use prefixRewrite / hostRewrite)");
    return false;
  }
  if (!isToken(name)) {
    p.add(path, "invalid header name " + quote(name));
    return false;
  }
  return true;
}
