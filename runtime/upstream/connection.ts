// One upstream HTTP/1.1 connection: one exchange at a time, keep-alive
// reuse, backpressure both ways. Socket listeners are bound once per
// connection; the per-request state lives in plain fields, so an exchange
// allocates nothing here beyond the head string and the parser's output.
import * as net from 'net';
import { UpstreamError, type UpstreamErrorCode } from '../core/errors';
import { DEFAULT_MAX_HEAD_BYTES, ResponseParser, type ResponseParserSink } from './response-parser';
import type { UpstreamHandler, UpstreamRequestSink } from './types';

/** Who ended a connection, for the destroy_local / destroy_remote / protocol_error counters. */
export const enum CloseReason {
  Local,
  Remote,
  Protocol,
}

export interface ConnectionOptions {
  host: string;
  port: number;
  /** Covers DNS lookup + TCP handshake; 0 disables. */
  connectTimeoutMs: number;
  /** Response head cap (default 64 KiB). */
  maxHeadBytes?: number;
  /**
   * Encoding of the request head string. Default 'utf8', because uWS hands
   * out URL and header strings decoded as UTF-8, so this round-trips them.
   */
  headEncoding?: 'utf8' | 'latin1';
  /** SO_KEEPALIVE initial delay (default 60 s). */
  keepAliveInitialDelayMs?: number;
  /** Retry once on a fresh socket when a reused one dies before any response byte (default true). */
  retryStale?: boolean;
}

/** What a connection reports to the pool that owns it (EndpointPool). */
export interface ConnectionOwner {
  /** First connect succeeded; the owner assigns the connection or idles it. */
  onConnected(conn: UpstreamConnection): void;
  /** First connect failed (UPSTREAM_CONNECT_FAILURE / _TIMEOUT). The connection is dead. */
  onConnectFailed(conn: UpstreamConnection, err: UpstreamError): void;
  /** An exchange finished and the socket is reusable: keep it idle (phase 1, before the handler hears of it). */
  onReusable(conn: UpstreamConnection): void;
  /** Phase 2, after the handler's onResponseEnd returned: idle connections may go to queued waiters. */
  afterRelease(conn: UpstreamConnection): void;
  /** The connection is gone (after being connected). */
  onClosed(conn: UpstreamConnection, reason: CloseReason): void;
  /** A stale socket is being replaced by a fresh one for a transparent retry. */
  onStaleRetry(conn: UpstreamConnection): void;
  /** The replacement socket of a retry could not connect; the connection is dead. */
  onRetryConnectFailed(conn: UpstreamConnection, err: UpstreamError): void;
}

/**
 * One read buffer for every upstream socket of this thread. Reads are handled
 * synchronously and nothing keeps a view of it past the callback (the parser
 * copies partial heads, a paused connection copies what it holds back), so
 * sharing it saves an allocation and the stream machinery on every read.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * The one place a socket is made. A TLS variant would return tls.connect()
 * here and wait for 'secureConnect' instead of CONNECT_EVENT.
 */
export function createSocket(o: ConnectionOptions, onRead: (n: number, buf: Buffer) => boolean): net.Socket {
  return net.connect({
    host: o.host,
    port: o.port,
    noDelay: true,
    keepAlive: true,
    keepAliveInitialDelay: o.keepAliveInitialDelayMs ?? 60_000,
    onread: { buffer: READ_BUFFER, callback: onRead },
  });
}
const CONNECT_EVENT = 'connect';

const enum St {
  /** First connect in progress; owned by the pool. */
  Connecting,
  /** In the pool's idle stack. */
  Idle,
  /** Handed to a waiter; an exchange may be running (handler !== null). */
  Busy,
  /** A stale retry's replacement socket is connecting; the exchange is running. */
  Reconnecting,
  Closed,
}

function noop(): void {}

