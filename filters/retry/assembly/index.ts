// retry: Envoy/Istio retry semantics as a proxy-wasm filter. The core only
// re-dispatches when asked (wasmesh.retry from onResponseHeaders) and replays
// the request body it was told to keep (wasmesh.keep_request_body); every
// decision — which responses are retriable, how many times, how long to back
// off, whether the retry budget allows it — is made here.
//
// Configuration: see filters/retry/README.md.
import {
  Action, Counter, HttpContext, JsonArray, JsonObject, JsonType, LogLevel, RootContext,
  currentTimeMillis, currentTimeNanos, getPropertyString, log, parseConfig, registerRoot, route, stream,
} from "wasmesh-sdk";

// Property paths, allocated once rather than per request.
const ROUTE_NAME: string[] = ["route_name"];
const RESPONSE_FLAGS: string[] = ["response", "flags"];
const RESPONSE_CODE_DETAILS: string[] = ["response", "code_details"];

// ---- retryOn policies (bit set)

const ON_5XX: u32 = 1 << 0;
const ON_GATEWAY_ERROR: u32 = 1 << 1;
const ON_RESET: u32 = 1 << 2;
const ON_CONNECT_FAILURE: u32 = 1 << 3;
const ON_RETRIABLE_4XX: u32 = 1 << 4;
const ON_STATUS_CODES: u32 = 1 << 5;
const ON_REFUSED_STREAM: u32 = 1 << 6;
const ON_RESET_BEFORE_REQUEST: u32 = 1 << 7;
const ON_GRPC_CANCELLED: u32 = 1 << 8;
const ON_GRPC_DEADLINE_EXCEEDED: u32 = 1 << 9;
const ON_GRPC_INTERNAL: u32 = 1 << 10;
const ON_GRPC_RESOURCE_EXHAUSTED: u32 = 1 << 11;
const ON_GRPC_UNAVAILABLE: u32 = 1 << 12;
const GRPC_POLICIES: u32 = ON_GRPC_CANCELLED | ON_GRPC_DEADLINE_EXCEEDED | ON_GRPC_INTERNAL | ON_GRPC_RESOURCE_EXHAUSTED | ON_GRPC_UNAVAILABLE;

const POLICY_NAMES: string[] = [
  "5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx", "retriable-status-codes",
  "refused-stream", "reset-before-request", "cancelled", "deadline-exceeded", "internal",
  "resource-exhausted", "unavailable",
];

/** Istio's default retryOn. */
const DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

function policyBit(name: string): u32 {
  for (let i = 0; i < POLICY_NAMES.length; i++) {
    if (unchecked(POLICY_NAMES[i]) == name) return (<u32>1) << <u32>i;
  }
  return 0;
}

// ---- metrics (names are prefixed with the filter's name by the host)

const rqRetry = new Counter("rq_retry");
const rqRetrySuccess = new Counter("rq_retry_success");
const rqRetryExhausted = new Counter("rq_retry_exhausted");
const rqRetryBudgetExceeded = new Counter("rq_retry_budget_exceeded");
const rqRetryNotReplayable = new Counter("rq_retry_not_replayable");

// ---- retry budget state: per VM, i.e. per worker thread (see README)

/** Streams of this VM between their request headers and their end. */
let activeRequests: i64 = 0;
/** Streams of this VM waiting out a backoff or running a retried attempt. */
let activeRetries: i64 = 0;

const ATTEMPTS_HEADER = "x-wasmesh-attempts";

// WASI's random_get (provided by wasmesh and Envoy) seeds the jitter, so
// workers that start in the same instant do not back off in lockstep.
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
declare function wasi_random_get(buf: usize, len: usize): u16;

const SEED_BUF: usize = memory.data(8, 8);

function seedJitter(): void {
  store<u64>(SEED_BUF, 0);
  const r: u64 = wasi_random_get(SEED_BUF, 8) == 0 ? load<u64>(SEED_BUF) : 0;
  Math.seedRandom(<i64>(r ^ currentTimeNanos()));
}

// ---- configuration

/** Set by the config readers; onConfigure refuses the config when non-empty. */
let configError: string = "";

