// wasmesh's extensions (docs/filter-abi.md), called through the standard
// `proxy_call_foreign_function`, so a module using them still loads in any
// proxy-wasm host: there the call just fails with NotFound/Unimplemented.
//
// Like every stream operation, these act on the stream whose callback is
// running (or the context made effective, e.g. in an HttpCallHandler).

import { proxy_call_foreign_function } from "./imports";
import { Status } from "./enums";
import {
  RET_PTR, RET_SIZE, clearReturn, dropReturned, encodeName, nameSize, reserveValue, takeBuffer, valueSize,
} from "./internal";

/** The result of a foreign function: the host's status and the returned bytes. */
export class ForeignResult {
  constructor(readonly status: Status, readonly data: ArrayBuffer) {}
  get ok(): bool { return this.status == Status.Ok; }
}

/** Calls a host foreign function (`proxy_call_foreign_function`) by name. */
export function callForeignFunction(name: string, args: ArrayBuffer): ForeignResult {
  const n = encodeName(name);
  clearReturn();
  const st = <Status>proxy_call_foreign_function(n, nameSize(), changetype<usize>(args), args.byteLength, RET_PTR, RET_SIZE);
  if (st != Status.Ok) return new ForeignResult(st, new ArrayBuffer(0));
  return new ForeignResult(st, takeBuffer());
}

/** Calls a foreign function whose result bytes are not needed; `args` is usually the value slot (see reserveValue). */
function callForStatus(name: string, args: usize, argsLen: usize): Status {
  const n = encodeName(name);
  clearReturn();
  const st = <Status>proxy_call_foreign_function(n, nameSize(), args, argsLen, RET_PTR, RET_SIZE);
  if (st == Status.Ok) dropReturned();
  return st;
}

/** Calls a foreign function that takes one little-endian u32. */
function callWithU32(name: string, a: u32): Status {
  const p = reserveValue(4);
  store<u32>(p, a);
  return callForStatus(name, p, 4);
}

/** Routing decisions for the current request. */
export namespace route {
  /**
   * Sends the request to `cluster`. A non-empty `hashKey` replaces the
   * cluster's `hashOn` key for ring_hash/maglev balancing.
   * Returns `Status.NotFound` when the listener knows no such cluster.
   */
  export function setCluster(cluster: string, hashKey: string = ""): Status {
    const c = String.UTF8.byteLength(cluster);
    const h = String.UTF8.byteLength(hashKey);
    const p = reserveValue(<usize>(h > 0 ? c + 1 + h : c)); // zero-filled: the separator is \0
    String.UTF8.encodeUnsafe(changetype<usize>(cluster), cluster.length, p);
    if (h > 0) String.UTF8.encodeUnsafe(changetype<usize>(hashKey), hashKey.length, p + c + 1);
    return callForStatus("wasmesh.set_cluster", p, valueSize());
  }

  /** Sets the request's total and per-try timeouts in ms (0 = leave unchanged). */
  export function setTimeouts(totalMs: u32, perTryMs: u32): Status {
    const p = reserveValue(8);
    store<u32>(p, totalMs);
    store<u32>(p + 4, perTryMs);
    return callForStatus("wasmesh.set_timeouts", p, 8);
  }
}

/** Retries, replay and delays of the current stream. */
export namespace stream {
  /**
   * Keeps a copy of the request body (up to `maxBytes`) so the request can be
   * retried. Call it from `onRequestHeaders`.
   */
  export function keepRequestBody(maxBytes: u32): Status {
    return callWithU32("wasmesh.keep_request_body", maxBytes);
  }

  /**
   * From `onResponseHeaders`: discards this attempt's response and sends the
   * request again after `backoffMs`. False when the request cannot be replayed
   * (body over the kept cap, response already started) or outside wasmesh.
   */
  export function retry(backoffMs: u32): bool {
    return callWithU32("wasmesh.retry", backoffMs) == Status.Ok;
  }

  /**
   * Pauses the stream for `ms` milliseconds, then continues it. The callback
   * that asks must return `Action.Pause`.
   */
  export function delay(ms: u32): Status {
    return callWithU32("wasmesh.delay", ms);
  }
}

/** Signature verification by the host (for JWT validation). */
export namespace crypto {
  /**
   * Verifies a JWS signature.
   * @param alg `"RS256"`, `"ES256"` or `"HS256"`
   * @param jwkJson the key as a JWK (JSON); for HS256 a JWK with `k`, or the raw secret
   * @param data the signed bytes (for a JWT: the ASCII `header.payload`)
   * @param signature the raw signature (already base64url-decoded)
   * @returns true only when the host says the signature is valid
   */
  export function verifySignature(alg: string, jwkJson: string, data: string, signature: ArrayBuffer): bool {
    return verifySignatureBytes(alg, jwkJson, String.UTF8.encode(data), signature);
  }

  /** `verifySignature` with the signed data as bytes. */
  export function verifySignatureBytes(alg: string, jwkJson: string, data: ArrayBuffer, signature: ArrayBuffer): bool {
    const a = String.UTF8.encode(alg);
    const k = String.UTF8.encode(jwkJson);
    const args = new ArrayBuffer(16 + a.byteLength + k.byteLength + data.byteLength + signature.byteLength);
    let p = changetype<usize>(args);
    p = putField(p, a);
    p = putField(p, k);
    p = putField(p, data);
    putField(p, signature);
    const r = callForeignFunction("wasmesh.verify_signature", args);
    return r.ok && r.data.byteLength >= 1 && load<u8>(changetype<usize>(r.data)) == 1;
  }
}

/** Writes a u32 length then the bytes; returns the next position. */
function putField(p: usize, field: ArrayBuffer): usize {
  const n = <usize>field.byteLength;
  store<u32>(p, <u32>n);
  memory.copy(p + 4, changetype<usize>(field), n);
  return p + 4 + n;
}
