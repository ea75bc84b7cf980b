// One downstream request and its upstream attempt: the proxy's hot path.
//
// An Exchange is pooled per worker and reused. Every callback uWS or the
// upstream connection invokes is bound once, in the constructor, so a request
// allocates no closures. It implements the upstream handler and pool-waiter
// contracts directly (undici style), and the FilterStream that filters see.
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { Flag } from '../core/flags';
import type { UpstreamError } from '../core/errors';
import { FlatHeaderMap } from '../http/header-map';
import { requestId } from '../http/request-id';
import { connectionTokens, isHopByHop } from '../http/hop-by-hop';
import { statusLine } from '../http/status-lines';
import { observe } from '../stats/layout';
import type { FilterStream, RouteDecision, StreamInfo } from '../filter/types';
import { FilterChain, type ChainSink } from '../filter/chain';
import type { PoolWaiter, UpstreamHandler, UpstreamRequestSink } from '../upstream/types';
import type { HashSource, ListenerRuntime, WorkerCluster } from './context';
import { DeadlineQueue, type Deadline, type DeadlineList } from './deadlines';

const enum Phase {
  Idle,
  /** Waiting out a retry backoff between attempts. */
  RetryWait,
  /** Filters are running on the request headers. */
  Filtering,
  /** Waiting for a pooled connection. */
  Pending,
  /** Request sent or being sent; waiting for / streaming the response. */
  Upstream,
  /** The downstream response is finished (or the client went away). */
  Done,
}

const NO_HEADERS: string[] = [];
const EMPTY = Buffer.alloc(0);
/** Request timeouts of every stream on this thread. */
const deadlines = new DeadlineQueue();

/** The decoded value of query parameter `name`, or null. */
function queryParam(q: string, name: string): string | null {
  let i = 0;
  while (i <= q.length) {
    let end = q.indexOf('&', i);
    if (end < 0) end = q.length;
    const eq = q.indexOf('=', i);
    const kEnd = eq >= 0 && eq < end ? eq : end;
    if (kEnd - i === name.length && q.startsWith(name, i)) {
      const raw = kEnd < end ? q.slice(kEnd + 1, end) : '';
      try {
        return decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        return raw;
      }
    }
    i = end + 1;
  }
  return null;
}
let collecting: Exchange | null = null;
function collectHeader(name: string, value: string): void {
  collecting!.addRequestHeader(name, value);
}

export class Exchange implements UpstreamHandler, PoolWaiter, FilterStream, StreamInfo, HashSource, Deadline, ChainSink {
  // --- per-request state, reset in begin() ---
  private lis!: ListenerRuntime;
  private res: HttpResponse | null = null;
  private phase = Phase.Idle;
  method = '';
  isHead = false;
  path = '';
  rawQuery = '';
  readonly requestHeaders = new FlatHeaderMap();
  private respHeaders: FlatHeaderMap | null = null;
  private headerBytes = 0;
  private reqBodyLength = 0;
  /** The client may still send body bytes (uWS may call onData). */
  private reqBodyOpen = false;
  private pendingBody: Buffer[] = [];
  private downstreamPaused = false;
  private extraHop: string[] | null = null;
  private xffIncoming = '';
  requestId = '';
  sourceAddress = '';
  sourcePort = 0;
  startTimeMs = 0;
  private t0 = 0;
  private tUpstream = 0;
  private tUpstreamEnd = 0;
  attempt = 0;
  readonly route: RouteDecision = { cluster: null, hashKey: null, timeoutMs: 0, perTryTimeoutMs: 0 };
  readonly scheme = 'http';
  // --- filter-driven state (only streams with filters touch it) ---
  /** The chain runs on this stream (the listener has filters). */
  private filtered = false;
  /** A core failure's local reply is going through the response filters. */
  private localFiltering = false;
  private retryPending = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private delayTimer: NodeJS.Timeout | null = null;
  private delayResponse = false;
  /** Request body copies for replay (wasmesh.keep_request_body); null once over the cap. */
  private keptBody: Buffer[] | null = null;
  private keptBytes = 0;
  private keepMax = 0;
  /** Absolute deadline (performance.now ms) of the whole request across attempts; 0 = none yet. */
  private deadlineAt = 0;
  private lastWriteOk = true;
  /** Response body bytes from the upstream, and whether end_of_stream already went to the filters. */
  private respReceived = 0;
  private respEndSent = false;
  private cluster: WorkerCluster | null = null;
  private endpoint = -1;
  private conn: UpstreamRequestSink | null = null;
  // Deadline links (see deadlines.ts).
  dlNext: Deadline | null = null;
  dlPrev: Deadline | null = null;
  dlAt = 0;
  dlList: DeadlineList | null = null;
  private status = 0;
  private flag = '';
  private details = '';
  private headersSent = false;
  private upstreamSettled = true;
  private respLength = -1;
  private bytesIn = 0;
  private bytesOut = 0;
  private pendingChunk: Buffer | null = null;
  private pendingBase = 0;
  private awaitingWritable = false;
  /** Response head accepted but not yet handed to uWS (see onResponseHeaders). */
  private headPending = false;
  private chain: FilterChain | null = null;
  private closeAfter = false;
  /** uWS may still hold callbacks bound to this object for a dead socket. */
  private noRecycle = false;
  readonly state = new Map<string, Uint8Array>();