function fail(message: string): void {
  if (configError.length == 0) configError = message;
}

/** An integer field in [min, max], or `def` when absent (and an error when malformed). */
function intField(o: JsonObject, key: string, prefix: string, def: i64, min: i64, max: i64): i64 {
  const v = o.get(key);
  if (v === null) return def;
  const n = v.asInt(i64.MIN_VALUE);
  if (v.type != JsonType.Number || n == i64.MIN_VALUE) {
    fail("\"" + prefix + key + "\" must be an integer");
    return def;
  }
  if (n < min || n > max) {
    fail("\"" + prefix + key + "\" must be between " + min.toString() + " and " + max.toString() + ", got " + n.toString());
    return def;
  }
  return n;
}

/** A number field in [min, max], or `def` when absent. */
function numberField(o: JsonObject, key: string, prefix: string, def: f64, min: f64, max: f64): f64 {
  const v = o.get(key);
  if (v === null) return def;
  if (v.type != JsonType.Number) {
    fail("\"" + prefix + key + "\" must be a number");
    return def;
  }
  const n = v.asNumber();
  if (!(n >= min && n <= max)) {
    fail("\"" + prefix + key + "\" must be between " + min.toString() + " and " + max.toString());
    return def;
  }
  return n;
}

function boolField(o: JsonObject, key: string, prefix: string, def: bool): bool {
  const v = o.get(key);
  if (v === null) return def;
  if (v.type != JsonType.Bool) {
    fail("\"" + prefix + key + "\" must be true or false");
    return def;
  }
  return v.asBool();
}

/** "5xx,gateway-error" or ["5xx", "gateway-error"] -> bit set. */
function parseRetryOn(o: JsonObject, prefix: string): u32 {
  const v = o.get("retryOn");
  let names: string[];
  if (v === null) {
    names = DEFAULT_RETRY_ON.split(",");
  } else if (v.type == JsonType.String) {
    names = v.asString()!.split(",");
  } else if (v.type == JsonType.Array) {
    const a = changetype<JsonArray>(v).toStringArray();
    if (a === null) {
      fail("\"" + prefix + "retryOn\" must be a string or an array of strings");
      return 0;
    }
    names = a;
  } else {
    fail("\"" + prefix + "retryOn\" must be a string or an array of strings");
    return 0;
  }
  let bits: u32 = 0;
  for (let i = 0; i < names.length; i++) {
    const name = unchecked(names[i]).trim();
    if (name.length == 0) continue;
    const bit = policyBit(name);
    if (bit == 0) {
      fail("\"" + prefix + "retryOn\": unknown policy \"" + name + "\" (supported: " + POLICY_NAMES.join(", ") + ")");
      return 0;
    }
    bits |= bit;
  }
  return bits;
}

/** Fields of one retry policy (top level = the default policy, or an entry of `policies`). */
const POLICY_FIELDS: string[] = [
  "attempts", "perTryTimeoutMs", "retryOn", "retriableStatusCodes", "backoff", "retryNonIdempotent", "maxReplayBytes",
];

function isPolicyField(k: string): bool {
  for (let i = 0; i < POLICY_FIELDS.length; i++) if (unchecked(POLICY_FIELDS[i]) == k) return true;
  return false;
}

/** One retry policy: what is retried, how often, with which backoff. */
class Policy {
  /** Retries after the first try (Istio `attempts`). */
  attempts: u32 = 2;
  perTryTimeoutMs: u32 = 0;
  retryOn: u32 = 0;
  statusCodes: u32[] = [503];
  baseMs: u32 = 25;
  maxMs: u32 = 250;
  retryNonIdempotent: bool = false;
  maxReplayBytes: u32 = 65536;
  /** For logs: "default" or the routes it serves. */
  label: string = "default";

  /** Exponential backoff with full jitter: uniform in [0, min(max, base * 2^n)], n = retries so far. */
  backoff(n: u32): u32 {
    let ceiling = <f64>this.baseMs * Math.pow(2, <f64>n);
    if (ceiling > <f64>this.maxMs) ceiling = <f64>this.maxMs;
    const v = Math.floor(Math.random() * (ceiling + 1));
    return <u32>(v > ceiling ? ceiling : v);
  }

