// Per-endpoint health and load of one cluster, in a SharedArrayBuffer that the
// main thread and every worker map. Workers write request outcomes and active
// counts, the main thread writes active-health-check results and runs the
// outlier sweep, and every load balancer reads it - all without messages, so
// the request path never waits on another thread.
//
// Layout (little-endian, offsets in bytes; a worker attaches with
// `EndpointStateTable.attach(buffer)` and needs nothing else):
//
//   header, 128 bytes
//     i32[0]  MAGIC 0x574d5354 ('WMST')      i32[1]  layout VERSION (1)
//     i32[2]  endpoint count                 i32[3]  GENERATION: +1 whenever an
//                                                    endpoint's LB-visible state
//                                                    (available / HC-failed) changes
//     i32[4]  endpoints ejecting or ejected  i32[5]  endpoints failing active HC
//     i32[6]  endpoints not available        i32[7]  outlier detection enabled (0/1)
//     i32[8]  consecutive5xx threshold       i32[9]  maxEjectionPercent
//     f64[8]  baseEjectionTimeMs (byte 64)   f64[9]  intervalMs (byte 72)
//     f64[10] maxEjectionTimeMs (byte 80)
//   then one 64-byte row per endpoint (a cache line, so the active-request
//   counters that all workers hammer do not share lines across endpoints):
//     +0  i32 STATE       bit flags, 0 = available (see below)
//     +4  i32 EJECTION_COUNT  Envoy's ejection-time multiplier ("backoff")
//     +8  i32 CONSECUTIVE_5XX
//     +12 i32 ACTIVE_REQUESTS  summed over all workers (Atomics.add/sub)
//     +16 u32 TOTAL_REQUESTS low word   +20 u32 high word (64-bit counter)
//     +24 i32 EJECTIONS_TOTAL  lifetime ejections (stats only)
//     +32 f64 EJECTED_UNTIL   ms, on the callers' clock (the nowMs passed in; Date.now())
//     +40 f64 LAST_UNEJECTED  ms, same clock (stats only)
//
// STATE is a single word so that availability is one Atomics.load and every
// transition is one compareExchange: exactly one thread observes each
// available <-> unavailable edge, which keeps the header counters exact.
// Health is stored inverted (HC_FAILED) so a zero-filled buffer means "all
// endpoints healthy and in service": we start optimistic (see health-checker.ts).

import type { OutlierDetectionConfig } from '../config/types';

/** Failing active health checks. Never picked by a load balancer, even in panic mode. */
export const STATE_HC_FAILED = 1;
/** Ejected by outlier detection. */
export const STATE_EJECTED = 2;
/** An ejection is being written (ejected-until not yet visible). Treated as ejected. */
export const STATE_EJECTING = 4;
const EJECT_BITS = STATE_EJECTED | STATE_EJECTING;

const MAGIC = 0x574d5354;
const VERSION = 1;
const HEADER_BYTES = 128;
const ROW_BYTES = 64;
const ROW_I32 = ROW_BYTES / 4;

// Header int32 indices.
const H_MAGIC = 0;
const H_VERSION = 1;
const H_COUNT = 2;
const H_GENERATION = 3;
const H_EJECTED = 4;
const H_UNHEALTHY = 5;
const H_UNAVAILABLE = 6;
const H_OD_ENABLED = 7;
const H_OD_CONSECUTIVE = 8;
const H_OD_MAX_PERCENT = 9;
// Header float64 indices.
const HF_BASE_EJECTION = 8;
const HF_INTERVAL = 9;
const HF_MAX_EJECTION = 10;

// Row int32 offsets.
const R_STATE = 0;
const R_EJECTION_COUNT = 1;
const R_CONSECUTIVE_5XX = 2;
const R_ACTIVE = 3;
const R_TOTAL_LO = 4;
const R_TOTAL_HI = 5;
const R_EJECTIONS_TOTAL = 6;
// Row float64 offsets.
const RF_EJECTED_UNTIL = 4;
const RF_LAST_UNEJECTED = 5;

/** Envoy's default max_ejection_time; our config has no knob for it yet. */
const DEFAULT_MAX_EJECTION_MS = 300_000;

export interface EndpointSnapshot {
  index: number;
  /** Passing active health checks (always true without HC). */
  healthy: boolean;
  ejected: boolean;
  available: boolean;
  ejectionCount: number;
  ejectionsTotal: number;
  consecutive5xx: number;
  /** 0 when not ejected. */
  ejectedUntilMs: number;
  lastUnejectedMs: number;
  activeRequests: number;
  totalRequests: number;
}

export interface TableSnapshot {
  endpoints: EndpointSnapshot[];
  ejected: number;
  unhealthy: number;
  available: number;
  generation: number;
}