  // --- scratch for corked writes ---
  private cStatus = 0;
  private cReason = '';
  private cHeaders: string[] = NO_HEADERS;
  /** Response head after the filters, reused per stream object. */
  private readonly cHeadersBuf: string[] = [];
  private cHasBody = false;
  private cChunk: Buffer | null = null;
  private cOk = false;
  private cDone = false;
  private cBody: string | Uint8Array = '';
  private cLocalHeaders: ReadonlyArray<readonly [string, string]> | null = null;

  // --- callbacks bound once per object ---
  private readonly onAbortedB = (): void => this.onAborted();
  private readonly onDataB = (ab: ArrayBuffer, last: boolean): void => this.onData(ab, last);
  private readonly onWritableB = (offset: number): boolean => this.onWritable(offset);
  private readonly writeHeadB = (): void => this.writeHead();
  private readonly writeChunkB = (): void => this.writeChunk();
  private readonly endChunkedB = (): void => {
    if (this.headPending) this.writeHead();
    this.res!.end(undefined, this.closeAfter);
  };
  private readonly flushHeadB = (): void => this.flushHead();
  private readonly writeLocalB = (): void => this.writeLocal();

  constructor(private readonly release: (ex: Exchange) => void) {}

  get listenerName(): string {
    return this.lis.name;
  }
  get upstreamHost(): string {
    return this.endpoint >= 0 && this.cluster ? this.cluster.endpointNames[this.endpoint]! : '';
  }
  get destinationAddress(): string {
    const a = this.lis.config.address;
    return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  }
  get clusterName(): string {
    return this.cluster?.name ?? '';
  }
  get bytesReceived(): number {
    return this.bytesIn;
  }
  get bytesSent(): number {
    return this.bytesOut;
  }
  get responseFlag(): string {
    return this.flag;
  }
  get responseDetails(): string {
    return this.details;
  }
  get responseStatus(): number {
    return this.status;
  }
  set responseStatus(code: number) {
    this.status = code;
  }
  get chainOpen(): boolean {
    return this.phase !== Phase.Done && !this.retryPending && this.res !== null;
  }
  hasCluster(name: string): boolean {
    return this.lis.clusters.has(name);
  }
  get info(): StreamInfo {
    return this;
  }
  get responseHeaders(): FlatHeaderMap | null {
    return this.respHeaders;
  }
  get routeHashKey(): string | null {
    return this.route.hashKey;
  }
  header(name: string): string | undefined {
    if (name === 'cookie') {
      const all = this.requestHeaders.getAll('cookie');
      return all.length > 1 ? all.join('; ') : all[0];
    }
    return this.requestHeaders.get(name);
  }
  query(name: string): string | null {
    return queryParam(this.rawQuery, name);
  }
  sourceIp(): string {
    return this.sourceAddress;
  }

  /** Entry point from the uWS route handler. Must attach onAborted or respond before returning. */
  begin(lis: ListenerRuntime, res: HttpResponse, req: HttpRequest): void {
    this.lis = lis;
    this.res = res;
    this.phase = Phase.Filtering;
    this.t0 = performance.now();
    this.startTimeMs = Date.now();
    res.onAborted(this.onAbortedB);
    const v = lis.stats;
    v[lis.slots.rqTotal]!++;
    v[lis.slots.rqActive]!++;
    lis.worker.active++;

    this.method = req.getCaseSensitiveMethod();
    this.isHead = this.method === 'HEAD';
    this.rawQuery = req.getQuery() ?? '';
    const url = req.getUrl();
    this.path = this.rawQuery ? `${url}?${this.rawQuery}` : url;
    this.headerBytes = this.method.length + this.path.length + 12;
    this.reqBodyLength = 0;
    collecting = this;
    req.forEach(collectHeader);
    collecting = null;
    const addr = Buffer.from(res.getRemoteAddressAsText()).toString('latin1');
    this.sourceAddress = addr.startsWith('::ffff:') ? addr.slice(7) : addr;

    if (this.headerBytes > lis.config.maxRequestHeadersBytes) {
      v[lis.slots.rqRejected.headers_too_large]!++;
      this.closeAfter = true;
      this.localReply(431, Flag.DownstreamProtocolError, `request headers exceed ${lis.config.maxRequestHeadersBytes} bytes`);
      return;
    }
    if (this.reqBodyLength === -2) {
      v[lis.slots.rqRejected.bad_request]!++;
      this.closeAfter = true;
      this.localReply(400, Flag.DownstreamProtocolError, 'both content-length and transfer-encoding');
      return;
    }
    if (this.requestId === '') this.requestId = requestId();
    if (this.reqBodyLength !== 0) {
      this.reqBodyOpen = true;
      res.onData(this.onDataB);
    }
    if (lis.worker.draining) this.closeAfter = true;

    if (lis.filters.length === 0) {
      this.dispatch();
      return;
    }
    // Filters see the request's framing as a header, and may change or remove it.
    if (this.reqBodyLength > 0) this.requestHeaders.push('content-length', String(this.reqBodyLength));
    this.filtered = true;
    this.chain ??= new FilterChain();
    this.chain.start(lis.filters, this, this);
    this.chain.requestHeaders(this.reqBodyLength === 0);
  }