  isRetriableCode(status: u32): bool {
    const codes = this.statusCodes;
    for (let i = 0; i < codes.length; i++) if (unchecked(codes[i]) == status) return true;
    return false;
  }

  describe(): string {
    return this.label + ": attempts=" + this.attempts.toString() + " retryOn=" + policyList(this.retryOn) +
      " perTryTimeoutMs=" + this.perTryTimeoutMs.toString() + " backoff=" + this.baseMs.toString() + ".." + this.maxMs.toString() + "ms";
  }
}

/** Reads the policy fields of `o` (fields left out take the built-in defaults); `prefix` names `o` in errors. */
function readPolicy(o: JsonObject, prefix: string): Policy {
  const p = new Policy();
  p.attempts = <u32>intField(o, "attempts", prefix, 2, 0, 100);
  p.perTryTimeoutMs = <u32>intField(o, "perTryTimeoutMs", prefix, 0, 0, 0xffffffff);
  p.retryOn = parseRetryOn(o, prefix);

  const codes = new Array<u32>();
  const cv = o.get("retriableStatusCodes");
  if (cv === null) {
    codes.push(503);
  } else {
    const a = cv.asArray();
    if (a === null) fail("\"" + prefix + "retriableStatusCodes\" must be an array of status codes");
    else {
      for (let i = 0; i < a.length; i++) {
        const c = a.at(i)!.asInt(-1);
        if (c < 100 || c > 599) {
          fail("\"" + prefix + "retriableStatusCodes\" holds " + a.at(i)!.stringify() + ", not a status code (100-599)");
          break;
        }
        codes.push(<u32>c);
      }
    }
  }
  p.statusCodes = codes;

  let baseMs: i64 = 25;
  let maxMs: i64 = 250;
  const bv = o.get("backoff");
  if (bv !== null) {
    const b = bv.asObject();
    if (b === null) fail("\"" + prefix + "backoff\" must be an object {baseMs, maxMs}");
    else {
      baseMs = intField(b, "baseMs", prefix + "backoff.", 25, 0, 3600000);
      maxMs = intField(b, "maxMs", prefix + "backoff.", baseMs * 10, 0, 3600000);
      if (maxMs < baseMs) fail("\"" + prefix + "backoff.maxMs\" (" + maxMs.toString() + ") must not be below \"" + prefix + "backoff.baseMs\" (" + baseMs.toString() + ")");
      for (let i = 0; i < b.keys.length; i++) {
        const k = unchecked(b.keys[i]);
        if (k != "baseMs" && k != "maxMs") fail("unknown field \"" + prefix + "backoff." + k + "\"");
      }
    }
  }
  p.baseMs = <u32>baseMs;
  p.maxMs = <u32>maxMs;
  p.retryNonIdempotent = boolField(o, "retryNonIdempotent", prefix, false);
  p.maxReplayBytes = <u32>intField(o, "maxReplayBytes", prefix, 65536, 0, 1 << 30);
  return p;
}

class RetryRoot extends RootContext {
  /** The policy of streams whose route matches no entry of `policies`. */
  defaultPolicy: Policy = new Policy();
  /** Route name -> policy, from `policies`. */
  byRoute: Map<string, Policy> = new Map<string, Policy>();
  budgetEnabled: bool = true;
  budgetPercent: f64 = 20;
  minRetryConcurrency: i64 = 3;

