// The router: picks the upstream cluster of every request from Envoy/Istio
// style virtual hosts and routes (filters/router/README.md), rewrites the
// path and host, edits request and response headers, and answers redirects,
// direct responses, unknown routes (404 NR) and unknown clusters (503 NC)
// itself. It talks to the proxy through wasmesh.set_cluster,
// wasmesh.set_timeouts and wasmesh.set_flag (docs/filter-abi.md).

import {
  Action, Counter, HeaderMap, HeaderPair, HttpContext, LogLevel, RootContext, Status, callForeignFunction,
  getPropertyString, log, registerRoot, route as hostRoute, setPropertyString,
} from "wasmesh-sdk";
import {
  ACTION_DIRECT, ACTION_REDIRECT, HASH_COOKIE, HASH_HEADER, HASH_NONE, HASH_QUERY, HASH_SOURCE_IP,
  HeaderValueOption, Route, RouterConfig, parseRouterConfig,
} from "./config";
import { RequestView } from "./request";
import { randomBelow } from "./random";
import { regexWorkExceeded, resetRegexWork } from "./regex";
import { portOf, stripPort } from "./text";

// Property paths, allocated once rather than per request.
const SOURCE_ADDRESS: string[] = ["source", "address"];
const ROUTE_NAME: string[] = ["route_name"];

// Metrics (the proxy prefixes them with the filter's name).
const rqRouted = new Counter("rq_routed");
const rqNoRoute = new Counter("rq_no_route");
const rqNoCluster = new Counter("rq_no_cluster");
const rqRedirect = new Counter("rq_redirect");
const rqDirectResponse = new Counter("rq_direct_response");
const rqRegexLimit = new Counter("rq_regex_limit");

/**
 * NFA steps all the regexes of one request may take (regex.ts). One step
 * costs about 2.5 units of the proxy's execution budget (10M by default), so
 * this leaves most of the budget unused; a request needing more is refused
 * with 431 instead of trapping (which would fail it anyway, restart the VM
 * and eventually quarantine the filter).
 */
const REGEX_WORK_LIMIT: i64 = 2_000_000;
let regexLimitLogged = false;

class RouterRoot extends RootContext {
  config: RouterConfig | null = null;

  onConfigure(text: string): bool {
    const r = parseRouterConfig(text);
    const cfg = r.config;
    if (cfg === null) {
      const n = r.problems.length;
      for (let i = 0; i < n; i++) log.error("router: invalid config: " + r.problems[i]);
      log.error("router: configuration refused (" + n.toString() + (n == 1 ? " problem)" : " problems)"));
      return false;
    }
    let routes = 0;
    for (let i = 0; i < cfg.virtualHosts.length; i++) routes += cfg.virtualHosts[i].routes.length;
    log.info("router: " + cfg.virtualHosts.length.toString() + " virtual host(s), " + routes.toString() + " route(s)");
    this.config = cfg;
    return true;
  }

  newHttpContext(id: u32): HttpContext {
    return new Router(id, this);
  }
}

class Router extends HttpContext {
  /** The route whose response-header edits apply to this stream's response. */
  private matched: Route | null = null;

  constructor(id: u32, readonly settings: RouterRoot) {
    super(id, settings);
  }

  onRequestHeaders(headers: u32, endOfStream: bool): Action {
    const cfg = this.settings.config;
    if (cfg === null) return Action.Continue; // unreachable: a refused config serves no request
    const req = new RequestView(this.request.headers);
    const vh = cfg.selectVirtualHost(req.authority);
    if (vh === null) return this.noRoute(req, "no virtual host");
    const routes = vh.routes;
    let route: Route | null = null;
    resetRegexWork(REGEX_WORK_LIMIT);
    for (let i = 0; i < routes.length; i++) {
      const r = unchecked(routes[i]);
      if (r.matches(req)) {
        route = r;
        break;
      }
      // A regex gave up: this route and the later ones are undecided. Fail closed.
      if (regexWorkExceeded()) {
        return this.regexLimit(req, r.name.length > 0 ? "route \"" + r.name + "\"" : "routes[" + i.toString() + "] of virtual host \"" + vh.name + "\"");
      }
    }
    if (route === null) return this.noRoute(req, "no route in virtual host \"" + vh.name + "\"");
    if (route.name.length > 0) setPropertyString(ROUTE_NAME, route.name);
    if (route.action == ACTION_REDIRECT) return this.redirect(route, req);
    if (route.action == ACTION_DIRECT) return this.directResponse(route);
    return this.forward(route, req);
  }