/** Methods that cannot be replayed blindly even without a body. */
function isIdempotent(head: string): boolean {
  switch (head.charCodeAt(0)) {
    case 71:
      return head.startsWith('GET ');
    case 72:
      return head.startsWith('HEAD ');
    case 79:
      return head.startsWith('OPTIONS ');
    case 80:
      return head.startsWith('PUT ');
    case 68:
      return head.startsWith('DELETE ');
    case 84:
      return head.startsWith('TRACE ');
  }
  return false;
}

/** Methods whose empty body must still be announced (RFC 9110 8.6). */
function needsZeroLength(head: string): boolean {
  const c = head.charCodeAt(0);
  if (c === 80) return head.startsWith('POST ') || head.startsWith('PUT ') || head.startsWith('PATCH ');
  return false;
}

function deliverError(h: UpstreamHandler, err: UpstreamError): void {
  h.onResponseError(err);
}

export class UpstreamConnection implements UpstreamRequestSink, ResponseParserSink {
  readonly endpoint: string;
  socket: net.Socket;

  /** @internal pool bookkeeping */
  inIdle = false;
  /** @internal */
  connecting = true;
  /** @internal performance.now() when it went idle */
  idleSince = 0;

  private st = St.Connecting;
  private readonly owner: ConnectionOwner;
  private readonly opts: ConnectionOptions;
  private readonly enc: 'utf8' | 'latin1';
  private readonly parser: ResponseParser;
  private handler: UpstreamHandler | null = null;

  // Request side of the current exchange.
  private head = '';
  private isHeadRequest = false;
  private bodyLength = 0;
  private bodySent = 0;
  private requestDone = false;
  private retryable = false;
  private needDrain = false;

  // Response side.
  private paused = false;
  private readStopped = false;
  private processing = false;
  private pending: Buffer | null = null;
  private pendingOff = 0;

  /** The upstream ended or closed this socket (or sent unsolicited bytes). */
  private eof = false;
  /** Exchanges completed on the current socket; > 0 means "reused". */
  private exchanges = 0;
  private connectTimer: NodeJS.Timeout | null = null;
  private lastError: Error | null = null;

  private readonly lConnect = (): void => this.onConnect();
  private readonly lRead = (n: number, b: Buffer): boolean => {
    this.onData(b.subarray(0, n));
    return true;
  };
  private readonly lEnd = (): void => this.onEnd();
  private readonly lClose = (): void => this.onClose();
  private readonly lError = (e: Error): void => {
    this.lastError = e;
  };
  private readonly lDrain = (): void => this.onDrain();
  private readonly lConnectTimeout = (): void => this.onConnectTimeout();

  /** Starts connecting right away; the owner hears back through ConnectionOwner. */
  constructor(owner: ConnectionOwner, opts: ConnectionOptions) {
    this.owner = owner;
    this.opts = opts;
    this.endpoint = `${opts.host}:${opts.port}`;
    this.enc = opts.headEncoding ?? 'utf8';
    this.parser = new ResponseParser(this, { maxHeadBytes: opts.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES, stripHopByHop: true });
    this.socket = this.openSocket();
  }

  // ---- UpstreamRequestSink -------------------------------------------------

  start(head: string, bodyLength: number, isHead: boolean, handler: UpstreamHandler): void {
    if (this.st === St.Closed) {
      // Closed under the waiter (pool shutdown) before it started.
      process.nextTick(deliverError, handler, new UpstreamError(`connection to ${this.endpoint} closed`, 'UPSTREAM_RESET_BEFORE_HEADERS'));
      return;
    }
    if (this.st !== St.Busy || this.handler !== null) throw new Error('UpstreamConnection.start: connection is not assigned or already busy');
    this.handler = handler;
    this.isHeadRequest = isHead;
    this.bodyLength = bodyLength;
    this.bodySent = 0;
    this.needDrain = false;
    this.paused = false;
    this.pending = null;
    this.parser.reset(isHead);
    let s: string;
    if (bodyLength > 0) s = head + '\r\ncontent-length: ' + bodyLength + '\r\n\r\n';
    else if (bodyLength < 0) s = head + '\r\ntransfer-encoding: chunked\r\n\r\n';
    else if (needsZeroLength(head)) s = head + '\r\ncontent-length: 0\r\n\r\n';
    else s = head + '\r\n\r\n';
    this.head = s;
    this.requestDone = bodyLength === 0;
    this.retryable = bodyLength === 0 && isIdempotent(head);
    if (this.eof || this.socket.destroyed) {
      // Went stale between assignment and start; nothing was sent, so a new socket is always safe.
      this.owner.onStaleRetry(this);
      this.reconnect();
      return;
    }
    if (this.readStopped) this.resumeSocket();
    this.socket.write(s, this.enc);
  }