  onConfigure(config: string): bool {
    const cfg = parseConfig(config);
    if (cfg === null) return false;
    configError = "";
    let def = readPolicy(cfg, "");
    let topLevelPolicyFields = false;
    for (let i = 0; i < cfg.keys.length; i++) {
      const k = unchecked(cfg.keys[i]);
      if (isPolicyField(k)) topLevelPolicyFields = true;
      else if (k != "budget" && k != "policies") fail("unknown field \"" + k + "\"");
    }

    const byRoute = new Map<string, Policy>();
    const pv = cfg.get("policies");
    let defaultEntry = -1;
    if (pv !== null && pv.type != JsonType.Null) {
      const arr = pv.asArray();
      if (arr === null) fail("\"policies\" must be a list of {routes, attempts, retryOn, ...}");
      else {
        for (let i = 0; i < arr.length; i++) {
          const prefix = "policies[" + i.toString() + "].";
          const o = arr.at(i)!.asObject();
          if (o === null) {
            fail("\"policies[" + i.toString() + "]\" must be an object {routes, attempts, retryOn, ...}");
            break;
          }
          for (let j = 0; j < o.keys.length; j++) {
            const k = unchecked(o.keys[j]);
            if (k != "routes" && !isPolicyField(k)) fail("unknown field \"" + prefix + k + "\"" + (k == "budget" ? " (the budget is filter-wide: set it at the top level)" : ""));
          }
          const p = readPolicy(o, prefix);
          let routes = new Array<string>();
          const rv = o.get("routes");
          if (rv !== null && rv.type != JsonType.Null) {
            const ra = rv.type == JsonType.Array ? changetype<JsonArray>(rv).toStringArray() : null;
            if (ra === null) fail("\"" + prefix + "routes\" must be a list of route names");
            else routes = ra;
          }
          if (routes.length == 0) {
            // An entry without routes is the default policy.
            if (defaultEntry >= 0) fail("\"" + prefix + "routes\" is empty, but policies[" + defaultEntry.toString() + "] is already the default policy");
            else if (topLevelPolicyFields) fail("\"" + prefix + "routes\" is empty (the default policy), but the top level already sets default policy fields");
            defaultEntry = i;
            def = p;
            continue;
          }
          for (let j = 0; j < routes.length; j++) {
            const r = unchecked(routes[j]);
            if (r.length == 0) fail("\"" + prefix + "routes\" holds an empty route name");
            else if (byRoute.has(r)) fail("route \"" + r + "\" is in more than one policy (" + prefix + "routes)");
            else byRoute.set(r, p);
          }
          p.label = "routes " + routes.join(",");
        }
      }
    }

    let budgetEnabled = true;
    let percent: f64 = 20;
    let minConc: i64 = 3;
    const budget = cfg.get("budget");
    if (budget !== null) {
      if (budget.type == JsonType.Null || (budget.type == JsonType.Bool && !budget.asBool())) {
        budgetEnabled = false;
      } else {
        const b = budget.asObject();
        if (b === null) fail("\"budget\" must be an object {percent, minRetryConcurrency}, or false");
        else {
          percent = numberField(b, "percent", "budget.", 20, 0, 100);
          minConc = intField(b, "minRetryConcurrency", "budget.", 3, 0, 1000000);
        }
      }
    }

    if (configError.length > 0) {
      log.error("invalid configuration: " + configError);
      return false;
    }
    this.defaultPolicy = def;
    this.byRoute = byRoute;
    this.budgetEnabled = budgetEnabled;
    this.budgetPercent = percent;
    this.minRetryConcurrency = minConc;
    seedJitter();
    if (log.enabled(LogLevel.Info)) {
      let text = def.describe();
      const seen = new Array<Policy>();
      const vals = byRoute.values();
      for (let i = 0; i < vals.length; i++) {
        const p = unchecked(vals[i]);
        if (seen.indexOf(p) < 0) {
          seen.push(p);
          text += "; " + p.describe();
        }
      }
      log.info(text + (budgetEnabled ? "; budget=" + percent.toString() + "%/min " + minConc.toString() : "; budget=off"));
    }
    return true;
  }

  /** The policy for a stream of route `name` ("" = no named route). */
  policyFor(name: string): Policy {
    if (name.length > 0 && this.byRoute.has(name)) return this.byRoute.get(name);
    return this.defaultPolicy;
  }

  newHttpContext(id: u32): HttpContext {
    return new RetryStream(id, this);
  }

  /** Envoy's retry budget: active retries < max(minRetryConcurrency, percent% of active requests). */
  budgetAllows(): bool {
    if (!this.budgetEnabled) return true;
    let limit = <i64>Math.floor(<f64>activeRequests * this.budgetPercent / 100.0);
    if (limit < this.minRetryConcurrency) limit = this.minRetryConcurrency;
    return activeRetries < limit;
  }

}