  // === ChainSink: where the filter chain hands the stream back ===

  requestHeadersDone(): void {
    if (this.phase !== Phase.Filtering) return;
    // Framing after the filters: a removed content-length means chunked.
    if (this.reqBodyLength !== 0) {
      const cl = this.requestHeaders.getLower('content-length');
      this.reqBodyLength = cl === undefined ? -1 : Number(cl) || 0;
    }
    this.dispatch();
  }

  requestData(data: Buffer, last: boolean): void {
    if (this.keptBody !== null && data.length > 0) {
      this.keptBytes += data.length;
      if (this.keptBytes > this.keepMax) this.keptBody = null;
      else this.keptBody.push(data);
    }
    const conn = this.conn;
    if (conn !== null) {
      if (data.length > 0 && !conn.write(data) && !last) this.pauseDownstream();
      if (last) conn.end();
    } else {
      if (data.length > 0) this.pendingBody.push(data);
      if (!last) this.pauseDownstream();
    }
  }

  responseHeadersDone(): void {
    if (this.localFiltering) {
      this.localFiltering = false;
      const h = this.respHeaders!;
      const list: [string, string][] = [];
      for (let i = 0; i < h.names.length; i++) list.push([h.names[i]!, h.values[i]!]);
      this.headersSent = false;
      const body = this.localBody;
      this.localBody = undefined;
      return this.localReply(this.status, this.flag, this.details, body, list);
    }
    const m = this.respHeaders!;
    const headers = this.cHeadersBuf;
    headers.length = 0; // sendHead() keeps the reference until the head is written; the next response reuses it
    let length = -1;
    for (let i = 0; i < m.names.length; i++) {
      const n = m.names[i]!;
      if (n === 'content-length') length = Number(m.values[i]) || 0;
      else headers.push(n, m.values[i]!);
    }
    // A filter that removed content-length gets a chunked response.
    this.respLength = this.cHasBody ? length : this.respLength;
    this.sendHead(this.status, this.cReason, headers, this.cHasBody);
  }

  responseData(data: Buffer, last: boolean): void {
    if (data.length > 0) this.lastWriteOk = this.writeBody(data);
    if (!last || this.phase === Phase.Done) return;
    if (this.respLength < 0) {
      this.res!.cork(this.endChunkedB);
      this.downstreamFinished();
    } else {
      // The filters changed the body's length without fixing content-length: the client must not wait for bytes that never come.
      this.failStream(502, Flag.UpstreamProtocolError, 'filtered body length differs from content-length');
    }
  }

  bodyOverflow(response: boolean, filter: string, limit: number): void {
    const st = this.lis.filterStats.get(filter);
    if (st !== undefined) this.lis.stats[st.bodyOverflow]!++;
    const details = `filter "${filter}" buffered more than ${limit} bytes`;
    if (!response) return this.sendLocalReply(413, '', null, Flag.BodyTooLarge, details);
    this.abortUpstream();
    this.failStream(500, Flag.BodyTooLarge, details);
  }

  /** Called by the header collector for every request header (names arrive lower-case). */
  addRequestHeader(name: string, value: string): void {
    this.headerBytes += name.length + value.length + 4;
    switch (name) {
      case 'content-length':
        if (this.reqBodyLength === -1) this.reqBodyLength = -2;
        else this.reqBodyLength = Number(value) || 0;
        return;
      case 'transfer-encoding':
        this.reqBodyLength = this.reqBodyLength > 0 ? -2 : -1;
        return;
      case 'connection':
        this.extraHop = connectionTokens(value);
        return;
      case 'x-request-id':
        this.requestId = value;
        break;
      case 'x-forwarded-for':
        this.xffIncoming = this.xffIncoming ? `${this.xffIncoming}, ${value}` : value;
        return;
      case 'x-forwarded-proto':
        return;
    }
    if (isHopByHop(name)) return;
    this.requestHeaders.push(name, value);
  }

