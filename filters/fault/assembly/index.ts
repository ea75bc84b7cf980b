// fault: Istio HTTPFaultInjection (Envoy's fault filter) as a proxy-wasm
// filter. A selected request is delayed (wasmesh.delay: the host pauses the
// stream, then continues it) and/or aborted with a local reply flagged FI.
//
// When both a delay and an abort are selected, the abort comes after the
// delay, as in Envoy. wasmesh.delay continues the stream at the next filter
// without calling this one again, so it cannot time that case: the stream
// stays paused and the root context's tick sends the abort when the delay is
// over (with a longer wasmesh.delay only as a safety net; see README.md).
//
// Configuration: see filters/fault/README.md.
import {
  Action, Counter, HttpContext, JsonArray, JsonObject, JsonType, JsonValue, LogLevel, RootContext,
  callForeignFunction, currentTimeNanos, getPropertyString, log, parseConfig, registerRoot,
  setTickPeriod, stream,
} from "wasmesh-sdk";

// Property paths, allocated once rather than per request.
const ROUTE_NAME: string[] = ["route_name"];

const delaysInjected = new Counter("delays_injected");
const abortsInjected = new Counter("aborts_injected");

const ABORT_BODY = "fault filter abort";
const ABORT_DETAILS = "fault_filter_abort";
/** Extra time before a delayed abort whose tick never came lets the stream go on (see onRequestHeaders). */
const SAFETY_NET_MS: u32 = 1000;

// ---- PRNG: splitmix64, one state per VM (per worker)

let rngState: u64 = 0;

// WASI's random_get: the host fills the buffer from its CSPRNG (Envoy and
// wasmesh both provide it). Used only to seed.
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
declare function wasi_random_get(buf: usize, len: usize): u16;

const SEED_BUF: usize = memory.data(8, 8);

/** A seed from the host's random source, mixed with the clock (the clock alone if that fails). */
function entropySeed(): u64 {
  store<u64>(SEED_BUF, 0);
  const r: u64 = wasi_random_get(SEED_BUF, 8) == 0 ? load<u64>(SEED_BUF) : 0;
  return r ^ currentTimeNanos() ^ 0x5deece66d;
}

