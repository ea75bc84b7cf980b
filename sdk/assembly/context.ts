// Root and HTTP contexts, and the registry that maps the host's context ids
// to them.
//
// A *root context* exists once per plugin configuration: it receives the
// configuration, timer ticks, queue notifications and HTTP-call responses, and
// creates an *HTTP context* for every request/response stream.

import {
  proxy_close_stream, proxy_continue_stream, proxy_done, proxy_send_local_response,
} from "./imports";
import { Action, BufferType, GrpcStatus, MapType, Status, StreamType } from "./enums";
import { activate } from "./internal";
import { HeaderMap, HeaderPair, encodeHeaderPairs } from "./headers";
import { Body } from "./buffers";
import { log } from "./log";

/**
 * The root context of a filter: one per plugin configuration. Subclass it,
 * override what you need, and register a factory with `registerRoot`.
 */
export class RootContext {
  /** The root id this context was created for (the host's `plugin_root_id`). */
  rootId: string = "";
  /** The last plugin configuration passed to `onConfigure`. */
  configuration: string = "";

  constructor(readonly id: u32) {}

  /**
   * The VM started (once per VM, before `onConfigure`).
   * @param vmConfig the VM configuration (often empty)
   * @returns false to refuse the VM
   */
  onVmStart(vmConfig: string): bool {
    return true;
  }

  /**
   * A plugin configuration arrived (at start and at every config update).
   * @param config the configuration text, often JSON (see `parseConfig`)
   * @returns false to refuse the configuration (log why with `log.error`)
   */
  onConfigure(config: string): bool {
    return true;
  }

  /**
   * Creates the HTTP context of a new stream. The default passes everything
   * through unchanged.
   */
  newHttpContext(id: u32): HttpContext {
    return new HttpContext(id, this);
  }

  /** The timer set with `setTickPeriod` fired. */
  onTick(): void {}

  /** Items were enqueued on a queue this root registered. */
  onQueueReady(queueId: u32): void {}

  /** The host called a guest function (`proxy_on_foreign_function`). */
  onForeignFunction(functionId: u32, args: ArrayBuffer): void {}

  /**
   * The host is draining this root. Return false to finish asynchronous work
   * first, then call `this.done()`.
   */
  onDone(): bool {
    return true;
  }

  /** The host deleted this root; no more callbacks will come. */
  onDelete(): void {}

  /** Tells the host a root that returned false from `onDone` has finished. */
  done(): Status {
    activate(this.id);
    return <Status>proxy_done();
  }
}

/**
 * One side of a stream: headers, trailers and body. They are created on
 * first use: most filters touch only the headers, and every object made per
 * stream is one more for the collector to sweep.
 */
export class HttpMessage {
  private h: HeaderMap | null = null;
  private t: HeaderMap | null = null;
  private b: Body | null = null;

  constructor(
    readonly contextId: u32,
    private readonly headersType: MapType,
    private readonly trailersType: MapType,
    private readonly bodyType: BufferType,
  ) {}

  get headers(): HeaderMap {
    let m = this.h;
    if (m === null) this.h = m = new HeaderMap(this.headersType, this.contextId);
    return m;
  }

  get trailers(): HeaderMap {
    let m = this.t;
    if (m === null) this.t = m = new HeaderMap(this.trailersType, this.contextId);
    return m;
  }

  get body(): Body {
    let b = this.b;
    if (b === null) this.b = b = new Body(this.bodyType, this.contextId);
    return b;
  }
}

/** The request side of a stream: headers, trailers, body and pseudo-headers. */
export class HttpRequest extends HttpMessage {
  constructor(contextId: u32) {
    super(contextId, MapType.RequestHeaders, MapType.RequestTrailers, BufferType.HttpRequestBody);
  }

  /** `:path` (path and query), or "" when absent. */
  get path(): string { return orEmpty(this.headers.get(":path")); }
  set path(value: string) { this.headers.set(":path", value); }

  /** `:method`, or "". */
  get method(): string { return orEmpty(this.headers.get(":method")); }
  set method(value: string) { this.headers.set(":method", value); }

  /** `:authority` (the host), or "". */
  get authority(): string { return orEmpty(this.headers.get(":authority")); }
  set authority(value: string) { this.headers.set(":authority", value); }

  /** `:scheme`, or "". */
  get scheme(): string { return orEmpty(this.headers.get(":scheme")); }
  set scheme(value: string) { this.headers.set(":scheme", value); }
}