  // === routing and dispatch ===

  private dispatch(): void {
    const lis = this.lis;
    this.retryPending = false;
    const name = this.route.cluster ?? lis.config.defaultCluster;
    if (name === null) return this.localReply(404, Flag.NoRouteFound, 'no route matched and the listener has no defaultCluster');
    const cluster = lis.clusters.get(name);
    if (cluster === undefined) return this.localReply(503, Flag.ClusterNotFound, `cluster "${name}" not found`);
    this.cluster = cluster;
    const ep = cluster.pick(this);
    if (ep < 0) {
      lis.stats[cluster.slots.noHealthy]!++;
      return this.localReply(503, Flag.NoHealthyUpstream, `no healthy endpoint in cluster "${name}"`);
    }
    this.endpoint = ep;
    this.attempt++;
    this.phase = Phase.Pending;
    this.upstreamSettled = false;
    this.tUpstream = performance.now();
    const v = lis.stats;
    v[cluster.slots.rqTotal]!++;
    v[cluster.slots.rqActive]!++;
    cluster.requestStarted(ep);
    if (this.deadlineAt === 0) this.deadlineAt = this.tUpstream + (this.route.timeoutMs || cluster.config.timeoutMs);
    const perTry = this.route.perTryTimeoutMs;
    const left = Math.max(1, this.deadlineAt - this.tUpstream);
    deadlines.add(this, perTry > 0 && perTry < left ? perTry : left, this.tUpstream);
    cluster.acquire(ep, this);
  }

  onPoolReady(conn: UpstreamRequestSink): void {
    if (this.phase !== Phase.Pending) {
      // The stream ended while the pool was connecting: hand the connection back unused.
      conn.abort();
      return;
    }
    this.phase = Phase.Upstream;
    this.conn = conn;
    conn.start(this.buildHead(), this.reqBodyLength, this.isHead, this);
    const pending = this.pendingBody;
    for (let i = 0; i < pending.length; i++) conn.write(pending[i]!);
    pending.length = 0;
    if (this.reqBodyLength !== 0 && !this.reqBodyOpen) conn.end();
    if (this.downstreamPaused && this.res !== null) {
      this.downstreamPaused = false;
      this.res.resume();
    }
  }

  onPoolFailure(err: UpstreamError): void {
    if (this.phase !== Phase.Pending) return;
    const c = this.cluster!;
    c.requestEnded(this.endpoint, 0);
    this.settleUpstream();
    switch (err.code) {
      case 'UPSTREAM_OVERFLOW':
        return this.coreFailure(503, Flag.UpstreamOverflow, err.message);
      case 'UPSTREAM_CONNECT_TIMEOUT':
        c.gatewayError(this.endpoint);
        return this.coreFailure(504, Flag.UpstreamRequestTimeout, err.message);
      default:
        c.gatewayError(this.endpoint);
        return this.coreFailure(503, Flag.UpstreamConnectionFailure, err.message);
    }
  }

  /** Request line and headers for the upstream: no framing headers, no trailing CRLF (the connection adds them). */
  private buildHead(): string {
    const h = this.requestHeaders;
    let head = `${this.method} ${this.path} HTTP/1.1`;
    const extra = this.extraHop;
    for (let i = 0; i < h.names.length; i++) {
      const n = h.names[i]!;
      if ((extra !== null && extra.includes(n)) || n === 'content-length') continue;
      head += `\r\n${n}: ${h.values[i]}`;
    }
    head += `\r\nx-forwarded-for: ${this.xffIncoming ? `${this.xffIncoming}, ${this.sourceAddress}` : this.sourceAddress}\r\nx-forwarded-proto: http`;
    if (h.getLower('x-request-id') === undefined) head += `\r\nx-request-id: ${this.requestId}`;
    return head;
  }

  // === request body (downstream -> upstream) ===

  private onData(ab: ArrayBuffer, last: boolean): void {
    // uWS neuters `ab` when we return, and a socket write may hold on to its buffer.
    const n = ab.byteLength;
    if (last) this.reqBodyOpen = false;
    if (this.phase === Phase.Done) return;
    this.bytesIn += n;
    if (this.filtered) {
      const chunk = Buffer.allocUnsafe(n);
      chunk.set(new Uint8Array(ab));
      this.chain!.requestData(chunk, last);
      if (this.conn === null && !last) this.pauseDownstream();
      return;
    }
    const conn = this.conn;
    if (n > 0) {
      const chunk = Buffer.allocUnsafe(n);
      chunk.set(new Uint8Array(ab));
      if (conn !== null) {
        if (!conn.write(chunk) && !last) this.pauseDownstream();
      } else {
        this.pendingBody.push(chunk);
        if (!last) this.pauseDownstream();
      }
    }
    if (last && conn !== null) conn.end();
  }