function policyList(bits: u32): string {
  const out = new Array<string>();
  for (let i = 0; i < POLICY_NAMES.length; i++) if ((bits & ((<u32>1) << <u32>i)) != 0) out.push(unchecked(POLICY_NAMES[i]));
  return out.join(",");
}

/** RFC 9110 idempotent methods; anything else (POST, PATCH, CONNECT, extensions) is not. */
function isIdempotent(method: string): bool {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
    method == "PUT" || method == "DELETE";
}

class RetryStream extends HttpContext {
  /** Retries granted so far (attempts made = retries + 1). */
  retries: u32 = 0;
  private counted: bool = false;
  private retryActive: bool = false;
  /** Clock (ms) at which the current attempt was dispatched, approximately. */
  private attemptStartMs: u64 = 0;
  /** This stream's policy, chosen by route_name on the first request headers. */
  private policy: Policy | null = null;

  constructor(id: u32, readonly cfg: RetryRoot) {
    super(id, cfg);
  }

  onRequestHeaders(headers: u32, endOfStream: bool): Action {
    if (!this.counted) {
      this.counted = true;
      activeRequests++;
    }
    let cfg = this.policy;
    if (cfg === null) {
      // The router (earlier in the chain) has set route_name by now; without
      // per-route policies there is nothing to look up.
      if (this.cfg.byRoute.size > 0) {
        const r = getPropertyString(ROUTE_NAME);
        cfg = this.cfg.policyFor(r !== null ? r : "");
      } else {
        cfg = this.cfg.defaultPolicy;
      }
      this.policy = cfg;
    }
    // Only a per-try timeout needs the attempt's start time (see classify).
    if (cfg.perTryTimeoutMs > 0) this.attemptStartMs = currentTimeMillis();
    if (cfg.attempts > 0 && !endOfStream) {
      // Keep the body for replay unless it is known to be over the cap (the
      // host would drop the copy anyway). Non-idempotent requests keep it too:
      // a connect failure may still retry them.
      const cl = this.request.headers.get("content-length");
      let keep = true;
      if (cl !== null) {
        const n = I64.parseInt(cl, 10);
        if (n > <i64>cfg.maxReplayBytes) keep = false;
      }
      if (keep) stream.keepRequestBody(cfg.maxReplayBytes);
    }
    if (cfg.perTryTimeoutMs > 0) route.setTimeouts(0, cfg.perTryTimeoutMs);
    return Action.Continue;
  }

  onResponseHeaders(headers: u32, endOfStream: bool): Action {
    this.endRetry(); // the retried attempt (if any) has its answer
    let p = this.policy;
    if (p === null) {
      p = this.cfg.defaultPolicy; // no request headers seen (should not happen)
      this.policy = p;
    }
    const cfg = p!;
    const status = this.response.status;
    const f = getPropertyString(RESPONSE_FLAGS);
    const flags = f !== null ? f : "";
    const matched = this.classify(status, flags) & cfg.retryOn;
    if (matched != 0) {
      // The method is looked up only now: most responses are never retry candidates.
      if (!cfg.retryNonIdempotent && !isIdempotent(this.request.method) && !this.nothingSent(flags)) {
        if (log.enabled(LogLevel.Debug)) log.debug("not retrying " + this.request.method + " (non-idempotent) after " + status.toString() + " " + flags);
      } else if (this.retries >= cfg.attempts) {
        rqRetryExhausted.increment();
        if (log.enabled(LogLevel.Debug)) log.debug("retries exhausted after " + (this.retries + 1).toString() + " attempts");
      } else if (!this.cfg.budgetAllows()) {
        rqRetryBudgetExceeded.increment();
        if (log.enabled(LogLevel.Debug)) log.debug("retry budget exceeded: " + activeRetries.toString() + " active retries, " + activeRequests.toString() + " active requests");
      } else {
        const backoff = cfg.backoff(this.retries);
        if (stream.retry(backoff)) {
          this.retries++;
          this.retryActive = true;
          activeRetries++;
          rqRetry.increment();
          this.attemptStartMs = currentTimeMillis() + <u64>backoff;
          if (log.enabled(LogLevel.Debug)) log.debug("retry " + this.retries.toString() + " after " + status.toString() + (flags.length > 0 ? " " + flags : "") + ", backoff " + backoff.toString() + " ms");
          return Action.Pause;
        }
        rqRetryNotReplayable.increment();
        if (log.enabled(LogLevel.Debug)) log.debug("request cannot be replayed; passing the " + status.toString() + " on");
      }
    } else if (this.retries > 0) {
      rqRetrySuccess.increment();
    }
    this.response.headers.set(ATTEMPTS_HEADER, (this.retries + 1).toString());
    return Action.Continue;
  }

