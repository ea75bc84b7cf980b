// path-stats: a proxy-wasm HTTP filter written with the wasmesh SDK.
//
// - counts requests by the first segment of their path, as metrics
//   `requests.<segment>` (on /stats/prometheus:
//   wasmesh_filter_bundle_path_stats_requests_productpage, ...);
// - adds a response header (default `x-path-count`) saying how many requests
//   this proxy has seen for that segment, e.g. `x-path-count: productpage 17`.
//
// Configuration (the FilterBundle's pluginConfig, JSON, optional):
//   {"header": "x-path-count", "maxPaths": 32}
// At most `maxPaths` distinct segments get their own metric; the rest count
// as `requests.other` (metric names are a bounded resource).
import { Action, Counter, HttpContext, RootContext, log, parseConfig, registerRoot } from "wasmesh-sdk";

class PathStatsRoot extends RootContext {
  header: string = "x-path-count";
  maxPaths: i32 = 32;
  counters: Map<string, Counter> = new Map<string, Counter>();

  onConfigure(config: string): bool {
    const cfg = parseConfig(config); // "" -> {}; invalid JSON is logged and gives null
    if (cfg === null) return false; // refuse the configuration
    this.header = cfg.getString("header", "x-path-count");
    this.maxPaths = <i32>cfg.getInt("maxPaths", 32);
    if (this.header.length == 0 || this.maxPaths < 1) {
      log.error("\"header\" must not be empty and \"maxPaths\" must be at least 1");
      return false;
    }
    return true;
  }

  /** The counter of a segment, created on first use (up to maxPaths of them). */
  counter(segment: string): Counter {
    if (this.counters.has(segment)) return this.counters.get(segment);
    const name = this.counters.size < this.maxPaths ? segment : "other";
    if (this.counters.has(name)) return this.counters.get(name);
    const c = new Counter("requests." + name);
    this.counters.set(name, c);
    return c;
  }

  newHttpContext(id: u32): HttpContext {
    return new PathStats(id, this);
  }
}

/** "/api/v1/products?x=1" -> "api"; "/" -> "root". Letters, digits, '-' and '_' only. */
function firstSegment(path: string): string {
  let end = path.length;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c == 47 /* / */ || c == 63 /* ? */) {
      end = i;
      break;
    }
  }
  const seg = path.substring(1, end);
  if (seg.length == 0) return "root";
  let out = "";
  for (let i = 0; i < seg.length && i < 40; i++) {
    const c = seg.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95;
    out += ok ? String.fromCharCode(c) : "_";
  }
  return out;
}

class PathStats extends HttpContext {
  segment: string = "";
  count: u64 = 0;

  constructor(id: u32, readonly settings: PathStatsRoot) {
    super(id, settings);
  }

  onRequestHeaders(headers: u32, endOfStream: bool): Action {
    this.segment = firstSegment(this.request.path);
    const c = this.settings.counter(this.segment);
    c.increment();
    this.count = c.value; // process-wide: every worker counts into the same metric
    return Action.Continue;
  }

  onResponseHeaders(headers: u32, endOfStream: bool): Action {
    this.response.headers.set(this.settings.header, this.segment + " " + this.count.toString());
    return Action.Continue;
  }
}

// "" matches any root_id when this is the only registered root.
registerRoot("", (id: u32): RootContext => new PathStatsRoot(id));