  private pauseDownstream(): void {
    if (this.downstreamPaused || this.res === null) return;
    this.downstreamPaused = true;
    this.res.pause();
  }

  onRequestDrain(): void {
    if (this.downstreamPaused && this.res !== null) {
      this.downstreamPaused = false;
      this.res.resume();
    }
  }

  // === response (upstream -> downstream) ===

  onResponseHeaders(status: number, reason: string, headers: string[], hasBody: boolean, contentLength: number): void {
    if (this.phase !== Phase.Upstream) return;
    this.status = status;
    this.respLength = contentLength;
    const lis = this.lis;
    lis.stats[this.cluster!.slots.rqXx[((status / 100) | 0) - 1] ?? 4]!++;
    if (!this.filtered) return this.sendHead(status, reason, headers, hasBody);
    const m = (this.respHeaders ??= new FlatHeaderMap());
    m.clear();
    for (let i = 0; i < headers.length; i += 2) m.push(headers[i]!, headers[i + 1]!);
    if (hasBody && contentLength >= 0) m.push('content-length', String(contentLength));
    this.cReason = reason;
    this.cHasBody = hasBody;
    const chain = this.chain!;
    chain.resetResponse();
    chain.responseHeaders(!hasBody || contentLength === 0);
    if (this.retryPending) this.startRetry();
  }

  /** Hands the response head to uWS: now if there is no body, else together with the first body chunk. */
  private sendHead(status: number, reason: string, headers: string[], hasBody: boolean): void {
    this.cStatus = status;
    this.cReason = reason;
    this.cHeaders = headers;
    this.cHasBody = hasBody;
    this.headersSent = true;
    if (!hasBody || this.respLength === 0) {
      this.res!.cork(this.writeHeadB);
      this.downstreamFinished();
      return;
    }
    // Small responses arrive with their body in the same read: writing the
    // head together with the first chunk saves a send(2) per response. The
    // microtask flushes the head alone when no body bytes came with it.
    this.headPending = true;
    queueMicrotask(this.flushHeadB);
  }

  private flushHead(): void {
    if (this.headPending && this.res !== null) this.res.cork(this.writeHeadB);
  }

  private writeHead(): void {
    this.headPending = false;
    const res = this.res!;
    res.writeStatus(statusLine(this.cStatus, this.cReason));
    const h = this.cHeaders;
    // uWS always writes its own Date; forwarding the upstream's would duplicate it.
    for (let i = 0; i < h.length; i += 2) if (h[i] !== 'date') res.writeHeader(h[i]!, h[i + 1]!);
    if (this.cHasBody && this.respLength !== 0) return; // the body follows
    if (this.isHead && this.respLength >= 0) res.endWithoutBody(this.respLength, this.closeAfter);
    else if (this.isHead || this.cStatus === 204 || this.cStatus === 304) this.endWithoutLength(res);
    else res.end(undefined, this.closeAfter);
  }

  /**
   * uWS writes no Content-Length only when endWithoutBody gets no arguments
   * (an explicit `undefined` reads as a huge number). Closing the connection
   * needs the second argument, so that rare case says "content-length: 0".
   */
  private endWithoutLength(res: HttpResponse): void {
    if (this.closeAfter) res.endWithoutBody(0, true);
    else res.endWithoutBody();
  }

  onResponseData(chunk: Buffer): boolean {
    if (this.phase === Phase.Done || this.res === null) return true;
    if (this.filtered) {
      this.lastWriteOk = true;
      // A content-length body's last chunk carries end_of_stream, which saves every filter a separate empty callback.
      this.respReceived += chunk.length;
      const last = this.respLength >= 0 && this.respReceived >= this.respLength;
      this.respEndSent = last;
      this.chain!.responseData(chunk, last);
      return this.lastWriteOk;
    }
    return this.writeBody(chunk);
  }

  /** Writes body bytes downstream; false when uWS is backed up (onWritable resumes the upstream). */
  private writeBody(chunk: Buffer): boolean {
    if (this.phase === Phase.Done || this.res === null) return true;
    this.bytesOut += chunk.length;
    this.cChunk = chunk;
    this.res.cork(this.writeChunkB);
    this.cChunk = null;
    if (this.cDone) {
      this.downstreamFinished();
      return true;
    }
    if (this.cOk) return true;
    // The upstream's buffer is only lent for the call; keep a copy of what uWS could not take.
    if (this.respLength >= 0) this.pendingChunk = Buffer.from(chunk);
    else this.awaitingWritable = true;
    // Registered only now: most responses never see backpressure, and each registration costs uWS a persistent handle.
    this.res.onWritable(this.onWritableB);
    return false;
  }

