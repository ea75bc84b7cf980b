// One keep-alive HTTP/1.1 client connection of the load tool: one exchange
// at a time (no pipelining), a pre-encoded request, reads through one shared
// buffer per thread (`onread`), responses framed by ResponseFramer. Requests
// go out with a synchronous write(2) on the socket's descriptor when libuv
// has nothing queued (no stream machinery per request), else socket.write().
// In the open loop another thread (the pacer) writes requests on the
// descriptor: the owner's adopt() then tells this thread about the exchange
// when its response starts, and onClosing() runs before the descriptor is
// closed.
import { performance } from 'perf_hooks';
import * as fs from 'fs';
import * as net from 'net';
import { NEED_MORE, PARSE_ERROR, ResponseFramer } from './http1';
import type { ErrorKind } from './types';

/** What a connection reports to the engine that owns it. */
export interface ConnOwner {
  /** Connected (first time or again); `ms` is the TCP connect time. */
  onConnected(conn: Conn, ms: number): void;
  /** A response completed. `now` is performance.now() at its last byte. */
  onResponse(conn: Conn, now: number): void;
  /** The exchange in flight failed (the connection is being closed). */
  onExchangeFailed(conn: Conn, kind: ErrorKind): void;
  /** A connect attempt failed. */
  onConnectFailed(conn: Conn, kind: ErrorKind, message: string): void;
  /** The connection is closed (after any of the above); the owner may reconnect it. */
  onClosed(conn: Conn): void;
  /**
   * Bytes arrived with no exchange known to this thread: if another thread
   * wrote a request, record it with conn.beginExchange() and return true
   * (else the bytes are unsolicited).
   */
  adopt?(conn: Conn): boolean;
  /** The socket is being destroyed: its descriptor is closed right after this returns. */
  onClosing?(conn: Conn): void;
}

/** One read buffer for every connection of this thread: reads are handled synchronously. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export function errorKind(code: string | undefined, connecting: boolean): ErrorKind {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connect_refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return connecting ? 'connect_timeout' : 'timeout';
  }
  return connecting ? 'connect_other' : 'other';
}

export class Conn {
  sock: net.Socket | null = null;
  /** Connected and usable. */
  alive = false;
  connecting = false;
  /** An exchange is in flight. */
  busy = false;
  /** performance.now() of the current connect attempt / of the write / intended send time. */
  connectStart = 0;
  sentAt = 0;
  intended = 0;
  /** The exchange in flight belongs to the measured window. */
  measured = false;
  /** Consecutive failed connects (for back-off). */
  failures = 0;
  everConnected = false;
  readonly framer = new ResponseFramer();

  private fd = -1;
  private pendingKind: ErrorKind | null = null;
  private ownClose = false;

  constructor(
    readonly id: number,
    private readonly host: string,
    private readonly port: number,
    private readonly owner: ConnOwner,
  ) {}

  connect(): void {
    this.connecting = true;
    this.alive = false;
    this.busy = false;
    this.pendingKind = null;
    this.ownClose = false;
    this.connectStart = performance.now();
    const s = net.connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n: number, buf: Buffer) => this.onRead(n, buf) },
    });
    this.sock = s;
    const owner = this.owner;
    if (owner.onClosing) {
      // libuv closes the descriptor inside _destroy (for every reason: our
      // destroy(), a read error, the end after EOF): tell the owner first.
      const destroy = s._destroy;
      s._destroy = (err, cb) => {
        owner.onClosing!(this);
        destroy.call(s, err, cb);
      };
    }
    s.on('connect', () => {
      this.connecting = false;
      this.alive = true;
      this.failures = 0;
      this.everConnected = true;
      const h = (s as unknown as { _handle?: { fd?: number } })._handle;
      this.fd = h && typeof h.fd === 'number' && h.fd >= 0 ? h.fd : -1;
      this.owner.onConnected(this, performance.now() - this.connectStart);
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (this.pendingKind === null) this.pendingKind = errorKind(e.code, this.connecting);
      if (this.connecting) this.connectError = e.message;
    });
    s.on('close', () => this.onClose(s));
  }

  private connectError = '';

  /** The socket's descriptor, -1 when not connected. */
  get descriptor(): number {
    return this.fd;
  }

  /** An exchange is in flight from now (its request written at `sentAt`). */
  beginExchange(intended: number, sentAt: number, measured: boolean, headRequest: boolean): void {
    this.busy = true;
    this.intended = intended;
    this.sentAt = sentAt;
    this.measured = measured;
    this.framer.reset(headRequest);
  }

  /** Write the request; the exchange is in flight from now. */
  send(req: Buffer, intended: number, now: number, measured: boolean, headRequest: boolean): void {
    this.beginExchange(intended, now, measured, headRequest);
    const s = this.sock!;
    if (this.fd >= 0 && s.writableLength === 0) {
      let off = 0;
      try {
        off = fs.writeSync(this.fd, req, 0, req.length);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN') {
          this.abort(errorKind(code, false));
          return;
        }
      }
      if (off < req.length) s.write(off === 0 ? req : req.subarray(off));
    } else {
      s.write(req);
    }
  }

  /** Close because of a failure of the exchange in flight (timeout, parse error, ...). */
  abort(kind: ErrorKind): void {
    if (this.pendingKind === null) this.pendingKind = kind;
    this.sock?.destroy();
  }

  /** Close without reporting anything (end of run, or "Connection: close" after a complete response). */
  close(): void {
    this.ownClose = true;
    this.alive = false;
    this.busy = false;
    this.sock?.destroy();
  }

  private onRead(n: number, buf: Buffer): boolean {
    if (!this.busy && !(this.owner.adopt?.(this) ?? false)) {
      // Bytes nobody asked for: the server is broken; this connection is unusable.
      this.abort('parse');
      return false;
    }
    const r = this.framer.feed(buf, 0, n);
    if (r === NEED_MORE) return true;
    if (r === PARSE_ERROR) {
      this.abort('parse');
      return false;
    }
    if (r < n) {
      // More than one response to one request: the exchange failed.
      this.abort('parse');
      return false;
    }
    this.busy = false;
    if (!this.framer.keepAlive) this.alive = false;
    this.owner.onResponse(this, performance.now());
    return true;
  }

  private onClose(s: net.Socket): void {
    if (s !== this.sock) return;
    const wasConnecting = this.connecting;
    this.connecting = false;
    this.alive = false;
    this.fd = -1;
    if (this.ownClose) {
      this.owner.onClosed(this);
      return;
    }
    if (this.busy) {
      this.busy = false;
      if (this.pendingKind === null && this.framer.finishOnClose()) {
        this.owner.onResponse(this, performance.now()); // close-delimited body
      } else {
        this.owner.onExchangeFailed(this, this.pendingKind ?? (this.framer.started ? 'reset' : 'closed'));
      }
    } else if (wasConnecting) {
      this.failures++;
      this.owner.onConnectFailed(this, this.pendingKind ?? 'connect_other', this.connectError);
    }
    this.owner.onClosed(this);
  }
}
