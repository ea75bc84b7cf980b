// ratelimit: token buckets keyed by request descriptors, shared by every
// worker through proxy-wasm shared data (exact, by compare-and-swap). See
// ../README.md.
import {
  Action, Counter, HeaderPair, HttpContext, RootContext, callForeignFunction, currentTimeNanos, getPropertyString,
  log, registerRoot, statusName,
} from "wasmesh-sdk";
import { Outcome, TakeResult, refund, take } from "./bucket";
import { Descriptor, KeyKind, RateLimitConfig, lastConfigError, parseRateLimitConfig } from "./config";

// Property paths, allocated once rather than per request.
const SOURCE_ADDRESS: string[] = ["source", "address"];

const rqAllowed = new Counter("rq_allowed");
const rqLimited = new Counter("rq_limited");
/** Shared data failed; the request was let through (failOpen) or refused. */
const storeErrors = new Counter("store_errors");

/** Descriptor values longer than this (UTF-8 bytes) are hashed into the shared-data key. */
const MAX_VALUE_BYTES: i32 = 96;

class RateLimitRoot extends RootContext {
  config: RateLimitConfig = new RateLimitConfig();

  onConfigure(config: string): bool {
    const c = parseRateLimitConfig(config);
    if (c === null) {
      log.error("ratelimit: invalid configuration: " + lastConfigError());
      return false;
    }
    // A constant descriptor has one bucket: build its key once, not per request.
    for (let i = 0; i < c.descriptors.length; i++) {
      const d = c.descriptors[i];
      if (d.kind == KeyKind.Const) d.constKey = bucketKey(d, d.arg);
    }
    this.config = c;
    return true;
  }

  newHttpContext(id: u32): HttpContext {
    return new RateLimit(id, this);
  }
}

class RateLimit extends HttpContext {
  /** For the response headers of an allowed request: -1 = no descriptor applied. */
  private limit: i64 = -1;
  private remaining: i64 = 0;

  constructor(id: u32, readonly settings: RateLimitRoot) {
    super(id, settings);
  }

  onRequestHeaders(headers: u32, endOfStream: bool): Action {
    const cfg = this.settings.config;
    const descriptors = cfg.descriptors;
    const now = nowMs();
    // Created only when a second descriptor applies: one bucket needs no refund list.
    let takenKeys: string[] | null = null;
    let takenDescriptors: Descriptor[] | null = null;
    let firstKey: string | null = null;
    let firstDescriptor: Descriptor | null = null;
    for (let i = 0; i < descriptors.length; i++) {
      const d = descriptors[i];
      const key = d.kind == KeyKind.Const ? d.constKey : this.keyFor(d);
      if (key === null) continue; // e.g. the header is absent: this descriptor does not apply
      const r = take(key, d, now);
      if (r.outcome == Outcome.Allowed) {
        if (firstKey === null) {
          firstKey = key;
          firstDescriptor = d;
        } else {
          if (takenKeys === null) {
            takenKeys = new Array<string>();
            takenDescriptors = new Array<Descriptor>();
          }
          takenKeys.push(key);
          takenDescriptors!.push(d);
        }
        const left = <i64>Math.floor(r.tokens);
        if (this.limit < 0 || left < this.remaining) {
          this.limit = d.burst;
          this.remaining = left;
        }
        continue;
      }
      if (r.outcome == Outcome.Error) {
        storeErrors.increment();
        log.warn("ratelimit: shared data failed for " + d.keyText + " (" + statusName(r.status) + "); " +
          (cfg.failOpen ? "letting the request through (failOpen)" : "refusing the request (failOpen is false)"));
        if (cfg.failOpen) continue;
      }
      if (firstKey !== null) refund(firstKey, firstDescriptor!, now);
      if (takenKeys !== null) for (let j = 0; j < takenKeys.length; j++) refund(takenKeys[j], takenDescriptors![j], now);
      return this.refuse(d, r);
    }
    rqAllowed.increment();
    return Action.Continue;
  }