  private writeChunk(): void {
    if (this.headPending) this.writeHead();
    const res = this.res!;
    const chunk = this.cChunk!;
    if (this.respLength >= 0) {
      this.pendingBase = res.getWriteOffset();
      const r = res.tryEnd(chunk, this.respLength);
      this.cOk = r[0];
      this.cDone = r[1];
    } else {
      this.cOk = res.write(chunk);
      this.cDone = false;
    }
  }

  private onWritable(offset: number): boolean {
    const res = this.res;
    if (res === null) return true;
    const pending = this.pendingChunk;
    if (pending !== null) {
      const [ok, done] = res.tryEnd(pending.subarray(offset - this.pendingBase), this.respLength);
      if (done) {
        this.pendingChunk = null;
        this.downstreamFinished();
        return true;
      }
      if (!ok) return false;
      this.pendingChunk = null;
    } else if (!this.awaitingWritable) return true;
    this.awaitingWritable = false;
    this.conn?.resume();
    return true;
  }

  onResponseEnd(): void {
    if (this.phase === Phase.Done && this.conn === null) return;
    this.tUpstreamEnd = performance.now();
    this.conn = null;
    this.cluster!.requestEnded(this.endpoint, this.status);
    this.settleUpstream();
    if (this.phase === Phase.Done) return this.maybeFinish();
    if (this.filtered) {
      if (!this.respEndSent) this.chain!.responseData(EMPTY, true);
      return;
    }
    if (this.respLength < 0) {
      this.res!.cork(this.endChunkedB);
      this.downstreamFinished();
    }
    // A content-length body completes in writeChunk/onWritable via tryEnd.
  }

  onResponseError(err: UpstreamError): void {
    this.conn = null;
    if (this.phase === Phase.Done) {
      if (!this.upstreamSettled) this.cluster!.requestEnded(this.endpoint, 0);
      this.settleUpstream();
      return this.maybeFinish();
    }
    this.cluster!.requestEnded(this.endpoint, 0);
    this.cluster!.gatewayError(this.endpoint);
    this.settleUpstream();
    if (err.code === 'UPSTREAM_MALFORMED_RESPONSE') {
      return this.failStream(502, Flag.UpstreamProtocolError, err.message);
    }
    return this.failStream(503, Flag.UpstreamConnectionTermination, err.message);
  }

  onDeadline(): void {
    if (this.phase !== Phase.Pending && this.phase !== Phase.Upstream) return;
    this.lis.stats[this.cluster!.slots.rqTimeout]!++;
    this.abortUpstream();
    // Retry filters tell the two apart: only a per-try timeout leaves time for another attempt.
    const perTry = performance.now() < this.deadlineAt - 1;
    this.failStream(504, Flag.UpstreamRequestTimeout, perTry ? 'upstream per-try timeout' : 'upstream request timeout');
  }

  /**
   * An attempt failed before any response byte reached the client. With
   * filters, the local reply goes through their response callbacks first, so
   * a retry filter can ask for another attempt (docs/filter-abi.md).
   */
  private coreFailure(status: number, flag: string, details: string): void {
    if (!this.filtered || this.headersSent || this.res === null || this.localFiltering) return this.localReply(status, flag, details);
    this.status = status;
    this.flag = flag;
    this.details = details;
    const m = (this.respHeaders ??= new FlatHeaderMap());
    m.clear();
    m.push('content-type', 'text/plain');
    this.localFiltering = true;
    const chain = this.chain!;
    chain.resetResponse();
    chain.responseHeaders(true);
    if (this.retryPending) {
      this.localFiltering = false;
      this.flag = '';
      this.details = '';
      this.startRetry();
    }
  }

  /** Fails the stream: a local reply if nothing was sent yet, else a hard close so the client sees a truncated response. */
  private failStream(status: number, flag: string, details: string): void {
    if (this.headPending) {
      // The upstream's head never reached uWS, so the client can still get a proper error.
      this.headPending = false;
      this.headersSent = false;
    }
    if (!this.headersSent) return this.coreFailure(status, flag, details);
    this.flag = flag;
    this.details = details;
    const res = this.res;
    this.downstreamFinished();
    if (res !== null) {
      this.res = null;
      res.close();
    }
  }

  // === local replies (FilterStream.sendLocalReply and core errors) ===