/** The response side of a stream. */
export class HttpResponse extends HttpMessage {
  constructor(contextId: u32) {
    super(contextId, MapType.ResponseHeaders, MapType.ResponseTrailers, BufferType.HttpResponseBody);
  }

  /** `:status` as a number; 0 when absent or not a number. */
  get status(): u32 {
    const s = this.headers.get(":status");
    if (s === null) return 0;
    const v = I32.parseInt(s, 10);
    return v > 0 ? <u32>v : 0;
  }
  set status(code: u32) { this.headers.set(":status", code.toString()); }
}

function orEmpty(s: string | null): string {
  return s !== null ? s : "";
}

/**
 * One HTTP stream (request and response). Subclass it and override the
 * callbacks you need; each returns `Action.Continue` or `Action.Pause`.
 *
 * `this.request` and `this.response` are bound to this stream: they make it
 * the effective context before each host call, so they can be used from
 * other callbacks too (an HttpCallHandler, the root's `onTick`).
 */
export class HttpContext {
  private req: HttpRequest | null = null;
  private res: HttpResponse | null = null;

  constructor(readonly id: u32, readonly root: RootContext) {}

  /** The request's headers, trailers and body. */
  get request(): HttpRequest {
    let r = this.req;
    if (r === null) this.req = r = new HttpRequest(this.id);
    return r;
  }

  /** The response's headers, trailers and body. */
  get response(): HttpResponse {
    let r = this.res;
    if (r === null) this.res = r = new HttpResponse(this.id);
    return r;
  }

  /**
   * Request headers arrived.
   * @param headers the number of headers
   * @param endOfStream true when the request has no body
   */
  onRequestHeaders(headers: u32, endOfStream: bool): Action { return Action.Continue; }

  /**
   * A request body chunk arrived; `size` is the size of the body buffered so
   * far. Return `Action.Pause` to buffer until `endOfStream`.
   */
  onRequestBody(size: usize, endOfStream: bool): Action { return Action.Continue; }

  /** Request trailers arrived. */
  onRequestTrailers(trailers: u32): Action { return Action.Continue; }

  /** Response headers arrived. */
  onResponseHeaders(headers: u32, endOfStream: bool): Action { return Action.Continue; }

  /** A response body chunk arrived (see `onRequestBody`). */
  onResponseBody(size: usize, endOfStream: bool): Action { return Action.Continue; }

  /** Response trailers arrived. */
  onResponseTrailers(trailers: u32): Action { return Action.Continue; }

  /** The stream is complete (before `onLog`). */
  onDone(): void {}

  /** Access-log time: request and response are readable, not writable. */
  onLog(): void {}

  /** The host deleted the stream; no more callbacks will come. */
  onDelete(): void {}

  /** Resumes a request paused with `Action.Pause`. */
  continueRequest(): Status {
    activate(this.id);
    return <Status>proxy_continue_stream(StreamType.Request);
  }

  /** Resumes a response paused with `Action.Pause`. */
  continueResponse(): Status {
    activate(this.id);
    return <Status>proxy_continue_stream(StreamType.Response);
  }

  /**
   * Answers the request from the filter. The current callback should then
   * return `Action.Pause` (Envoy forces this anyway).
   * @param status HTTP status code
   * @param body response body (UTF-8)
   * @param headers extra response headers
   * @param details a short reason for logs (`response.code_details`)
   * @param grpcStatus a gRPC status to send, or `GrpcStatus.None`
   */
  sendLocalResponse(
    status: u32,
    body: string = "",
    headers: HeaderPair[] | null = null,
    details: string = "",
    grpcStatus: GrpcStatus = GrpcStatus.None,
  ): Status {
    return this.sendLocalResponseBytes(status, String.UTF8.encode(body), headers, details, grpcStatus);
  }

  /** `sendLocalResponse` with a binary body. */
  sendLocalResponseBytes(
    status: u32,
    body: ArrayBuffer,
    headers: HeaderPair[] | null = null,
    details: string = "",
    grpcStatus: GrpcStatus = GrpcStatus.None,
  ): Status {
    activate(this.id);
    const d = String.UTF8.encode(details);
    const h = encodeHeaderPairs(headers);
    return <Status>proxy_send_local_response(
      status, changetype<usize>(d), d.byteLength, changetype<usize>(body), body.byteLength,
      changetype<usize>(h), h.byteLength, grpcStatus);
  }

  /**
   * Closes (resets) the stream: `StreamType.Request` aborts the whole
   * exchange in Envoy; `StreamType.Response` closes the downstream side.
   */
  closeStream(which: StreamType = StreamType.Request): Status {
    activate(this.id);
    return <Status>proxy_close_stream(which);
  }