  onResponseHeaders(headers: u32, endOfStream: bool): Action {
    if (this.limit >= 0) {
      const h = this.response.headers;
      h.set("x-ratelimit-limit", this.limit.toString());
      h.set("x-ratelimit-remaining", this.remaining.toString());
    }
    return Action.Continue;
  }

  /** The bucket key of a non-constant descriptor for this request, or null when it does not apply. */
  private keyFor(d: Descriptor): string | null {
    const value = this.descriptorValue(d);
    return value === null ? null : bucketKey(d, value);
  }

  /** The descriptor's value for this request, or null when it does not apply. */
  private descriptorValue(d: Descriptor): string | null {
    switch (d.kind) {
      case KeyKind.Const:
        return d.arg;
      case KeyKind.Header: {
        const v = this.request.headers.getAll(d.arg);
        return v.length == 0 ? null : v.join(",");
      }
      case KeyKind.Path: {
        const p = this.request.path;
        const q = p.indexOf("?");
        return q >= 0 ? p.substring(0, q) : p;
      }
      case KeyKind.SourceIp: {
        const a = getPropertyString(SOURCE_ADDRESS);
        return a === null ? null : stripPort(a);
      }
    }
    return null;
  }

  /** 429 with retry-after and x-ratelimit-* headers, flag RL. */
  private refuse(d: Descriptor, r: TakeResult): Action {
    rqLimited.increment();
    const error = r.outcome == Outcome.Error;
    const retryAfter = error ? 1 : max<i64>(1, <i64>Math.ceil(r.waitMs / 1000));
    const reset = error ? 1 : max<i64>(1, <i64>Math.ceil(r.fullMs / 1000));
    const headers: HeaderPair[] = [
      new HeaderPair("retry-after", retryAfter.toString()),
      new HeaderPair("x-ratelimit-limit", d.burst.toString()),
      new HeaderPair("x-ratelimit-remaining", "0"),
      new HeaderPair("x-ratelimit-reset", reset.toString()),
      new HeaderPair("content-type", "text/plain"),
    ];
    callForeignFunction("wasmesh.set_flag", String.UTF8.encode("RL"));
    this.sendLocalResponse(429, "Too Many Requests\n", headers, error ? "ratelimit_store_error" : "rate_limited[" + d.keyText + "]");
    return Action.Pause;
  }
}

/**
 * The host clock in ms, rounded to the microsecond. (wasmesh computes the
 * nanoseconds as an f64 `ms * 1e6`, exact only to ~256 ns, so truncating to
 * whole ms, as currentTimeMillis() does, is sometimes 1 ms early.)
 */
function nowMs(): f64 {
  return Math.round(<f64>currentTimeNanos() / 1000.0) / 1000.0;
}

/** "ip:port" (IPv6 may be bracketed or not) without the port. */
function stripPort(address: string): string {
  if (address.length > 0 && address.charCodeAt(0) == 91) {
    const close = address.indexOf("]");
    return close > 0 ? address.substring(1, close) : address;
  }
  const colon = address.lastIndexOf(":");
  return colon < 0 ? address : address.substring(0, colon);
}

/** The shared-data key of one bucket; long values are replaced by a hash so keys stay small. */
function bucketKey(d: Descriptor, value: string): string {
  if (String.UTF8.byteLength(value) <= MAX_VALUE_BYTES) return "rl|" + d.id + "|" + value;
  return "rl|" + d.id + "|#" + fnv1a64(value) + ":" + value.length.toString();
}

/** FNV-1a 64 of the UTF-8 bytes, as 16 hex digits. */
function fnv1a64(s: string): string {
  const b = String.UTF8.encode(s);
  const p = changetype<usize>(b);
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < b.byteLength; i++) {
    h ^= <u64>load<u8>(p + <usize>i);
    h *= 0x100000001b3;
  }
  return h.toString(16).padStart(16, "0");
}

registerRoot("", (id: u32): RootContext => new RateLimitRoot(id));
