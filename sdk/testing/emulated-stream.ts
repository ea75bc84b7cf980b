// One HTTP stream driven by a test: it is the FilterStream the filter sees
// and the sink the real FilterChain hands the filtered stream to, so the
// filter runs exactly as it would in the proxy.
import { FilterChain, type ChainSink } from '../../runtime/filter/chain';
import type { FilterStream, HttpFilterFactory, RouteDecision, StreamInfo } from '../../runtime/filter/types';
import { FlatHeaderMap } from '../../runtime/http/header-map';

export type HeaderInput = Record<string, string> | ReadonlyArray<readonly [string, string]>;

export interface LocalReply {
  status: number;
  body: string;
  headers: [string, string][];
  flag: string;
  details: string;
}

/** What the last callback made of the stream. */
export type Action = 'continue' | 'pause' | 'localReply';

export interface StreamClock {
  now(): number;
  after(ms: number, cb: () => void): void;
}

export class EmulatedStream implements FilterStream, ChainSink, StreamInfo {
  // --- FilterStream ---
  method = 'GET';
  path = '/';
  readonly scheme = 'http';
  readonly requestHeaders = new FlatHeaderMap();
  responseHeaders: FlatHeaderMap | null = null;
  responseStatus = 0;
  readonly route: RouteDecision = { cluster: null, hashKey: null, timeoutMs: 0, perTryTimeoutMs: 0 };
  readonly state = new Map<string, Uint8Array>();
  // --- StreamInfo ---
  readonly requestId: string;
  readonly startTimeMs: number;
  sourceAddress = '127.0.0.1';
  sourcePort = 50000;
  readonly listenerName = 'emulator';
  readonly destinationAddress = '127.0.0.1:8080';
  attempt = 1;
  upstreamHost = '';
  bytesReceived = 0;
  bytesSent = 0;
  responseFlag = '';
  responseDetails = '';

  // --- what a test asserts on ---
  /** Set once the request headers passed every filter (the proxy would send them upstream). */
  requestForwarded = false;
  /** Request body bytes the filter let through, and whether their end passed. */
  forwardedRequestBody = Buffer.alloc(0);
  requestEnded = false;
  responseForwarded = false;
  forwardedResponseBody = Buffer.alloc(0);
  responseEnded = false;
  localReply: LocalReply | null = null;
  /** Backoffs of every wasmesh.retry, delays of every wasmesh.delay. */
  readonly retries: number[] = [];
  readonly delays: number[] = [];
  keptRequestBody = 0;
  overflow: { response: boolean; filter: string; limit: number } | null = null;

  private readonly chain = new FilterChain();
  private done = false;

  constructor(
    factories: readonly HttpFilterFactory[],
    private readonly clusters: ReadonlySet<string> | null,
    private readonly clock: StreamClock,
    id: number,
  ) {
    this.requestId = `emulated-${id}`;
    this.startTimeMs = clock.now();
    this.chain.start(factories, this, this);
  }

  get info(): StreamInfo {
    return this;
  }
  get clusterName(): string {
    return this.route.cluster ?? '';
  }
  get chainOpen(): boolean {
    return this.localReply === null && !this.done && this.overflow === null;
  }

  /** The outcome of the last call: continued, paused (waiting for the filter), or answered locally. */
  get lastAction(): Action {
    return this.lastActionValue;
  }
  private lastActionValue: Action = 'continue';
  private settle(passed: boolean): Action {
    this.lastActionValue = this.localReply !== null ? 'localReply' : passed ? 'continue' : 'pause';
    return this.lastActionValue;
  }

  // === driving the stream ===

  sendRequestHeaders(headers: HeaderInput, endOfStream = false): Action {
    for (const [k, v] of entries(headers)) {
      const n = k.toLowerCase();
      if (n === ':method') this.method = v;
      else if (n === ':path') this.path = v;
      else if (n === ':authority') this.requestHeaders.push('host', v);
      else if (!n.startsWith(':')) this.requestHeaders.push(n, v);
    }
    this.chain.requestHeaders(endOfStream);
    return this.settle(this.requestForwarded);
  }

  sendRequestBody(data: string | Buffer, endOfStream = false): Action {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    this.bytesReceived += b.length;
    const before = this.forwardedRequestBody.length;
    this.chain.requestData(b, endOfStream);
    return this.settle(this.forwardedRequestBody.length > before || (endOfStream && this.requestEnded));
  }

