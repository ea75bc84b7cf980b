// A small client of the control plane's REST API (docs/control-plane.md) on
// the global fetch. Every call carries the bearer token; an error answer
// becomes a ControlApiError with the server's code and problems; a transport
// failure becomes one CliError line naming the URL.
import { CliError, ControlApiError, type ControlApiErrorCode } from './errors';
import type { Connection } from './options';

export const API = '/api/v1';

/** What `POST /api/v1/apply` and `/delete` take. */
export interface ChangeRequest {
  documents: { source: string; text: string }[];
  author?: string;
  message?: string;
  dryRun?: boolean;
}

export interface ApplyAnswer {
  version: number;
  created: string[];
  configured: string[];
  unchanged: string[];
}

export interface DeleteAnswer {
  version: number;
  deleted: string[];
}

export interface ConfigAnswer {
  version: number;
  sha256: string;
  createdAt: string | number | null;
  author: string | null;
  message: string | null;
  content: string;
}

export interface ClientOptions extends Connection {
  /** Per request; default 60 s (bundle uploads may be 64 MiB). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class ControlClient {
  readonly url: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(opts: ClientOptions) {
    this.url = opts.url;
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.fetchFn = opts.fetch ?? fetch;
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('POST', path, JSON.stringify(body), 'application/json');
  }

  config(): Promise<ConfigAnswer> {
    return this.get<ConfigAnswer>(`${API}/config`);
  }

  apply(req: ChangeRequest): Promise<ApplyAnswer> {
    return this.post<ApplyAnswer>(`${API}/apply`, req);
  }

  delete(req: ChangeRequest): Promise<DeleteAnswer> {
    return this.post<DeleteAnswer>(`${API}/delete`, req);
  }

  /** HEAD /api/v1/bundles/SHA: true when the control plane has the bytes. */
  async hasBundle(sha: string): Promise<boolean> {
    const res = await this.send('HEAD', `${API}/bundles/${sha}`);
    if (res.status === 404) return false;
    if (res.ok) return true;
    // A HEAD answer has no body to read the error from: name the status.
    const code: ControlApiErrorCode = res.status === 401 ? 'UNAUTHORIZED' : res.status === 400 ? 'BAD_REQUEST' : 'INTERNAL';
    throw new ControlApiError(withHint(`HEAD ${API}/bundles/${sha}: HTTP ${res.status}`, code), code, res.status);
  }

  putBundle(sha: string, bytes: Uint8Array): Promise<{ sha256: string; size: number; created: boolean }> {
    return this.json('PUT', `${API}/bundles/${sha}`, bytes, 'application/wasm');
  }

  private async json<T>(method: string, path: string, body?: string | Uint8Array, contentType?: string): Promise<T> {
    const res = await this.send(method, path, body, contentType);
    const text = await res.text();
    if (!res.ok) throw errorOf(method, path, res.status, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`${method} ${this.url}${path}: the answer is not JSON: ${clip(text)}`, 'CLI_BAD_RESPONSE');
    }
  }

  private async send(method: string, path: string, body?: string | Uint8Array, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (contentType !== undefined) headers['content-type'] = contentType;
    try {
      return await this.fetchFn(this.url + path, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new CliError(`cannot reach the control plane at ${this.url}: ${transportReason(e, this.timeoutMs)}`, 'CLI_UNREACHABLE');
    }
  }
}

/** The API's `{error: {code, message, problems}}`, or CLI_BAD_RESPONSE when the answer is something else. */
export function errorOf(method: string, path: string, status: number, text: string): Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const err = (parsed as { error?: { code?: unknown; message?: unknown; problems?: unknown } } | undefined)?.error;
  if (err !== undefined && typeof err.code === 'string' && typeof err.message === 'string') {
    const problems = Array.isArray(err.problems) ? err.problems.map(String) : [];
    return new ControlApiError(withHint(err.message, err.code), err.code as ControlApiErrorCode, status, problems);
  }
  return new CliError(`${method} ${path}: HTTP ${status}: ${clip(text) || '(no body)'}`, 'CLI_BAD_RESPONSE');
}

function withHint(message: string, code: string): string {
  return code === 'UNAUTHORIZED' ? `${message} (give --token or set WASMESH_TOKEN; the token is in the control plane's DATA_DIR/token)` : message;
}

/** One line saying why fetch failed: undici puts the socket error in `cause`. */
export function transportReason(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = err?.cause;
  const code = cause?.code ?? cause?.errors?.find((x) => x.code !== undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is `wasmesh control` running there? set --control or WASMESH_CONTROL)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'the connection was closed before an answer';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timeout';
    default:
      return code ?? cause?.message ?? err?.message ?? String(e);
  }
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `${one.slice(0, 200)}...` : one;
}