function lbView(state: number): number {
  // What a load balancer cares about: available at all, and HC-failed or not.
  return (state === 0 ? 0 : 1) | (state & STATE_HC_FAILED ? 2 : 0);
}

export class EndpointStateTable {
  readonly buffer: SharedArrayBuffer;
  readonly size: number;
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  // Outlier settings, copied out of the header once (they never change for a table).
  private readonly odEnabled: boolean;
  private readonly threshold: number;
  private readonly maxPercent: number;
  private readonly baseMs: number;
  private readonly maxMs: number;

  /** A new table (main thread), every endpoint healthy, nothing ejected. */
  static create(endpointCount: number, outlier: OutlierDetectionConfig | null): EndpointStateTable {
    if (!Number.isInteger(endpointCount) || endpointCount < 0) throw new RangeError(`bad endpoint count ${endpointCount}`);
    const buffer = new SharedArrayBuffer(HEADER_BYTES + endpointCount * ROW_BYTES);
    const i32 = new Int32Array(buffer);
    const f64 = new Float64Array(buffer);
    i32[H_MAGIC] = MAGIC;
    i32[H_VERSION] = VERSION;
    i32[H_COUNT] = endpointCount;
    if (outlier) {
      i32[H_OD_ENABLED] = 1;
      i32[H_OD_CONSECUTIVE] = Math.max(1, outlier.consecutive5xx | 0);
      i32[H_OD_MAX_PERCENT] = Math.min(100, Math.max(0, outlier.maxEjectionPercent | 0));
      f64[HF_BASE_EJECTION] = outlier.baseEjectionTimeMs;
      f64[HF_INTERVAL] = outlier.intervalMs;
      f64[HF_MAX_EJECTION] = Math.max(DEFAULT_MAX_EJECTION_MS, outlier.baseEjectionTimeMs);
    }
    return new EndpointStateTable(buffer);
  }

  /** Another view of an existing table, e.g. in a worker that received `buffer`. */
  static attach(buffer: SharedArrayBuffer): EndpointStateTable {
    return new EndpointStateTable(buffer);
  }

  private constructor(buffer: SharedArrayBuffer) {
    if (buffer.byteLength < HEADER_BYTES) throw new RangeError('endpoint state buffer too small');
    this.buffer = buffer;
    this.i32 = new Int32Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.f64 = new Float64Array(buffer);
    if (this.i32[H_MAGIC] !== MAGIC || this.i32[H_VERSION] !== VERSION) throw new TypeError('not an endpoint state buffer (bad magic/version)');
    this.size = this.i32[H_COUNT];
    if (buffer.byteLength !== HEADER_BYTES + this.size * ROW_BYTES) throw new RangeError('endpoint state buffer has the wrong length');
    this.odEnabled = this.i32[H_OD_ENABLED] === 1;
    this.threshold = this.i32[H_OD_CONSECUTIVE];
    this.maxPercent = this.i32[H_OD_MAX_PERCENT];
    this.baseMs = this.f64[HF_BASE_EJECTION];
    this.maxMs = this.f64[HF_MAX_EJECTION];
  }

  // ---- reads (any thread, hot path) ----

  /** In service: passing active HC and not ejected. One atomic load. */
  isAvailable(i: number): boolean {
    return Atomics.load(this.i32, this.row(i) + R_STATE) === 0;
  }

  /** Raw STATE bits (STATE_* flags). */
  state(i: number): number {
    return Atomics.load(this.i32, this.row(i) + R_STATE);
  }

  isHealthy(i: number): boolean {
    return (this.state(i) & STATE_HC_FAILED) === 0;
  }

  isEjected(i: number): boolean {
    return (this.state(i) & EJECT_BITS) !== 0;
  }

  activeRequests(i: number): number {
    return Atomics.load(this.i32, this.row(i) + R_ACTIVE);
  }

  /** Changes whenever any endpoint's LB-visible state changes; load balancers rebuild on a change. */
  generation(): number {
    return Atomics.load(this.i32, H_GENERATION);
  }

  availableCount(): number {
    return this.size - Atomics.load(this.i32, H_UNAVAILABLE);
  }

  ejectedCount(): number {
    return Atomics.load(this.i32, H_EJECTED);
  }

  unhealthyCount(): number {
    return Atomics.load(this.i32, H_UNHEALTHY);
  }

  get outlierDetectionEnabled(): boolean {
    return this.odEnabled;
  }

  /** The configured sweep interval (ms), 0 without outlier detection. */
  get sweepIntervalMs(): number {
    return this.odEnabled ? this.f64[HF_INTERVAL] : 0;
  }

  // ---- request accounting (workers, hot path) ----