  sendLocalReply(status: number, body: string | Uint8Array, headers: ReadonlyArray<readonly [string, string]> | null, flag: string, details: string): void {
    if (this.phase === Phase.Pending || this.phase === Phase.Upstream) this.abortUpstream();
    if (this.filtered && !this.headersSent && this.res !== null && !this.localFiltering && this.phase !== Phase.Done) {
      // The filters that saw the request see the reply's headers (Envoy's encoder path for local replies).
      const m = (this.respHeaders ??= new FlatHeaderMap());
      m.clear();
      if (headers !== null) for (const [k, v] of headers) m.push(k.toLowerCase(), v);
      else m.push('content-type', 'text/plain');
      this.status = status;
      this.flag = flag;
      this.details = details;
      this.localBody = body;
      this.localFiltering = true;
      this.filterReply = true;
      if (this.chain!.replyLocally()) return;
      this.localFiltering = false;
    }
    this.localReply(status, flag, details, body, headers);
  }
  /** Body of a local reply waiting for the response filters. */
  private localBody: string | Uint8Array | undefined = undefined;
  /** The reply came from a filter, not from an upstream failure: there is nothing to retry. */
  private filterReply = false;

  private localReply(status: number, flag: string, details: string, body?: string | Uint8Array, headers?: ReadonlyArray<readonly [string, string]> | null): void {
    if (this.phase === Phase.Done || this.res === null || this.headersSent) return;
    this.status = status;
    this.flag = flag;
    this.details = details;
    this.headersSent = true;
    this.cBody = body ?? `${status} ${flag}: ${details}\n`;
    this.cLocalHeaders = headers ?? null;
    if (this.reqBodyOpen) this.closeAfter = true;
    this.res.cork(this.writeLocalB);
    this.cBody = '';
    this.cLocalHeaders = null;
    this.downstreamFinished();
  }

  private writeLocal(): void {
    const res = this.res!;
    res.writeStatus(statusLine(this.status, ''));
    if (this.flag) res.writeHeader('x-wasmesh-reason', this.flag);
    res.writeHeader('x-request-id', this.requestId || '-');
    const extra = this.cLocalHeaders;
    if (extra !== null) for (const [k, v] of extra) res.writeHeader(k, v);
    else res.writeHeader('content-type', 'text/plain');
    this.bytesOut += typeof this.cBody === 'string' ? Buffer.byteLength(this.cBody) : this.cBody.byteLength;
    if (this.isHead) this.endWithoutLength(res);
    else res.end(this.cBody, this.closeAfter);
  }

  // === FilterStream ===

  continueRequest(): void {
    if (this.filtered && this.phase !== Phase.Done) this.chain!.continueRequest();
  }
  continueResponse(): void {
    if (this.filtered && this.phase !== Phase.Done) this.chain!.continueResponse();
  }

  delay(ms: number): void {
    if (this.delayTimer !== null || this.phase === Phase.Done) return;
    this.delayResponse = this.chain !== null && this.headersSentOrFiltering();
    this.delayTimer = setTimeout(this.delayDoneB, ms);
  }

  /** True once the response side is being filtered. */
  private headersSentOrFiltering(): boolean {
    return this.phase === Phase.Upstream && this.respHeaders !== null && this.status > 0;
  }

  private readonly delayDoneB = (): void => {
    this.delayTimer = null;
    if (this.delayResponse) this.continueResponse();
    else this.continueRequest();
  };

  setFlag(flag: string): void {
    if (!this.headersSent || !this.flag) this.flag = flag;
  }

  keepRequestBody(maxBytes: number): void {
    if (this.keptBody !== null || this.bytesIn > 0) return;
    this.keepMax = maxBytes;
    this.keptBody = [];
    this.keptBytes = 0;
  }

  retry(backoffMs: number): boolean {
    if (!this.filtered || this.headersSent || this.res === null || this.phase === Phase.Done || this.filterReply) return false;
    // The request must be replayable (no body, or all of it kept) and within its overall deadline.
    if (this.reqBodyLength !== 0 && (this.reqBodyOpen || this.keptBody === null)) return false;
    if (this.deadlineAt > 0 && performance.now() + backoffMs >= this.deadlineAt) return false;
    this.retryPending = true;
    this.retryBackoff = backoffMs;
    return true;
  }
  private retryBackoff = 0;

  /** Drops the current attempt and sends the request again after the backoff. */
  private startRetry(): void {
    if (this.conn !== null) {
      const conn = this.conn;
      this.conn = null;
      conn.abort();
      this.lis.stats[this.cluster!.slots.cxDestroyLocal]!++;
    }
    if (this.phase === Phase.Pending) this.cluster!.cancel(this.endpoint, this);
    if (!this.upstreamSettled) {
      this.cluster!.requestEnded(this.endpoint, this.status);
      this.settleUpstream();
    }
    this.status = 0;
    this.respLength = -1;
    this.respReceived = 0;
    this.respEndSent = false;
    this.headPending = false;
    this.tUpstreamEnd = 0;
    this.phase = Phase.RetryWait;
    this.retryTimer = setTimeout(this.retryNowB, this.retryBackoff);
  }

