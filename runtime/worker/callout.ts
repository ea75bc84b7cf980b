// proxy_http_call: one request from a filter to a named cluster, through the
// same load balancer and keep-alive pools as proxied traffic. The response is
// collected whole (up to a cap) because the ABI hands it over in one callback.
import type { UpstreamError } from '../core/errors';
import { WasmResult } from '../wasm/abi';
import type { CalloutResponse } from '../wasm/env';
import type { PoolWaiter, UpstreamHandler, UpstreamRequestSink } from '../upstream/types';
import type { HashSource, WorkerCluster } from './context';

/** Most response body a call collects; beyond it the call fails. */
const MAX_CALLOUT_BODY = 4 * 1024 * 1024;
const FAILED: CalloutResponse = { status: 0, headers: [], body: Buffer.alloc(0) };

export class Callout implements PoolWaiter, UpstreamHandler, HashSource {
  private endpoint = -1;
  private conn: UpstreamRequestSink | null = null;
  private timer: NodeJS.Timeout | null = null;
  private status = 0;
  private headers: [string, string][] = [];
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private finished = false;
  readonly routeHashKey = null;

  constructor(
    private readonly cluster: WorkerCluster,
    private readonly reqHeaders: [string, string][],
    private readonly body: Buffer,
    private readonly timeoutMs: number,
    private readonly done: (r: CalloutResponse) => void,
  ) {}

  header(name: string): string | undefined {
    for (const [k, v] of this.reqHeaders) if (k.toLowerCase() === name) return v;
    return undefined;
  }
  query(): null {
    return null;
  }
  sourceIp(): string {
    return '';
  }

  /** Validates and sends; the ABI needs :method, :path and :authority. */
  start(): WasmResult {
    const method = this.header(':method');
    const path = this.header(':path');
    const authority = this.header(':authority') ?? this.header('host');
    if (!method || !path || !authority) return WasmResult.BadArgument;
    const ep = this.cluster.pick(this);
    this.timer = setTimeout(() => this.fail(), this.timeoutMs > 0 ? this.timeoutMs : 5000);
    if (ep < 0) {
      queueMicrotask(() => this.fail());
      return WasmResult.Ok;
    }
    this.endpoint = ep;
    this.cluster.requestStarted(ep);
    this.cluster.acquire(ep, this);
    return WasmResult.Ok;
  }

  onPoolReady(conn: UpstreamRequestSink): void {
    if (this.finished) return conn.abort();
    this.conn = conn;
    let head = `${this.header(':method')} ${this.header(':path')} HTTP/1.1\r\nhost: ${this.header(':authority') ?? this.header('host')}`;
    for (const [k, v] of this.reqHeaders) {
      const n = k.toLowerCase();
      if (n.startsWith(':') || n === 'host' || n === 'content-length' || n === 'transfer-encoding' || n === 'connection') continue;
      head += `\r\n${k}: ${v}`;
    }
    conn.start(head, this.body.length, this.header(':method') === 'HEAD', this);
    if (this.body.length > 0) conn.write(this.body);
  }

  onPoolFailure(_err: UpstreamError): void {
    this.cluster.requestEnded(this.endpoint, 0);
    this.endpoint = -1;
    this.fail();
  }

  onResponseHeaders(status: number, _reason: string, headers: string[]): void {
    this.status = status;
    const list: [string, string][] = [];
    for (let i = 0; i < headers.length; i += 2) list.push([headers[i]!, headers[i + 1]!]);
    this.headers = list;
  }

  onResponseData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > MAX_CALLOUT_BODY) {
      this.conn?.abort();
      this.conn = null;
      this.cluster.requestEnded(this.endpoint, 0);
      this.endpoint = -1;
      this.fail();
      return true;
    }
    this.chunks.push(Buffer.from(chunk));
    return true;
  }

  onResponseEnd(): void {
    this.conn = null;
    this.cluster.requestEnded(this.endpoint, this.status);
    this.endpoint = -1;
    this.finish({ status: this.status, headers: this.headers, body: Buffer.concat(this.chunks) });
  }

  onResponseError(_err: UpstreamError): void {
    this.conn = null;
    this.cluster.requestEnded(this.endpoint, 0);
    this.endpoint = -1;
    this.fail();
  }

  onRequestDrain(): void {}

  private fail(): void {
    if (this.finished) return;
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) conn.abort();
    if (this.endpoint >= 0) {
      this.cluster.cancel(this.endpoint, this);
      this.cluster.requestEnded(this.endpoint, 0);
      this.endpoint = -1;
    }
    this.finish(FAILED);
  }

  private finish(r: CalloutResponse): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.done(r);
  }
}
