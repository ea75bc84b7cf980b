// Shared test helpers for the upstream client tests.
import * as net from 'net';
import type { UpstreamError } from '../../runtime/core/errors';
import { ClusterBudget, EndpointPool, PoolCounter, PoolGauge, type EndpointPoolOptions, type PoolObserver } from '../../runtime/upstream/endpoint-pool';
import type { PoolWaiter, UpstreamHandler, UpstreamRequestSink } from '../../runtime/upstream/types';

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => resolve());
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `cond` every 5 ms, for at most `ms`. */
export async function waitFor(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Rejects if `p` does not settle within `ms`. */
export function within<T>(p: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} did not finish within ${ms}ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

export class CountingObserver implements PoolObserver {
  readonly counters = new Map<PoolCounter, number>();
  readonly gauges = new Map<PoolGauge, number>();
  count(c: PoolCounter): void {
    this.counters.set(c, (this.counters.get(c) ?? 0) + 1);
  }
  gauge(g: PoolGauge, delta: number): void {
    this.gauges.set(g, (this.gauges.get(g) ?? 0) + delta);
  }
  c(c: PoolCounter): number {
    return this.counters.get(c) ?? 0;
  }
  g(g: PoolGauge): number {
    return this.gauges.get(g) ?? 0;
  }
}

export function makePool(port: number, opts: Partial<EndpointPoolOptions> = {}): EndpointPool {
  return new EndpointPool({
    host: '127.0.0.1',
    port,
    budget: opts.budget ?? new ClusterBudget(100, 100),
    connectTimeoutMs: 2000,
    idleTimeoutMs: 0,
    ...opts,
  });
}

export interface ExchangeOptions {
  /** Request line + headers, no final CRLF. Default: GET / with a host header. */
  head?: string;
  /** Buffer = content-length body; { chunked } = chunked body. */
  body?: Buffer | { chunked: Buffer };
  isHead?: boolean;
  /** Bytes per write() call. */
  sliceSize?: number;
  /** Called from onResponseData; return false to pause. */
  onData?: (ex: Exchange, chunk: Buffer) => boolean;
  /** Do not end the request body (for early-response tests). */
  holdBody?: boolean;
}

/** One request: a PoolWaiter and UpstreamHandler that collects the response. */
export class Exchange implements PoolWaiter, UpstreamHandler {
  conn: UpstreamRequestSink | null = null;
  status = 0;
  reason = '';
  headers: string[] = [];
  hasBody = false;
  contentLength = -2;
  chunks: Buffer[] = [];
  bodyBytes = 0;
  error: UpstreamError | null = null;
  poolError: UpstreamError | null = null;
  ended = false;
  gotHeaders = false;
  drains = 0;
  writesRefused = 0;
  readonly done: Promise<Exchange>;
  private resolve!: (e: Exchange) => void;
  private body: Buffer | null = null;
  private chunked = false;
  private off = 0;
  private readonly o: ExchangeOptions;

  constructor(o: ExchangeOptions = {}) {
    this.o = o;
    this.done = new Promise((r) => (this.resolve = r));
    if (o.body !== undefined) {
      if (Buffer.isBuffer(o.body)) this.body = o.body;
      else {
        this.body = o.body.chunked;
        this.chunked = true;
      }
    }
  }

  get bodyBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  header(name: string): string | undefined {
    for (let i = 0; i < this.headers.length; i += 2) if (this.headers[i] === name) return this.headers[i + 1];
    return undefined;
  }

  onPoolReady(conn: UpstreamRequestSink): void {
    this.conn = conn;
    const head = this.o.head ?? 'GET / HTTP/1.1\r\nhost: test';
    const len = this.body === null ? 0 : this.chunked ? -1 : this.body.length;
    conn.start(head, len, this.o.isHead ?? false, this);
    this.pump();
  }
  onPoolFailure(err: UpstreamError): void {
    this.poolError = err;
    this.resolve(this);
  }
  onResponseHeaders(status: number, reason: string, headers: string[], hasBody: boolean, contentLength: number): void {
    this.gotHeaders = true;
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    this.hasBody = hasBody;
    this.contentLength = contentLength;
  }
  onResponseData(chunk: Buffer): boolean {
    this.bodyBytes += chunk.length;
    if (this.o.onData !== undefined) return this.o.onData(this, Buffer.from(chunk));
    this.chunks.push(Buffer.from(chunk)); // the view is only valid during the call
    return true;
  }
  onResponseEnd(): void {
    this.ended = true;
    this.resolve(this);
  }
  onResponseError(err: UpstreamError): void {
    this.error = err;
    this.resolve(this);
  }
  onRequestDrain(): void {
    this.drains++;
    this.pump();
  }

  /** Write body slices until the socket refuses, then wait for onRequestDrain. */
  pump(): void {
    const b = this.body;
    const conn = this.conn!;
    if (b !== null) {
      const step = this.o.sliceSize ?? 64 * 1024;
      while (this.off < b.length) {
        if (this.o.holdBody && this.off > 0) return;
        const end = Math.min(b.length, this.off + step);
        const ok = conn.write(b.subarray(this.off, end));
        this.off = end;
        if (!ok) {
          this.writesRefused++;
          return;
        }
      }
    }
    if (!this.o.holdBody) conn.end();
  }

  /** Write whatever is left (holdBody tests). */
  writeRest(): void {
    const b = this.body!;
    this.conn!.write(b.subarray(this.off));
    this.off = b.length;
    this.conn!.end();
  }
}

/** Acquire + run one exchange; resolves when it ends (successfully or not). */
export function run(pool: EndpointPool, o: ExchangeOptions = {}, ms = 5000): Promise<Exchange> {
  const ex = new Exchange(o);
  pool.acquire(ex);
  return within(ex.done, ms, 'exchange');
}

/**
 * A raw TCP server that reads HTTP/1.1 request heads (and content-length /
 * chunked bodies, crudely) and calls `onRequest(sock, head, index)` for each,
 * `index` counting requests on that socket.
 */
export class RawServer {
  readonly server: net.Server;
  readonly sockets: net.Socket[] = [];
  connections = 0;
  requests = 0;
  port = 0;

  constructor(onRequest: (sock: net.Socket, head: string, index: number) => void, opts: { readBodies?: boolean } = {}) {
    this.server = net.createServer((sock) => {
      this.connections++;
      this.sockets.push(sock);
      sock.on('error', () => {});
      let buf = Buffer.alloc(0);
      let index = 0;
      let bodyLeft = 0;
      let inChunked = false;
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          if (bodyLeft > 0) {
            const n = Math.min(bodyLeft, buf.length);
            bodyLeft -= n;
            buf = buf.subarray(n);
            if (bodyLeft > 0) return;
          }
          if (inChunked) {
            const t = buf.indexOf('0\r\n\r\n');
            if (t < 0) return;
            buf = buf.subarray(t + 5);
            inChunked = false;
          }
          const e = buf.indexOf('\r\n\r\n');
          if (e < 0) return;
          const head = buf.subarray(0, e).toString('latin1');
          buf = buf.subarray(e + 4);
          const m = /\r\ncontent-length: *(\d+)/i.exec(head);
          if (opts.readBodies !== false) {
            if (m) bodyLeft = Number(m[1]);
            else if (/\r\ntransfer-encoding: *chunked/i.test(head)) inChunked = true;
          }
          this.requests++;
          onRequest(sock, head, index++);
        }
      });
    });
  }

  async listen(): Promise<number> {
    this.port = await listen(this.server);
    return this.port;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}