  private readonly retryNowB = (): void => {
    this.retryTimer = null;
    if (this.phase !== Phase.RetryWait || this.res === null) return;
    this.pendingBody.length = 0;
    if (this.keptBody !== null) for (const b of this.keptBody) this.pendingBody.push(b);
    this.phase = Phase.Filtering;
    this.dispatch();
  };

  // === teardown ===

  private onAborted(): void {
    this.res = null;
    this.noRecycle = true;
    this.clearTimers();
    if (this.phase === Phase.Done) return this.maybeFinish();
    if (!this.flag) {
      this.flag = Flag.DownstreamConnectionTermination;
      this.details = 'downstream closed before the response completed';
    }
    this.abortUpstream();
    this.downstreamFinished();
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.delayTimer !== null) clearTimeout(this.delayTimer);
    this.retryTimer = null;
    this.delayTimer = null;
  }

  private abortUpstream(): void {
    if (this.phase === Phase.Pending) this.cluster!.cancel(this.endpoint, this);
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) {
      conn.abort();
      this.lis.stats[this.cluster!.slots.cxDestroyLocal]!++;
    }
    if (!this.upstreamSettled) {
      this.cluster!.requestEnded(this.endpoint, 0);
      this.settleUpstream();
    }
  }

  private settleUpstream(): void {
    if (this.upstreamSettled) return;
    this.upstreamSettled = true;
    deadlines.remove(this);
    if (this.tUpstreamEnd === 0) this.tUpstreamEnd = performance.now();
    const c = this.cluster!;
    const v = this.lis.stats;
    v[c.slots.rqActive]!--;
    observe(v, c.slots.rqTime, this.tUpstreamEnd - this.tUpstream);
  }

  private downstreamFinished(): void {
    this.phase = Phase.Done;
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (!this.upstreamSettled || this.pendingChunk !== null && this.res !== null) return;
    if (this.lis === undefined || this.t0 === 0) return;
    const lis = this.lis;
    const v = lis.stats;
    const s = lis.slots;
    const dur = performance.now() - this.t0;
    v[s.rqActive]!--;
    if (this.status > 0) v[s.rqXx[((this.status / 100) | 0) - 1] ?? 4]!++;
    observe(v, s.rqTime, dur);
    v[s.rxBytes]! += this.bytesIn;
    v[s.txBytes]! += this.bytesOut;
    if (this.flag) v[s.flags[this.flag]!]!++;
    if (this.chain !== null) this.chain.finish();
    if (lis.accessLog !== null) {
      lis.accessLog.write({
        startTime: this.startTimeMs,
        method: this.method,
        path: this.path,
        status: this.res === null && this.flag === Flag.DownstreamConnectionTermination ? 0 : this.status,
        flags: this.flag || '-',
        upstreamHost: this.upstreamHost,
        upstreamCluster: this.cluster?.name ?? '',
        bytesReceived: this.bytesIn,
        bytesSent: this.bytesOut,
        durationMs: dur,
        upstreamDurationMs: this.tUpstream > 0 ? this.tUpstreamEnd - this.tUpstream : 0,
        requestId: this.requestId,
        listener: lis.name,
        details: this.details,
      });
    }
    const w = lis.worker;
    w.active--;
    const recyclable = !this.reqBodyOpen && !this.noRecycle;
    this.reset();
    if (recyclable) this.release(this);
    if (w.active === 0 && w.onIdle !== null) w.onIdle();
  }

  private reset(): void {
    this.t0 = 0;
    this.res = null;
    this.phase = Phase.Idle;
    this.requestHeaders.clear();
    this.respHeaders?.clear();
    this.pendingBody.length = 0;
    this.downstreamPaused = false;
    this.extraHop = null;
    this.xffIncoming = '';
    this.requestId = '';
    this.tUpstream = 0;
    this.tUpstreamEnd = 0;
    this.attempt = 0;
    this.route.cluster = null;
    this.route.hashKey = null;
    this.route.timeoutMs = 0;
    this.route.perTryTimeoutMs = 0;
    this.filtered = false;
    this.localFiltering = false;
    this.filterReply = false;
    this.localBody = undefined;
    this.retryPending = false;
    this.clearTimers();
    this.keptBody = null;
    this.keptBytes = 0;
    this.keepMax = 0;
    this.deadlineAt = 0;
    this.respReceived = 0;
    this.respEndSent = false;
    this.cluster = null;
    this.endpoint = -1;
    this.conn = null;
    this.status = 0;
    this.flag = '';
    this.details = '';
    this.headersSent = false;
    this.upstreamSettled = true;
    this.respLength = -1;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.pendingChunk = null;
    this.awaitingWritable = false;
    this.headPending = false;
    this.closeAfter = false;
    this.noRecycle = false;
    this.cHeaders = NO_HEADERS;
    if (this.state.size) this.state.clear();
  }
}