  onResponseHeaders(headers: u32, endOfStream: bool): Action {
    const r = this.matched;
    if (r !== null) {
      const h = this.response.headers;
      for (let i = 0; i < r.responseHeadersToRemove.length; i++) h.remove(unchecked(r.responseHeadersToRemove[i]));
      applyAdds(h, r.responseHeadersToAdd);
    }
    return Action.Continue;
  }

  private forward(route: Route, req: RequestView): Action {
    const cluster = pickCluster(route);
    const st = hostRoute.setCluster(cluster, route.hashKind == HASH_NONE ? "" : hashKey(route, req));
    if (st == Status.NotFound) {
      rqNoCluster.increment();
      if (log.enabled(LogLevel.Debug)) log.debug("router: route \"" + route.name + "\" names unknown cluster \"" + cluster + "\"");
      setFlag("NC");
      this.sendLocalResponse(503, "", null, "cluster_not_found");
      return Action.Pause;
    }
    if (route.timeoutMs > 0 || route.perTryTimeoutMs > 0) hostRoute.setTimeouts(route.timeoutMs, route.perTryTimeoutMs);
    const h = this.request.headers;
    for (let i = 0; i < route.requestHeadersToRemove.length; i++) h.remove(unchecked(route.requestHeadersToRemove[i]));
    applyAdds(h, route.requestHeadersToAdd);
    if (route.hasPrefixRewrite) h.set(":path", route.rewritePath(req.path, req.urlPath, route.prefixRewrite, false));
    if (route.hostRewrite.length > 0) h.set(":authority", route.hostRewrite);
    if (route.responseHeadersToAdd.length > 0 || route.responseHeadersToRemove.length > 0) this.matched = route;
    rqRouted.increment();
    return Action.Continue;
  }

  private redirect(route: Route, req: RequestView): Action {
    const r = route.redirect!;
    const h = this.request.headers;
    const scheme0 = h.get(":scheme");
    const origScheme = scheme0 !== null && scheme0.length > 0 ? scheme0 : "http";
    const scheme = r.scheme.length > 0 ? r.scheme : origScheme;
    let authority = r.host.length > 0 ? r.host : req.authority;
    if (r.port > 0) {
      authority = stripPort(authority) + ":" + r.port.toString();
    } else if (r.host.length == 0 && scheme != origScheme) {
      // http://h:80 -> https://h, https://h:443 -> http://h; other ports are kept.
      const port = portOf(authority);
      if ((origScheme == "http" && port == "80") || (origScheme == "https" && port == "443")) authority = stripPort(authority);
    }
    let path: string;
    if (r.hasPath) {
      path = r.path.indexOf("?") >= 0 || r.stripQuery ? r.path : r.path + queryOf(req);
    } else if (r.hasPrefixRewrite) {
      path = route.rewritePath(req.path, req.urlPath, r.prefixRewrite, r.stripQuery);
    } else {
      path = r.stripQuery ? req.urlPath : req.path;
    }
    const headers = new Array<HeaderPair>();
    headers.push(new HeaderPair("location", scheme + "://" + authority + path));
    addPairs(headers, route.responseHeadersToAdd);
    rqRedirect.increment();
    setFlag(""); // a redirect is an answer, not a failure: no response flag
    this.sendLocalResponse(r.responseCode, "", headers, "redirect");
    return Action.Pause;
  }