  /** A request was dispatched to endpoint i. Pair with onRequestEnd. */
  onRequestStart(i: number): void {
    const r = this.row(i);
    Atomics.add(this.i32, r + R_ACTIVE, 1);
    // 64-bit total from two words: exactly one thread sees the low word wrap
    // (Atomics.add returns the old value), and only it carries. A reader may
    // briefly see the wrapped low word without the carry - fine for stats.
    if (Atomics.add(this.u32, r + R_TOTAL_LO, 1) === 0xffffffff) Atomics.add(this.u32, r + R_TOTAL_HI, 1);
  }

  onRequestEnd(i: number): void {
    Atomics.sub(this.i32, this.row(i) + R_ACTIVE, 1);
  }

  /**
   * Outcome of one upstream response. Any 5xx extends the endpoint's run of
   * consecutive 5xx, anything else ends it (Envoy's consecutive_5xx). Returns
   * true when this call ejected the endpoint.
   */
  recordResponse(i: number, status: number, nowMs: number): boolean {
    const idx = this.row(i) + R_CONSECUTIVE_5XX;
    if (status < 500 || status > 599) {
      // Load before storing: most responses succeed with the counter already
      // 0, and skipping the write keeps the cache line shared between workers.
      if (Atomics.load(this.i32, idx) !== 0) Atomics.store(this.i32, idx, 0);
      return false;
    }
    return this.countFailure(i, idx, nowMs);
  }

  /**
   * A connect failure (also: connect timeout, reset before headers). With
   * Envoy's default split_external_local_origin_errors=false these are
   * "gateway errors" that count as 5xx for consecutive-5xx detection.
   */
  recordConnectFailure(i: number, nowMs: number = Date.now()): boolean {
    return this.countFailure(i, this.row(i) + R_CONSECUTIVE_5XX, nowMs);
  }

  private countFailure(i: number, idx: number, nowMs: number): boolean {
    const n = Atomics.add(this.i32, idx, 1) + 1;
    if (!this.odEnabled || n !== this.threshold) return false;
    // Atomics.add hands out each count once, so exactly one thread sees the
    // run reach the threshold and tries the ejection. Like Envoy, the run is
    // reset afterwards whether or not the ejection was allowed, so an
    // over-budget endpoint needs a fresh run of failures to try again.
    const ejected = this.tryEject(i, nowMs);
    Atomics.store(this.i32, idx, 0);
    return ejected;
  }

  /**
   * Eject endpoint i now unless it already is ejected or the cluster's
   * ejection budget is spent. Safe from any thread.
   */
  tryEject(i: number, nowMs: number): boolean {
    if (!this.odEnabled || (this.state(i) & EJECT_BITS) !== 0) return false;
    // 1. Reserve a slot in the cluster-wide budget with a CAS loop, so two
    //    workers ejecting different endpoints at once cannot both squeeze
    //    past the limit. Envoy's rule: 100 * (ejected + 1) / hosts must not
    //    exceed max_ejection_percent (so 10% of 9 hosts allows none).
    for (;;) {
      const cur = Atomics.load(this.i32, H_EJECTED);
      if ((cur + 1) * 100 > this.maxPercent * this.size) return false;
      if (Atomics.compareExchange(this.i32, H_EJECTED, cur, cur + 1) === cur) break;
    }
    // 2. Claim the endpoint: only one thread moves it out of "not ejected".
    //    EJECTING (not EJECTED) so the sweep cannot see a stale ejected-until.
    const old = this.updateState(i, STATE_EJECTING, 0, EJECT_BITS, 0);
    if (old < 0) {
      Atomics.sub(this.i32, H_EJECTED, 1);
      return false;
    }
    // 3. We own this ejection: compute its length. Ejection time is
    //    base x ejection count, capped (Envoy's eject_time_backoff).
    const r = this.row(i);
    let count = Atomics.load(this.i32, r + R_EJECTION_COUNT);
    if (count * this.baseMs < this.maxMs + this.baseMs) count = Atomics.add(this.i32, r + R_EJECTION_COUNT, 1) + 1;
    this.f64[(r >> 1) + RF_EJECTED_UNTIL] = nowMs + Math.min(this.baseMs * count, this.maxMs);
    Atomics.add(this.i32, r + R_EJECTIONS_TOTAL, 1);
    // 4. Publish. The seq-cst compareExchange orders the plain f64 write
    //    before it, so whoever sees EJECTED also sees the right ejected-until.
    this.updateState(i, STATE_EJECTED, STATE_EJECTING, STATE_EJECTING, STATE_EJECTING);
    return true;
  }

  // ---- main thread ----

