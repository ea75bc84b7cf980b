// The boundary every filter works on: one HTTP stream, seen through header
// maps, body chunks and a route decision. The statuses are Envoy's and the
// proxy-wasm ABI's numeric values, so the Wasm host maps onto them directly.

/** Returned from header callbacks. */
export const enum HeadersStatus {
  Continue = 0,
  /** Stop this filter's headers; the filter must call `continue*()` later. */
  StopIteration = 1,
  ContinueAndEndStream = 2,
  /** Stop and buffer the body until the filter continues (up to the buffer cap). */
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

/** Returned from body callbacks. */
export const enum DataStatus {
  Continue = 0,
  /** Keep this chunk in the stream's buffer; the next call sees it all. */
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

/** A case-insensitive, order-preserving, multi-valued header map. Names are stored lower-case. */
export interface HeaderMap {
  readonly size: number;
  /** Positional access, for serializing without a callback per header. */
  nameAt(i: number): string;
  valueAt(i: number): string;
  get(name: string): string | undefined;
  /** get() for a name already lower-case (skips lower-casing it again). */
  getLower(name: string): string | undefined;
  getAll(name: string): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  add(name: string, value: string): void;
  remove(name: string): void;
  forEach(cb: (name: string, value: string) => void): void;
}

/** What the core does with the request once the chain has run. Filters write it. */
export interface RouteDecision {
  /** Target cluster; null falls back to the listener's defaultCluster. */
  cluster: string | null;
  /** Overrides the cluster's hashOn for ring_hash / maglev. */
  hashKey: string | null;
  /** Total request timeout override in ms (0 = cluster default). */
  timeoutMs: number;
  /** Per-attempt timeout in ms (0 = none beyond the total). */
  perTryTimeoutMs: number;
}

export interface StreamInfo {
  readonly requestId: string;
  readonly startTimeMs: number;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly listenerName: string;
  /** The listener's own address ("ip:port"). */
  readonly destinationAddress: string;
  /** Attempt number, from 1, of the current upstream try. */
  readonly attempt: number;
  /** The upstream endpoint of the current attempt, "host:port", or "". */
  readonly upstreamHost: string;
  /** The cluster the stream was (or will be) sent to, or "". */
  readonly clusterName: string;
  /** Request body bytes received from the client so far. */
  readonly bytesReceived: number;
  /** Response bytes sent to the client so far. */
  readonly bytesSent: number;
  /** Response flag of a locally generated response ("" when none). */
  readonly responseFlag: string;
  readonly responseDetails: string;
}

/** A body chunk handed to a body callback; a filter may replace `data`. */
export interface BodyChunk {
  data: Buffer;
}

/** What a filter may do to its stream. The core implements it once per stream. */
export interface FilterStream {
  readonly info: StreamInfo;
  /** Request method and path (with query); filters may rewrite them. */
  method: string;
  path: string;
  readonly scheme: string;
  readonly requestHeaders: HeaderMap;
  /** Null until upstream response headers (or a local reply) exist. */
  readonly responseHeaders: HeaderMap | null;
  /** Status of the response being filtered (0 before one exists); filters may change it. */
  responseStatus: number;
  readonly route: RouteDecision;
  /** True if the listener can route to a cluster of this name. */
  hasCluster(name: string): boolean;
  /** Resume a stream that a filter stopped. */
  continueRequest(): void;
  continueResponse(): void;
  /** End the stream with a locally generated response; `flag` explains it in logs and x-wasmesh-reason. */
  sendLocalReply(status: number, body: string | Uint8Array, headers: ReadonlyArray<readonly [string, string]> | null, flag: string, details: string): void;
  /** Marks the stream with a response flag for the access log and stats (a later local reply's flag wins). */
  setFlag(flag: string): void;
  /** Pause the current direction for `ms`, then continue it (the caller returns a Stop status). */
  delay(ms: number): void;
  /** Keep a copy of the request body, up to `maxBytes`, so an attempt can be replayed. */
  keepRequestBody(maxBytes: number): void;
  /** From response headers: drop this attempt and send the request again after `backoffMs`. False if it cannot be replayed. */
  retry(backoffMs: number): boolean;
  /** Filter state shared down the chain (proxy-wasm set_property / get_property). */
  readonly state: Map<string, Uint8Array>;
}

/** One filter's per-stream instance. Every callback is optional. */
export interface HttpFilter {
  onRequestHeaders?(endOfStream: boolean): HeadersStatus;
  onRequestBody?(body: BodyChunk, endOfStream: boolean): DataStatus;
  onResponseHeaders?(endOfStream: boolean): HeadersStatus;
  onResponseBody?(body: BodyChunk, endOfStream: boolean): DataStatus;
  /** After the stream completed, for access logging and metrics. */
  onLog?(): void;
  /** The stream is gone; release per-stream resources. */
  onDestroy?(): void;
}

/**
 * Built once per config (the Envoy factory/config split): validated and
 * immutable. `create` is called per stream and must be cheap. A second kind of
 * factory (jco-run Wasm components) implements the same interface.
 */
export interface HttpFilterFactory {
  readonly name: string;
  create(stream: FilterStream): HttpFilter;
  /** Most bytes a filter may make the chain buffer for one direction (StopIterationAndBuffer). */
  readonly maxBufferedBody: number;
  /** Called when the config that owns this factory is retired (after in-flight streams finish). */
  close?(): void;
}