  sendResponseHeaders(headers: HeaderInput, endOfStream = false): Action {
    const m = (this.responseHeaders ??= new FlatHeaderMap());
    m.clear();
    for (const [k, v] of entries(headers)) {
      if (k === ':status') this.responseStatus = Number(v);
      else m.push(k.toLowerCase(), v);
    }
    if (this.responseStatus === 0) this.responseStatus = 200;
    this.responseForwarded = false;
    this.chain.resetResponse();
    this.chain.responseHeaders(endOfStream);
    return this.settle(this.responseForwarded);
  }

  /**
   * The proxy failed the attempt itself (connect failure, reset, timeout):
   * the response filters see its local reply, as they do in the proxy.
   */
  sendCoreFailure(status: number, flag: string, details: string): Action {
    this.responseFlag = flag;
    this.responseDetails = details;
    return this.sendResponseHeaders({ ':status': String(status), 'content-type': 'text/plain' }, true);
  }

  sendResponseBody(data: string | Buffer, endOfStream = false): Action {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    const before = this.forwardedResponseBody.length;
    this.chain.responseData(b, endOfStream);
    return this.settle(this.forwardedResponseBody.length > before || (endOfStream && this.responseEnded));
  }

  /** Ends the stream: on_log and on_done/on_delete run, as after a real response. */
  complete(): void {
    if (this.done) return;
    this.done = true;
    this.chain.finish();
  }

  // === ChainSink ===

  requestHeadersDone(): void {
    this.requestForwarded = true;
  }
  requestData(data: Buffer, end: boolean): void {
    this.forwardedRequestBody = Buffer.concat([this.forwardedRequestBody, data]);
    if (end) this.requestEnded = true;
  }
  responseHeadersDone(): void {
    this.responseForwarded = true;
  }
  responseData(data: Buffer, end: boolean): void {
    this.forwardedResponseBody = Buffer.concat([this.forwardedResponseBody, data]);
    this.bytesSent += data.length;
    if (end) this.responseEnded = true;
  }
  bodyOverflow(response: boolean, filter: string, limit: number): void {
    this.overflow = { response, filter, limit };
  }

  // === FilterStream actions ===

  hasCluster(name: string): boolean {
    return this.clusters === null || this.clusters.has(name);
  }
  continueRequest(): void {
    if (this.done || this.localReply !== null) return;
    this.chain.continueRequest();
    this.settle(this.requestForwarded);
  }
  continueResponse(): void {
    if (this.done || this.localReply !== null) return;
    this.chain.continueResponse();
    this.settle(this.responseForwarded);
  }
  sendLocalReply(status: number, body: string | Uint8Array, headers: ReadonlyArray<readonly [string, string]> | null, flag: string, details: string): void {
    if (this.localReply !== null) return;
    this.responseFlag = flag;
    this.responseDetails = details;
    // As in the proxy: earlier filters' response callbacks see the reply's headers first.
    if (!this.replying && !this.responseForwarded && this.responseStatus === 0) {
      const m = (this.responseHeaders ??= new FlatHeaderMap());
      m.clear();
      for (const [k, v] of headers ?? [['content-type', 'text/plain'] as const]) m.push(k.toLowerCase(), v);
      this.responseStatus = status;
      this.replying = true;
      const filtered = this.chain.replyLocally();
      this.replying = false;
      // A response filter that replied itself (nested) wins, as in the proxy.
      if (this.localReply !== null) return;
      if (filtered) {
        status = this.responseStatus;
        headers = m.names.map((n, i) => [n, m.values[i]!] as [string, string]);
      }
      this.responseStatus = 0;
      this.responseHeaders = null;
      this.responseForwarded = false;
    }
    this.localReply = { status, body: Buffer.from(body).toString(), headers: headers ? headers.map(([k, v]) => [k, v] as [string, string]) : [], flag, details };
    this.lastActionValue = 'localReply';
  }
  private replying = false;
  delay(ms: number): void {
    this.delays.push(ms);
    const response = this.responseStatus !== 0;
    this.clock.after(ms, () => (response ? this.continueResponse() : this.continueRequest()));
  }
  keepRequestBody(maxBytes: number): void {
    this.keptRequestBody = maxBytes;
  }
  setFlag(flag: string): void {
    if (this.localReply === null) this.responseFlag = flag;
  }
  retry(backoffMs: number): boolean {
    if (this.responseStatus === 0) return false;
    // As in the proxy: a body can be replayed only if all of it was kept.
    if (this.bytesReceived > 0 && (this.keptRequestBody === 0 || this.bytesReceived > this.keptRequestBody)) return false;
    this.retries.push(backoffMs);
    return true;
  }
}

function entries(h: HeaderInput): ReadonlyArray<readonly [string, string]> {
  return Array.isArray(h) ? (h as ReadonlyArray<readonly [string, string]>) : Object.entries(h as Record<string, string>);
}