function nextU64(): u64 {
  rngState += 0x9e3779b97f4a7c15;
  let z = rngState;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/** Uniform in [0, 1) with 53 random bits. */
function uniform(): f64 {
  return <f64>(nextU64() >> 11) * (1.0 / 9007199254740992.0);
}

/** True with probability percent/100. */
function selected(percent: f64): bool {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  return uniform() * 100.0 < percent;
}

// ---- configuration

let configError: string = "";

function fail(message: string): void {
  if (configError.length == 0) configError = message;
}

const MATCH_EXACT: u8 = 0;
const MATCH_PREFIX: u8 = 1;
const MATCH_SUFFIX: u8 = 2;
const MATCH_PRESENT: u8 = 3;

class HeaderMatcher {
  constructor(readonly name: string, readonly kind: u8, readonly value: string, readonly present: bool) {}

  matches(ctx: HttpContext): bool {
    // One value lookup answers "present"; only value matchers need every value.
    if (this.kind == MATCH_PRESENT) return ctx.request.headers.has(this.name) == this.present;
    const values = ctx.request.headers.getAll(this.name);
    if (values.length == 0) return false;
    // Several values are matched joined with ",", as Envoy does.
    const v = values.length == 1 ? unchecked(values[0]) : values.join(",");
    if (this.kind == MATCH_EXACT) return v == this.value;
    if (this.kind == MATCH_PREFIX) return v.startsWith(this.value);
    return v.endsWith(this.value);
  }
}

/** One matcher from {"name", "exact"|"prefix"|"suffix"|"present"}; `name` may come from an Istio-style map key. */
function readMatcher(o: JsonObject, name: string, where: string): HeaderMatcher | null {
  if (name.length == 0) {
    fail(where + ": \"name\" is required");
    return null;
  }
  let found = 0;
  let m: HeaderMatcher | null = null;
  for (let i = 0; i < o.keys.length; i++) {
    const k = unchecked(o.keys[i]);
    const v = o.get(k)!;
    if (k == "name") continue;
    if (k == "exact" || k == "prefix" || k == "suffix") {
      const s = v.asString();
      if (s === null) {
        fail(where + ": \"" + k + "\" must be a string");
        return null;
      }
      m = new HeaderMatcher(name.toLowerCase(), k == "exact" ? MATCH_EXACT : k == "prefix" ? MATCH_PREFIX : MATCH_SUFFIX, s, true);
      found++;
    } else if (k == "present") {
      if (v.type != JsonType.Bool) {
        fail(where + ": \"present\" must be true or false");
        return null;
      }
      m = new HeaderMatcher(name.toLowerCase(), MATCH_PRESENT, "", v.asBool());
      found++;
    } else {
      fail(where + ": unsupported key \"" + k + "\" (use exact, prefix, suffix or present)");
      return null;
    }
  }
  if (found != 1) {
    fail(where + ": give exactly one of exact, prefix, suffix, present");
    return null;
  }
  return m;
}

/** A percentage: a number, or Istio's {"value": number}; 100 when absent. */
function readPercentage(o: JsonObject, where: string): f64 {
  let v: JsonValue | null = o.get("percentage");
  if (v === null) return 100;
  if (v.type == JsonType.Object) {
    v = changetype<JsonObject>(v).get("value");
    if (v === null) return 0; // Istio: an unset value is 0
  }
  if (v.type != JsonType.Number) {
    fail(where + ".percentage must be a number from 0 to 100");
    return 0;
  }
  const p = v.asNumber();
  if (!(p >= 0 && p <= 100)) fail(where + ".percentage must be a number from 0 to 100, got " + v.stringify());
  return p;
}

/** Istio duration text: "7s", "300ms", "1.5s", "2m", "1h". Returns -1 when malformed. */
function parseDurationMs(s: string): f64 {
  let unit: f64 = 0;
  let num = s;
  if (s.endsWith("ms")) { unit = 1; num = s.substring(0, s.length - 2); }
  else if (s.endsWith("s")) { unit = 1000; num = s.substring(0, s.length - 1); }
  else if (s.endsWith("m")) { unit = 60000; num = s.substring(0, s.length - 1); }
  else if (s.endsWith("h")) { unit = 3600000; num = s.substring(0, s.length - 1); }
  else return -1;
  if (num.length == 0) return -1;
  let dots = 0;
  for (let i = 0; i < num.length; i++) {
    const c = num.charCodeAt(i);
    if (c == 46) dots++;
    else if (c < 48 || c > 57) return -1;
  }
  if (dots > 1) return -1;
  return parseFloat(num) * unit;
}

// ---- streams waiting for an abort after their delay (per VM)

/**
 * The clock in ms, rounded to the nearest ms rather than truncated: the host
 * derives nanoseconds from a double (ms * 1e6 is beyond 2^53), so the value
 * can sit a few hundred ns below a whole ms and would truncate 1 ms early.
 */
function nowMs(): u64 {
  return (currentTimeNanos() + 500000) / 1000000;
}

const pending = new Array<FaultStream>();
/** Due time (ms) the tick is armed for; 0 = not armed. */
let armedFor: u64 = 0;

function armTick(now: u64): void {
  let next: u64 = 0;
  for (let i = 0; i < pending.length; i++) {
    const d = unchecked(pending[i]).abortAt;
    if (next == 0 || d < next) next = d;
  }
  if (next == armedFor) return;
  armedFor = next;
  if (next == 0) setTickPeriod(0);
  else setTickPeriod(next > now ? <u32>(next - now) : 1);
}

function forget(s: FaultStream): void {
  const i = pending.indexOf(s);
  if (i >= 0) pending.splice(i, 1);
}

class FaultRoot extends RootContext {
  delayMs: u32 = 0;
  delayPercent: f64 = 0;
  abortStatus: u32 = 0;
  abortPercent: f64 = 0;
  matchers: HeaderMatcher[] = new Array<HeaderMatcher>();
  /** Route names (the router's route_name) the fault is restricted to; empty = every route. */
  routes: string[] = new Array<string>();

  onConfigure(config: string): bool {
    const cfg = parseConfig(config);
    if (cfg === null) return false;
    configError = "";
    let delayMs: f64 = 0;
    let delayPercent: f64 = 0;
    let abortStatus: i64 = 0;
    let abortPercent: f64 = 0;
    const matchers = new Array<HeaderMatcher>();

    const dv = cfg.get("delay");
    if (dv !== null && dv.type != JsonType.Null) {
      const d = dv.asObject();
      if (d === null) fail("\"delay\" must be an object");
      else {
        const fixed = d.get("fixedDelayMs");
        const text = d.get("fixedDelay");
        if (fixed !== null) {
          delayMs = fixed.asNumber(-1);
          if (!(delayMs >= 0 && delayMs <= 4294967295)) fail("delay.fixedDelayMs must be a number of milliseconds");
        } else if (text !== null) {
          const s = text.asString();
          delayMs = s !== null ? parseDurationMs(s) : -1;
          if (!(delayMs >= 0 && delayMs <= 4294967295)) fail("delay.fixedDelay must be a duration such as \"7s\" or \"300ms\"");
        } else {
          fail("delay needs \"fixedDelayMs\" (or \"fixedDelay\", e.g. \"7s\")");
        }
        delayPercent = readPercentage(d, "delay");
        for (let i = 0; i < d.keys.length; i++) {
          const k = unchecked(d.keys[i]);
          if (k != "fixedDelayMs" && k != "fixedDelay" && k != "percentage") fail("delay: unknown field \"" + k + "\"");
        }
      }
    }

    const av = cfg.get("abort");
    if (av !== null && av.type != JsonType.Null) {
      const a = av.asObject();
      if (a === null) fail("\"abort\" must be an object");
      else {
        const st = a.get("httpStatus");
        if (st === null) fail("abort needs \"httpStatus\"");
        else {
          abortStatus = st.asInt(-1);
          if (abortStatus < 200 || abortStatus > 599) fail("abort.httpStatus must be a status code from 200 to 599");
        }
        abortPercent = readPercentage(a, "abort");
        for (let i = 0; i < a.keys.length; i++) {
          const k = unchecked(a.keys[i]);
          if (k != "httpStatus" && k != "percentage") fail("abort: unknown field \"" + k + "\"");
        }
      }
    }

    const hv = cfg.get("headers");
    if (hv !== null && hv.type != JsonType.Null) {
      if (hv.type == JsonType.Array) {
        const arr = hv.asArray()!;
        for (let i = 0; i < arr.length; i++) {
          const where = "headers[" + i.toString() + "]";
          const o = arr.at(i)!.asObject();
          if (o === null) {
            fail(where + " must be an object");
            break;
          }
          const m = readMatcher(o, o.getString("name", ""), where);
          if (m === null) break;
          matchers.push(m);
        }
      } else if (hv.type == JsonType.Object) {
        // Istio's form: {"end-user": {"exact": "jason"}}
        const obj = changetype<JsonObject>(hv);
        for (let i = 0; i < obj.keys.length; i++) {
          const name = unchecked(obj.keys[i]);
          const where = "headers." + name;
          const o = obj.get(name)!.asObject();
          if (o === null) {
            fail(where + " must be an object");
            break;
          }
          const m = readMatcher(o, name, where);
          if (m === null) break;
          matchers.push(m);
        }
      } else {
        fail("\"headers\" must be a list of {name, exact|prefix|suffix|present}");
      }
    }

    let routes = new Array<string>();
    const rv = cfg.get("routes");
    if (rv !== null && rv.type != JsonType.Null) {
      const ra = rv.type == JsonType.Array ? changetype<JsonArray>(rv).toStringArray() : null;
      if (ra === null) fail("\"routes\" must be a list of route names");
      else if (ra.length == 0) fail("\"routes\" is empty, so the fault would apply nowhere (leave it out to apply to every route)");
      else {
        for (let i = 0; i < ra.length; i++) if (unchecked(ra[i]).length == 0) fail("\"routes[" + i.toString() + "]\" is an empty route name");
        routes = ra;
      }
    }

    const sv = cfg.get("seed");
    let seed: u64 = 0;
    if (sv !== null) {
      const n = sv.asInt(-1);
      if (n < 0) fail("\"seed\" must be a non-negative integer");
      seed = <u64>n;
    }

    for (let i = 0; i < cfg.keys.length; i++) {
      const k = unchecked(cfg.keys[i]);
      if (k != "delay" && k != "abort" && k != "headers" && k != "routes" && k != "seed") fail("unknown field \"" + k + "\"");
    }
    if (configError.length > 0) {
      log.error("invalid configuration: " + configError);
      return false;
    }
    this.delayMs = <u32>Math.round(delayMs);
    this.delayPercent = delayPercent;
    this.abortStatus = <u32>abortStatus;
    this.abortPercent = abortPercent;
    this.matchers = matchers;
    this.routes = routes;
    // A fixed seed makes selection reproducible (tests); otherwise each VM
    // seeds from the host's random source, so workers draw different sequences.
    rngState = sv !== null ? seed : entropySeed();
    if (log.enabled(LogLevel.Info)) {
      log.info("delay " + this.delayMs.toString() + " ms at " + delayPercent.toString() + "%, abort " +
        abortStatus.toString() + " at " + abortPercent.toString() + "%, " + matchers.length.toString() + " header matcher(s)" +
        (routes.length > 0 ? ", routes " + routes.join(",") : ", every route"));
    }
    return true;
  }

  newHttpContext(id: u32): HttpContext {
    return new FaultStream(id, this);
  }

  /** Sends the aborts whose delay is over. */
  onTick(): void {
    const now = nowMs();
    armedFor = 0; // re-armed below for what is left
    let i = 0;
    while (i < pending.length) {
      const s = unchecked(pending[i]);
      // 1 ms of slack: a host timer may fire up to 1 ms early (ms granularity).
      if (s.abortAt <= now + 1) {
        pending.splice(i, 1);
        s.abortNow();
      } else {
        i++;
      }
    }
    if (pending.length == 0) setTickPeriod(0);
    else armTick(now);
  }
}

class FaultStream extends HttpContext {
  /** Clock (ms) at which a delayed abort is due; 0 = none. */
  abortAt: u64 = 0;

  constructor(id: u32, readonly cfg: FaultRoot) {
    super(id, cfg);
  }

  onRequestHeaders(headers: u32, endOfStream: bool): Action {
    const cfg = this.cfg;
    if (cfg.routes.length > 0) {
      // The router, earlier in the chain, set route_name for the route it picked.
      const r = getPropertyString(ROUTE_NAME);
      if (r === null || r.length == 0 || !cfg.routes.includes(r)) return Action.Continue;
    }
    const m = cfg.matchers;
    for (let i = 0; i < m.length; i++) {
      if (!unchecked(m[i]).matches(this)) return Action.Continue;
    }
    // Independent draws for the delay and the abort, as in Envoy.
    const delay = cfg.delayMs > 0 && selected(cfg.delayPercent);
    const abort = cfg.abortStatus > 0 && selected(cfg.abortPercent);
    if (delay && abort) {
      delaysInjected.increment();
      const now = nowMs();
      this.abortAt = now + <u64>cfg.delayMs;
      pending.push(this);
      armTick(now);
      // Safety net: if the tick never comes (the VM trapped, say), the
      // stream continues a little later instead of hanging. When the abort
      // is sent first, the host drops this pending delay with the stream.
      stream.delay(cfg.delayMs > 0xffffffff - SAFETY_NET_MS ? 0xffffffff : cfg.delayMs + SAFETY_NET_MS);
      return Action.Pause;
    }
    if (delay) {
      delaysInjected.increment();
      stream.delay(cfg.delayMs);
      return Action.Pause;
    }
    if (abort) {
      this.abortNow();
      return Action.Pause;
    }
    return Action.Continue;
  }

  /** Answers with the configured status, flagged FI. */
  abortNow(): void {
    this.abortAt = 0;
    abortsInjected.increment();
    this.makeEffective();
    callForeignFunction("wasmesh.set_flag", String.UTF8.encode("FI"));
    this.sendLocalResponse(this.cfg.abortStatus, ABORT_BODY, null, ABORT_DETAILS);
  }

  onDone(): void {
    if (this.abortAt != 0) {
      this.abortAt = 0;
      forget(this);
    }
  }

  onDelete(): void {
    this.onDone();
  }
}

registerRoot("", (id: u32): RootContext => new FaultRoot(id));