  private directResponse(route: Route): Action {
    const headers = new Array<HeaderPair>();
    addPairs(headers, route.responseHeadersToAdd);
    if (route.directBody.length > 0 && !hasPair(headers, "content-type")) headers.push(new HeaderPair("content-type", "text/plain"));
    rqDirectResponse.increment();
    setFlag("");
    this.sendLocalResponse(route.directStatus, route.directBody, headers, "direct_response");
    return Action.Pause;
  }

  private regexLimit(req: RequestView, where: string): Action {
    rqRegexLimit.increment();
    const msg = "router: request refused (431): matching its path/headers against " + where +
      " took more than " + REGEX_WORK_LIMIT.toString() + " regex steps (path " + req.path.length.toString() + " chars)";
    if (!regexLimitLogged) {
      regexLimitLogged = true;
      log.warn(msg + "; further occurrences are logged at debug level and counted in rq_regex_limit");
    } else if (log.enabled(LogLevel.Debug)) {
      log.debug(msg);
    }
    setFlag("DPE");
    this.sendLocalResponse(431, "", null, "router_regex_work_limit");
    return Action.Pause;
  }

  private noRoute(req: RequestView, why: string): Action {
    rqNoRoute.increment();
    if (log.enabled(LogLevel.Debug)) log.debug("router: " + why + " for " + req.authority + req.path);
    setFlag("NR");
    this.sendLocalResponse(404, "", null, "route_not_found");
    return Action.Pause;
  }
}

function setFlag(flag: string): void {
  callForeignFunction("wasmesh.set_flag", String.UTF8.encode(flag));
}

function pickCluster(route: Route): string {
  const list = route.weighted;
  if (list.length == 0) return route.cluster;
  let r = randomBelow(route.totalWeight);
  for (let i = 0; i < list.length; i++) {
    const w = unchecked(list[i]);
    if (r < w.weight) return w.cluster;
    r -= w.weight;
  }
  return list[list.length - 1].cluster; // unreachable: r < totalWeight
}

/** The consistent-hashing key of the request; "" leaves the cluster's own hashOn. */
function hashKey(route: Route, req: RequestView): string {
  let v: string | null = null;
  switch (route.hashKind) {
    case HASH_HEADER: v = req.header(route.hashName); break;
    case HASH_COOKIE: v = req.cookie(route.hashName); break;
    case HASH_QUERY: v = req.query(route.hashName); break;
    case HASH_SOURCE_IP: {
      const a = getPropertyString(SOURCE_ADDRESS); // "ip:port"
      if (a !== null) {
        const colon = a.lastIndexOf(":");
        v = colon > 0 ? a.substring(0, colon) : a;
      }
      break;
    }
  }
  return v !== null ? v : "";
}

function queryOf(req: RequestView): string {
  const full = req.path;
  const url = req.urlPath;
  return full.length > url.length ? full.substring(url.length) : "";
}

function applyAdds(h: HeaderMap, adds: HeaderValueOption[]): void {
  for (let i = 0; i < adds.length; i++) {
    const a = unchecked(adds[i]);
    if (a.append) h.add(a.name, a.value);
    else h.set(a.name, a.value);
  }
}

/** Response headers of a local reply, with `append: false` replacing earlier ones. */
function addPairs(out: HeaderPair[], adds: HeaderValueOption[]): void {
  for (let i = 0; i < adds.length; i++) {
    const a = unchecked(adds[i]);
    if (!a.append) {
      for (let j = out.length - 1; j >= 0; j--) if (out[j].name == a.name) out.splice(j, 1);
    }
    out.push(new HeaderPair(a.name, a.value));
  }
}

function hasPair(list: HeaderPair[], name: string): bool {
  for (let i = 0; i < list.length; i++) if (list[i].name == name) return true;
  return false;
}

registerRoot("", (id: u32): RootContext => new RouterRoot(id));