  /** Makes this stream the effective context for free functions (`route.*`, `stream.*`, properties). */
  makeEffective(): bool {
    return activate(this.id);
  }
}

// ---- registry

const rootFactories = new Map<string, (id: u32) => RootContext>();
const roots = new Map<u32, RootContext>();

// Live HTTP contexts by id. Hosts hand out context ids in sequence, so the
// low bits index a table directly, with no hashing and no rehash as streams
// come and go (a Map did both on every stream). An id whose slot is still held
// by an older, long-lived stream goes to the overflow map.
const STREAM_SLOTS: u32 = 1024;
const slotIds = new StaticArray<u32>(<i32>STREAM_SLOTS);
const slotContexts = new StaticArray<HttpContext | null>(<i32>STREAM_SLOTS);
const overflow = new Map<u32, HttpContext>();

/** The root found last: every stream of a filter asks for the same one. */
let lastRoot: RootContext | null = null;

/**
 * Registers the root context factory for `rootId` (the `root_id` of the
 * plugin config; "" for a filter with a single root). Call it at the top
 * level of the filter's entry file. The factory must be a plain function (no
 * captured variables): `registerRoot("", (id: u32): RootContext => new MyRoot(id))`.
 *
 * Matching: a root whose `plugin_root_id` equals a registered id gets that
 * factory; if there is no exact match and exactly one factory is registered,
 * that one is used (so a single-root filter works under any root_id).
 */
export function registerRoot(rootId: string, factory: (id: u32) => RootContext): void {
  rootFactories.set(rootId, factory);
}

/** A root for an unregistered root_id: refuses its configuration with a logged reason. */
class UnmatchedRoot extends RootContext {
  onConfigure(config: string): bool {
    log.error("no root context registered for root_id \"" + this.rootId + "\" (registered: \"" +
      rootFactories.keys().join("\", \"") + "\")");
    return false;
  }
}

/** Creates the root context `id` for `rootId`. Internal (dispatcher). */
export function createRoot(id: u32, rootId: string): RootContext {
  let root: RootContext;
  if (rootFactories.has(rootId)) {
    const factory = rootFactories.get(rootId);
    root = factory(id);
  } else if (rootFactories.size == 1) {
    const only = rootFactories.values()[0];
    root = only(id);
    if (rootId.length > 0) log.debug("root_id \"" + rootId + "\" not registered; using the only registered root");
  } else if (rootFactories.size == 0) {
    log.warn("no root context registered (call registerRoot); passing traffic through");
    root = new RootContext(id);
  } else {
    root = new UnmatchedRoot(id);
  }
  root.rootId = rootId;
  roots.set(id, root);
  return root;
}

/** Internal (dispatcher). */
export function findRoot(id: u32): RootContext | null {
  const last = lastRoot;
  if (last !== null && last.id == id) return last;
  if (!roots.has(id)) return null;
  const r = roots.get(id);
  lastRoot = r;
  return r;
}

/** Internal (dispatcher). */
export function createStream(id: u32, root: RootContext): HttpContext {
  const ctx = root.newHttpContext(id);
  const slot = <i32>(id & (STREAM_SLOTS - 1));
  if (id != 0 && (unchecked(slotIds[slot]) == 0 || unchecked(slotIds[slot]) == id)) {
    unchecked(slotIds[slot] = id);
    unchecked(slotContexts[slot] = ctx);
  } else {
    overflow.set(id, ctx);
  }
  return ctx;
}

/** Internal (dispatcher). */
export function findStream(id: u32): HttpContext | null {
  const slot = <i32>(id & (STREAM_SLOTS - 1));
  if (id != 0 && unchecked(slotIds[slot]) == id) return unchecked(slotContexts[slot]);
  if (overflow.size == 0 || !overflow.has(id)) return null;
  return overflow.get(id);
}

/** True while the host has not deleted context `id`. */
export function isLiveContext(id: u32): bool {
  return findStream(id) !== null || roots.has(id);
}

/** Internal (dispatcher). */
export function forgetContext(id: u32): void {
  const slot = <i32>(id & (STREAM_SLOTS - 1));
  if (id != 0 && unchecked(slotIds[slot]) == id) {
    unchecked(slotIds[slot] = 0);
    unchecked(slotContexts[slot] = null);
  } else if (overflow.size > 0) {
    overflow.delete(id);
  }
  if (roots.has(id)) {
    roots.delete(id);
    if (lastRoot !== null && lastRoot!.id == id) lastRoot = null;
  }
}
