// HTTP callouts (`proxy_http_call`) with a handler object per call.
//
// AssemblyScript has no capturing closures, so a call's continuation is an
// object: subclass `HttpCallHandler`, keep whatever state you need (typically
// the HttpContext that made the call) in fields, and implement `onResponse`.

import { proxy_get_header_map_value, proxy_http_call } from "./imports";
import { BufferType, MapType, Status } from "./enums";
import { RET_PTR, RET_SIZE, clearReturn, clearSizeHint, effectiveContext, setSizeHint, takeString } from "./internal";
import { HeaderMap, HeaderPair, encodeHeaderPairs } from "./headers";
import { Body } from "./buffers";

/**
 * Receives the response of one `httpCall`.
 *
 * Before `onResponse` runs, the SDK makes the context that made the call
 * effective again (if it still exists), so `stream.*`, `route.*` and the
 * calling HttpContext's methods act on that stream.
 */
export abstract class HttpCallHandler {
  /** The host's token for the call (set by `httpCall`). */
  token: u32 = 0;
  /** The context that made the call (set by `httpCall`). */
  contextId: u32 = 0;

  /**
   * The response arrived, or the call failed.
   * @param status the response's `:status`; 0 when the call failed (no
   *   connection, timeout, reset): then `headers` and `body` are empty
   * @param headers the response headers (valid during this callback only)
   * @param body the response body (valid during this callback only)
   */
  abstract onResponse(status: u32, headers: HeaderMap, body: Body): void;
}

const pending = new Map<u32, HttpCallHandler>();

/**
 * Sends an HTTP request to `cluster` (a cluster the proxy knows). `headers`
 * must include `:method`, `:path` and `:authority`.
 *
 * Returns `Status.Ok` when the call was dispatched (the handler will be called
 * exactly once), otherwise the host's error (`BadArgument` for an unknown
 * cluster or missing pseudo-headers) and the handler is never called.
 */
export function httpCall(
  cluster: string,
  headers: HeaderPair[],
  body: ArrayBuffer | null,
  timeoutMs: u32,
  handler: HttpCallHandler,
  trailers: HeaderPair[] | null = null,
): Status {
  const c = String.UTF8.encode(cluster);
  const h = encodeHeaderPairs(headers);
  const t = encodeHeaderPairs(trailers);
  const bodyPtr = body !== null ? changetype<usize>(body) : 0;
  const bodyLen = body !== null ? body.byteLength : 0;
  store<u32>(RET_SIZE, 0);
  const st = <Status>proxy_http_call(
    changetype<usize>(c), c.byteLength, changetype<usize>(h), h.byteLength,
    bodyPtr, bodyLen, changetype<usize>(t), t.byteLength, timeoutMs, RET_SIZE);
  if (st == Status.Ok) {
    handler.token = load<u32>(RET_SIZE);
    handler.contextId = effectiveContext();
    pending.set(handler.token, handler);
  }
  return st;
}

/** Number of calls still waiting for a response. */
export function pendingHttpCalls(): i32 {
  return pending.size;
}

/** Removes and returns the handler of `token`. Internal (dispatcher). */
export function takePendingCall(token: u32): HttpCallHandler | null {
  if (!pending.has(token)) return null;
  const h = pending.get(token);
  pending.delete(token);
  return h;
}

/** Calls the handler with the response the host is delivering. Internal (dispatcher). */
export function deliverHttpCallResponse(handler: HttpCallHandler, numHeaders: u32, bodySize: u32): void {
  const headers = new HeaderMap(MapType.HttpCallResponseHeaders);
  const body = new Body(BufferType.HttpCallResponseBody);
  let status: u32 = 0;
  if (numHeaders > 0) {
    const k = String.UTF8.encode(":status");
    clearReturn();
    if (proxy_get_header_map_value(MapType.HttpCallResponseHeaders, changetype<usize>(k), k.byteLength, RET_PTR, RET_SIZE) == Status.Ok) {
      const v = I32.parseInt(takeString(), 10);
      status = v > 0 ? <u32>v : 0;
    }
  }
  setSizeHint(BufferType.HttpCallResponseBody, 0, numHeaders > 0 ? bodySize : 0);
  handler.onResponse(status, headers, body);
  clearSizeHint();
}