  write(chunk: Uint8Array): boolean {
    if (this.handler === null || this.requestDone) return true;
    const n = chunk.byteLength;
    if (n === 0) return true; // an empty chunk would terminate a chunked body
    const sock = this.socket;
    let ok: boolean;
    if (this.bodyLength < 0) {
      sock.cork();
      sock.write(n.toString(16) + '\r\n', 'latin1');
      sock.write(chunk);
      ok = sock.write('\r\n', 'latin1');
      sock.uncork();
    } else {
      // Bytes past the declared length would be read as the next request (smuggling).
      if (this.bodySent + n > this.bodyLength) throw new RangeError(`request body exceeds content-length ${this.bodyLength}`);
      this.bodySent += n;
      if (this.bodySent === this.bodyLength) this.requestDone = true;
      ok = sock.write(chunk);
    }
    if (!ok) this.needDrain = true;
    return ok;
  }

  end(): void {
    if (this.handler === null || this.requestDone) return;
    if (this.bodyLength < 0) {
      this.requestDone = true;
      this.socket.write('0\r\n\r\n', 'latin1');
    }
    // A content-length body that ends short leaves requestDone false, so the
    // connection is not reused (the upstream still waits for bytes).
  }

  pause(): void {
    if (this.handler === null || this.paused) return;
    this.paused = true;
    // Inside a parser callback the running execute() stops and stashes the rest itself.
    if (!this.processing) this.stopReading();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.processing || this.handler === null) return;
    const p = this.pending;
    if (p !== null) {
      this.pending = null;
      this.process(p, this.pendingOff);
    } else if (this.eof) {
      this.handleEof();
    }
    if (this.handler !== null && !this.paused && this.readStopped) this.resumeSocket();
  }

  abort(): void {
    if (this.st === St.Busy && this.handler === null) {
      // Never started: nothing was written, so the socket is still clean.
      if (this.eof || this.socket.destroyed) this.close(CloseReason.Local);
      else {
        this.owner.onReusable(this);
        this.owner.afterRelease(this);
      }
      return;
    }
    if (this.handler === null) return; // idle / closed: a stale call after the exchange ended
    this.handler = null;
    this.close(CloseReason.Local);
  }

  // ---- pool side -----------------------------------------------------------

  /** @internal the pool put it in its idle stack */
  markIdle(): void {
    this.st = St.Idle;
  }
  /** @internal the pool handed it to a waiter */
  markAssigned(): void {
    this.st = St.Busy;
  }
  /** @internal still worth handing out */
  get usable(): boolean {
    return !this.eof && !this.socket.destroyed && (this.st === St.Idle || this.st === St.Busy);
  }

  /**
   * Destroy it now (pool drain / shutdown / idle timeout). A running
   * exchange gets onResponseError with `message`.
   */
  destroy(message = 'connection closed'): void {
    if (this.st === St.Closed) return;
    const h = this.handler;
    this.handler = null;
    const code: UpstreamErrorCode = this.parser.headersDone ? 'UPSTREAM_RESET_DURING_BODY' : 'UPSTREAM_RESET_BEFORE_HEADERS';
    this.close(CloseReason.Local);
    if (h !== null) h.onResponseError(new UpstreamError(`${message} (${this.endpoint})`, code));
  }

  // ---- ResponseParserSink --------------------------------------------------

  onParserHeaders(status: number, reason: string, headers: string[], hasBody: boolean, contentLength: number): boolean {
    const h = this.handler;
    if (h === null) return false;
    h.onResponseHeaders(status, reason, headers, hasBody, contentLength);
    return !this.paused && this.handler !== null;
  }

  onParserBody(chunk: Buffer): boolean {
    const h = this.handler;
    if (h === null) return false;
    if (!h.onResponseData(chunk)) this.paused = true;
    return !this.paused && this.handler !== null;
  }

  // ---- socket events -------------------------------------------------------

  private openSocket(): net.Socket {
    const s = createSocket(this.opts, this.lRead);
    s.on(CONNECT_EVENT, this.lConnect);
    s.on('end', this.lEnd);
    s.on('close', this.lClose);
    s.on('error', this.lError);
    s.on('drain', this.lDrain);
    this.eof = false;
    this.lastError = null;
    this.exchanges = 0;
    this.readStopped = false;
    const t = this.opts.connectTimeoutMs;
    if (t > 0) this.connectTimer = setTimeout(this.lConnectTimeout, t);
    return s;
  }

  private detachSocket(): void {
    const s = this.socket;
    s.removeListener(CONNECT_EVENT, this.lConnect);
    s.removeListener('end', this.lEnd);
    s.removeListener('close', this.lClose);
    s.removeListener('error', this.lError);
    s.removeListener('drain', this.lDrain);
    s.on('error', noop);
    s.destroy();
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
  }

  private onConnect(): void {
    this.clearConnectTimer();
    if (this.st === St.Connecting) {
      this.connecting = false;
      this.owner.onConnected(this);
    } else if (this.st === St.Reconnecting) {
      this.st = St.Busy;
    }
  }

  private onConnectTimeout(): void {
    this.connectTimer = null;
    this.connectFailed(new UpstreamError(`connect to ${this.endpoint} timed out after ${this.opts.connectTimeoutMs}ms`, 'UPSTREAM_CONNECT_TIMEOUT'));
  }

  private connectFailed(err: UpstreamError): void {
    const st = this.st;
    this.st = St.Closed;
    this.clearConnectTimer();
    this.socket.destroy();
    if (st === St.Connecting) {
      this.connecting = false;
      this.owner.onConnectFailed(this, err);
    } else {
      const h = this.handler;
      this.handler = null;
      this.owner.onRetryConnectFailed(this, err);
      if (h !== null) h.onResponseError(err);
    }
  }

  private onData(buf: Buffer): void {
    if (this.handler === null || (this.st !== St.Busy && this.st !== St.Reconnecting)) {
      // Bytes nobody asked for: the upstream is out of sync, never reuse this socket.
      if (this.st === St.Idle) this.close(CloseReason.Protocol);
      else if (this.st === St.Busy) this.eof = true;
      return;
    }
    if (this.paused) {
      // A read already under way when we paused: keep a copy (buf is the shared read buffer), in order, for resume().
      this.pending = this.pending === null ? Buffer.from(buf) : Buffer.concat([this.pending.subarray(this.pendingOff), buf]);
      this.pendingOff = 0;
      return;
    }
    this.process(buf, 0);
  }

  private process(buf: Buffer, off: number): void {
    this.processing = true;
    const n = this.parser.execute(buf, off);
    this.processing = false;
    if (this.handler === null) return; // aborted from a callback
    if (n < 0) {
      this.fail('UPSTREAM_MALFORMED_RESPONSE', `malformed response from ${this.endpoint}: ${this.parser.error}`);
      return;
    }
    if (this.paused) {
      // Keep the rest (possibly just the completion) until resume(); copied, buf may be the shared read buffer.
      this.pending = Buffer.from(buf.subarray(n));
      this.pendingOff = 0;
      if (!this.readStopped) this.stopReading();
      return;
    }
    if (this.parser.complete) {
      this.complete(n < buf.length);
      return;
    }
    if (this.eof) this.handleEof();
  }

  private onEnd(): void {
    this.eof = true;
    this.remoteGone();
  }

  private onClose(): void {
    if (this.st === St.Connecting || this.st === St.Reconnecting) {
      const why = this.lastError !== null ? this.lastError.message : 'socket closed';
      this.connectFailed(new UpstreamError(`connect to ${this.endpoint} failed: ${why}`, 'UPSTREAM_CONNECT_FAILURE'));
      return;
    }
    this.eof = true;
    this.remoteGone();
  }

  private remoteGone(): void {
    if (this.st === St.Idle) {
      this.close(CloseReason.Remote);
    } else if (this.st === St.Busy && this.handler !== null && this.pending === null && !this.processing && !this.paused) {
      this.handleEof();
    }
    // Busy without a handler: start() will reconnect. Paused: resume() handles it after the buffered bytes.
  }

  private onDrain(): void {
    if (this.needDrain && this.handler !== null) {
      this.needDrain = false;
      this.handler.onRequestDrain();
    }
  }

  // ---- exchange end --------------------------------------------------------

  private handleEof(): void {
    if (this.parser.finish()) {
      this.complete(false);
      return;
    }
    if (this.parser.headersDone) {
      this.fail('UPSTREAM_RESET_DURING_BODY', `upstream ${this.endpoint} closed the connection during the response body${this.errSuffix()}`);
    } else {
      this.fail('UPSTREAM_RESET_BEFORE_HEADERS', `upstream ${this.endpoint} closed the connection before response headers${this.errSuffix()}`);
    }
  }

  private errSuffix(): string {
    return this.lastError !== null ? `: ${this.lastError.message}` : '';
  }

  private complete(extraBytes: boolean): void {
    const h = this.handler!;
    this.handler = null;
    this.pending = null;
    const reusable = !extraBytes && !this.eof && this.requestDone && this.parser.keepAlive;
    if (reusable) {
      this.exchanges++;
      if (this.readStopped) this.resumeSocket(); // idle sockets must see 'end'
      this.owner.onReusable(this);
    } else {
      // Early response (request unfinished), `connection: close`, or junk after the body.
      this.close(this.eof ? CloseReason.Remote : CloseReason.Local);
    }
    h.onResponseEnd();
    if (reusable) this.owner.afterRelease(this);
  }

  private fail(code: UpstreamErrorCode, message: string): void {
    if (
      code === 'UPSTREAM_RESET_BEFORE_HEADERS' &&
      this.exchanges > 0 &&
      this.retryable &&
      !this.parser.started &&
      this.opts.retryStale !== false
    ) {
      // The upstream closed this kept-alive socket as we reused it; it never
      // saw a byte of our bodiless, idempotent request, so replaying is safe.
      this.owner.onStaleRetry(this);
      this.reconnect();
      return;
    }
    const h = this.handler;
    this.handler = null;
    this.close(code === 'UPSTREAM_MALFORMED_RESPONSE' ? CloseReason.Protocol : CloseReason.Remote);
    if (h !== null) h.onResponseError(new UpstreamError(message, code));
  }

  /** Replace the socket and replay the request head on it (writes queue until connect). */
  private reconnect(): void {
    this.detachSocket();
    this.parser.reset(this.isHeadRequest);
    this.pending = null;
    this.st = St.Reconnecting;
    this.socket = this.openSocket();
    this.socket.write(this.head, this.enc);
    if (this.paused) this.stopReading();
  }

  private close(reason: CloseReason): void {
    this.st = St.Closed;
    this.clearConnectTimer();
    this.socket.destroy();
    this.owner.onClosed(this, reason);
  }

  private stopReading(): void {
    this.readStopped = true;
    this.socket.pause();
  }

  private resumeSocket(): void {
    this.readStopped = false;
    this.socket.resume();
  }
}
