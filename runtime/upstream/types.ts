// The callback contract between a downstream stream and an upstream HTTP/1.1
// connection, after undici's dispatch handlers: one handler object per
// request, no per-chunk promises or closures.
import type { UpstreamError } from '../core/errors';

export interface UpstreamHandler {
  /**
   * Final (non-1xx) response head. `headers` is flat [name, value, ...] with
   * lower-case names, hop-by-hop headers already removed. `contentLength` is
   * -1 when the body is chunked or delimited by close; `hasBody` is false for
   * HEAD, 204, 304.
   */
  onResponseHeaders(status: number, reason: string, headers: string[], hasBody: boolean, contentLength: number): void;
  /** A body chunk (already de-chunked). Valid only during the call. Return false to stop reading until resume(). */
  onResponseData(chunk: Buffer): boolean;
  /** The response is complete. */
  onResponseEnd(): void;
  /** The exchange failed; the connection is already discarded. Never called after onResponseEnd. */
  onResponseError(err: UpstreamError): void;
  /** The request body may continue after write() returned false. */
  onRequestDrain(): void;
}

/** Anything waiting for a connection from a pool. */
export interface PoolWaiter {
  onPoolReady(conn: UpstreamRequestSink): void;
  /** Connection could not be made (code UPSTREAM_CONNECT_FAILURE / _TIMEOUT), or the pool refused (UPSTREAM_OVERFLOW). */
  onPoolFailure(err: UpstreamError): void;
}

/** The side of a connection a stream talks to while it owns it. */
export interface UpstreamRequestSink {
  /** "host:port" of the endpoint. */
  readonly endpoint: string;
  /**
   * Start a request. `head` is the request line and header lines joined by
   * CRLF, with no framing headers and no trailing CRLF; the connection adds
   * content-length / transfer-encoding according to `bodyLength`
   * (0 = no body, >0 = exact length, -1 = chunked).
   */
  start(head: string, bodyLength: number, isHead: boolean, handler: UpstreamHandler): void;
  /** Request body bytes. Returns false when the socket buffer is full (onRequestDrain follows). */
  write(chunk: Uint8Array): boolean;
  /** No more request body. */
  end(): void;
  /** Stop / restart reading the response (downstream backpressure). */
  pause(): void;
  resume(): void;
  /** Give up on the exchange: the connection is destroyed, no handler callbacks follow. */
  abort(): void;
}