  onDone(): void {
    this.finish();
  }

  onDelete(): void {
    this.finish();
  }

  private finish(): void {
    this.endRetry();
    if (this.counted) {
      this.counted = false;
      activeRequests--;
    }
  }

  private endRetry(): void {
    if (this.retryActive) {
      this.retryActive = false;
      activeRetries--;
    }
  }

  /** True when the attempt failed before the request reached the upstream (connect failure or connect timeout). */
  private nothingSent(flags: string): bool {
    if (flags == "UF") return true;
    return flags == "UT" && this.isConnectTimeout();
  }

  private isConnectTimeout(): bool {
    const d = getPropertyString(RESPONSE_CODE_DETAILS);
    return d !== null && d.startsWith("connect to ");
  }

  /** The retryOn policies this response satisfies. */
  private classify(status: u32, flags: string): u32 {
    if (flags.length > 0) {
      // A response the core produced for a failed attempt (docs/filter-abi.md).
      if (flags == "UO") return 0; // overflow (circuit breaker): never retried, as in Envoy
      if (flags == "UF") return ON_CONNECT_FAILURE | ON_RESET_BEFORE_REQUEST | ON_RESET | ON_5XX | ON_GATEWAY_ERROR;
      if (flags == "UC" || flags == "UPE") return ON_RESET | ON_5XX | ON_GATEWAY_ERROR;
      if (flags == "UT") {
        if (this.isConnectTimeout()) return ON_CONNECT_FAILURE | ON_RESET_BEFORE_REQUEST | ON_RESET | ON_5XX | ON_GATEWAY_ERROR;
        // Only a per-try timeout is retried; the request's global timeout is final (Envoy).
        const perTry = this.policy!.perTryTimeoutMs;
        if (perTry == 0) return 0;
        const now = currentTimeMillis();
        const elapsed = now > this.attemptStartMs ? now - this.attemptStartMs : 0;
        if (elapsed + 2 < <u64>perTry) return 0;
        return ON_RESET | ON_5XX | ON_GATEWAY_ERROR;
      }
      // Any other local reply that reached us: by status only.
      let k: u32 = 0;
      if (status >= 500 && status <= 599) k |= ON_5XX;
      if (status >= 502 && status <= 504) k |= ON_GATEWAY_ERROR;
      return k;
    }
    let k: u32 = 0;
    if (status >= 500 && status <= 599) k |= ON_5XX;
    if (status >= 502 && status <= 504) k |= ON_GATEWAY_ERROR;
    if (status == 409) k |= ON_RETRIABLE_4XX;
    if (this.policy!.isRetriableCode(status)) k |= ON_STATUS_CODES;
    // grpc-status is one more host call: only when a gRPC policy could use it.
    const g = (this.policy!.retryOn & GRPC_POLICIES) != 0 ? this.response.headers.get("grpc-status") : null;
    if (g !== null) {
      const code = I32.parseInt(g, 10);
      if (code == 1) k |= ON_GRPC_CANCELLED;
      else if (code == 4) k |= ON_GRPC_DEADLINE_EXCEEDED;
      else if (code == 13) k |= ON_GRPC_INTERNAL;
      else if (code == 8) k |= ON_GRPC_RESOURCE_EXHAUSTED;
      else if (code == 14) k |= ON_GRPC_UNAVAILABLE;
    }
    return k;
  }
}

registerRoot("", (id: u32): RootContext => new RetryRoot(id));
