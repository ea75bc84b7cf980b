// A token bucket in proxy-wasm shared data, exact across workers.
//
// Value: 16 bytes, little-endian: f64 tokens, f64 time of that count (ms).
// Every change is a compare-and-swap on the entry's CAS token, retried a
// bounded number of times. Reads refill continuously (tokens += elapsed *
// rate, capped at the burst); a refused request writes nothing.
//
// Creating a bucket. proxy_set_shared_data has no "insert if absent": a set
// on a missing key always inserts, whatever the cas. Two workers that both
// see a key missing would both create it, and the later, unconditional write
// could erase tokens the other already took. So a bucket is created with
// cas = 1: wasmesh inserts a new entry with CAS token 1, and every later write
// moves it past 1, so a "create" either inserts, or overwrites another
// worker's untouched full bucket (same content), or fails with CasMismatch
// once a token was taken; then the loop re-reads.

import { SharedData, Status } from "wasmesh-sdk";
import { Descriptor } from "./config";

/** CAS attempts per operation before giving up (fail open or closed). */
export const MAX_ATTEMPTS: i32 = 64;
/** The CAS token of a freshly inserted entry (see above). */
const CREATE_CAS: u32 = 1;
const VALUE_BYTES: i32 = 16;

export const enum Outcome {
  Allowed = 0,
  Limited = 1,
  /** Shared data failed (key refused, table full, endless contention). */
  Error = 2,
}

export class TakeResult {
  outcome: Outcome = Outcome.Error;
  /** Tokens left after this request (Allowed), or available now (Limited). */
  tokens: f64 = 0;
  /** ms until one token is available (Limited). */
  waitMs: f64 = 0;
  /** ms until the bucket is full again. */
  fullMs: f64 = 0;
  /** The host status of the failure (Error). */
  status: Status = Status.Ok;
}

/** One buffer for every write: the host copies the value, so it can be reused at once. */
const valueBuf = new ArrayBuffer(VALUE_BYTES);

function encode(tokens: f64, atMs: f64): ArrayBuffer {
  const b = valueBuf;
  store<f64>(changetype<usize>(b), tokens);
  store<f64>(changetype<usize>(b) + 8, atMs);
  return b;
}

/** The time of a stored count, or NaN when the value is not a bucket. */
function storedAt(data: ArrayBuffer): f64 {
  if (data.byteLength != VALUE_BYTES) return NaN;
  const tokens = load<f64>(changetype<usize>(data));
  const at = load<f64>(changetype<usize>(data) + 8);
  return isFinite(tokens) && isFinite(at) ? at : NaN;
}

/** Tokens in the bucket at `nowMs` from a stored value (see storedAt). */
function refilled(data: ArrayBuffer, d: Descriptor, nowMs: f64): f64 {
  const tokens = load<f64>(changetype<usize>(data));
  const at = load<f64>(changetype<usize>(data) + 8);
  const elapsed = nowMs > at ? nowMs - at : 0;
  return min(<f64>d.burst, tokens + elapsed * d.rate / d.unitMs);
}

/** Time for `tokens` to refill (exact for whole tokens: multiply before dividing). */
function msFor(tokens: f64, d: Descriptor): f64 {
  return tokens * d.unitMs / d.rate;
}

/** Takes one token from the bucket `key` of descriptor `d`. */
export function take(key: string, d: Descriptor, nowMs: f64): TakeResult {
  const r = new TakeResult();
  const burst = <f64>d.burst;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const cur = SharedData.get(key);
    if (cur === null) {
      const st = SharedData.set(key, encode(burst, nowMs), CREATE_CAS);
      if (st == Status.Ok || st == Status.CasMismatch) continue; // read it back
      r.status = st;
      return r;
    }
    // A worker whose clock read is older than the stored one must not move
    // the time back (that would refill twice): keep the later time.
    const at = storedAt(cur.data);
    const valid = !isNaN(at);
    let tokens = valid ? refilled(cur.data, d, nowMs) : burst; // not a bucket: start over, still by CAS
    const writeAt = valid && at > nowMs ? at : nowMs;
    if (tokens < 1) {
      r.outcome = Outcome.Limited;
      r.tokens = tokens;
      r.waitMs = msFor(1 - tokens, d);
      r.fullMs = msFor(burst - tokens, d);
      return r;
    }
    tokens -= 1;
    const st = SharedData.set(key, encode(tokens, writeAt), cur.cas);
    if (st == Status.Ok) {
      r.outcome = Outcome.Allowed;
      r.tokens = tokens;
      r.fullMs = msFor(burst - tokens, d);
      return r;
    }
    if (st != Status.CasMismatch) {
      r.status = st;
      return r;
    }
  }
  r.status = Status.CasMismatch;
  return r;
}

/** Gives back a token taken by `take` (the request was refused by another descriptor). Best effort. */
export function refund(key: string, d: Descriptor, nowMs: f64): void {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const cur = SharedData.get(key);
    if (cur === null) return;
    const at = storedAt(cur.data);
    if (isNaN(at)) return;
    const tokens = refilled(cur.data, d, nowMs);
    const st = SharedData.set(key, encode(min(<f64>d.burst, tokens + 1), at > nowMs ? at : nowMs), cur.cas);
    if (st != Status.CasMismatch) return;
  }
}