  /**
   * Outlier sweep, every outlier `intervalMs`: return endpoints whose
   * ejection time has passed, and - as Envoy does each interval - lower the
   * ejection-time multiplier of endpoints that stayed in service. Returns the
   * number of endpoints un-ejected.
   */
  sweep(nowMs: number): number {
    let unejected = 0;
    for (let i = 0; i < this.size; i++) {
      const r = this.row(i);
      const s = Atomics.load(this.i32, r + R_STATE);
      if (s & STATE_EJECTED) {
        if (nowMs >= this.f64[(r >> 1) + RF_EJECTED_UNTIL] && this.uneject(i, nowMs)) unejected++;
      } else if ((s & STATE_EJECTING) === 0) {
        const c = Atomics.load(this.i32, r + R_EJECTION_COUNT);
        // CAS, not sub: a worker may be ejecting it right now; then skip.
        if (c > 0) Atomics.compareExchange(this.i32, r + R_EJECTION_COUNT, c, c - 1);
      }
    }
    return unejected;
  }

  /** Return an ejected endpoint to service now. True if it was ejected. */
  uneject(i: number, nowMs: number = Date.now()): boolean {
    const old = this.updateState(i, 0, STATE_EJECTED, STATE_EJECTED, STATE_EJECTED);
    if (old < 0) return false;
    const r = this.row(i);
    Atomics.sub(this.i32, H_EJECTED, 1);
    // Envoy resets the run so a few fresh errors do not re-eject at once.
    Atomics.store(this.i32, r + R_CONSECUTIVE_5XX, 0);
    this.f64[(r >> 1) + RF_LAST_UNEJECTED] = nowMs;
    return true;
  }

  /** Active health check verdict. Returns true if the flag changed. */
  setHealthy(i: number, healthy: boolean): boolean {
    const old = healthy
      ? this.updateState(i, 0, STATE_HC_FAILED, STATE_HC_FAILED, STATE_HC_FAILED)
      : this.updateState(i, STATE_HC_FAILED, 0, STATE_HC_FAILED, 0);
    if (old < 0) return false;
    Atomics.add(this.i32, H_UNHEALTHY, healthy ? -1 : 1);
    return true;
  }

  /** Point-in-time copy for the admin /clusters output. Allocates; not for the hot path. */
  snapshot(): TableSnapshot {
    const endpoints: EndpointSnapshot[] = [];
    for (let i = 0; i < this.size; i++) {
      const r = this.row(i);
      const s = Atomics.load(this.i32, r + R_STATE);
      const ejected = (s & EJECT_BITS) !== 0;
      endpoints.push({
        index: i,
        healthy: (s & STATE_HC_FAILED) === 0,
        ejected,
        available: s === 0,
        ejectionCount: Atomics.load(this.i32, r + R_EJECTION_COUNT),
        ejectionsTotal: Atomics.load(this.i32, r + R_EJECTIONS_TOTAL),
        consecutive5xx: Atomics.load(this.i32, r + R_CONSECUTIVE_5XX),
        ejectedUntilMs: ejected ? this.f64[(r >> 1) + RF_EJECTED_UNTIL] : 0,
        lastUnejectedMs: this.f64[(r >> 1) + RF_LAST_UNEJECTED],
        activeRequests: Math.max(0, Atomics.load(this.i32, r + R_ACTIVE)),
        totalRequests: Atomics.load(this.u32, r + R_TOTAL_HI) * 0x100000000 + Atomics.load(this.u32, r + R_TOTAL_LO),
      });
    }
    return {
      endpoints,
      ejected: this.ejectedCount(),
      unhealthy: this.unhealthyCount(),
      available: this.availableCount(),
      generation: this.generation(),
    };
  }

  // ---- internals ----

  private row(i: number): number {
    if (i >>> 0 !== i || i >= this.size) throw new RangeError(`endpoint index ${i} out of range 0..${this.size - 1}`);
    return (HEADER_BYTES >> 2) + i * ROW_I32;
  }

  /**
   * Atomically `state = (state | set) & ~clear`, provided that
   * `(state & guardMask) === guardValue`. Returns the old state, or -1 when
   * the guard fails or nothing would change. Only the winning CAS sees each
   * edge, which keeps the unavailable counter and the generation exact.
   */
  private updateState(i: number, set: number, clear: number, guardMask: number, guardValue: number): number {
    const idx = this.row(i) + R_STATE;
    for (;;) {
      const old = Atomics.load(this.i32, idx);
      if ((old & guardMask) !== guardValue) return -1;
      const next = (old | set) & ~clear;
      if (next === old) return -1;
      if (Atomics.compareExchange(this.i32, idx, old, next) !== old) continue;
      if ((old === 0) !== (next === 0)) Atomics.add(this.i32, H_UNAVAILABLE, next === 0 ? -1 : 1);
      if (lbView(old) !== lbView(next)) Atomics.add(this.i32, H_GENERATION, 1);
      return old;
    }
  }
}

/** Bytes of the shared buffer for `endpointCount` endpoints (for capacity planning / tests). */
export function endpointStateBytes(endpointCount: number): number {
  return HEADER_BYTES + endpointCount * ROW_BYTES;
}
