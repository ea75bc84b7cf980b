// Small node:http helpers for the REST API: a capped body reader, JSON
// answers with the API's error shape, and the bearer-token check.
// (node:http, not uWS: the control plane must rebind its port at once after a
// crash, and the uWS build we use does not set SO_REUSEADDR, so the port stays
// taken while the old connections sit in TIME_WAIT.)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tokensEqual } from '../store';
import { ControlError } from './errors';

/** Reads the whole body up to `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new ControlError(`request body over ${limit} bytes`, 'TOO_LARGE'));
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(new ControlError(`request body over ${limit} bytes`, 'TOO_LARGE'));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body, null, 1) + '\n', 'application/json');
}

export function send(res: ServerResponse, status: number, body: string | Uint8Array, contentType: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength });
  res.end(body);
}

export function sendError(res: ServerResponse, e: unknown): void {
  // Store failures keep their STORE_* code (documented); anything else unexpected is INTERNAL.
  const err = e instanceof ControlError ? e : new ControlError((e as Error)?.message ?? String(e), 'INTERNAL');
  const code = e instanceof ControlError ? err.code : ((e as { code?: string })?.code ?? 'INTERNAL');
  sendJson(res, err.status, { error: { code, message: err.message, ...(err.problems.length > 0 ? { problems: err.problems } : {}) } });
}

/** Throws UNAUTHORIZED unless the request carries `Authorization: Bearer TOKEN`. */
export function checkToken(req: IncomingMessage, token: string): void {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (m === null) throw new ControlError('missing token: send "Authorization: Bearer TOKEN" (the token is in DATA_DIR/token)', 'UNAUTHORIZED');
  if (!tokensEqual(m[1], token)) throw new ControlError('wrong token', 'UNAUTHORIZED');
}

export function parseJsonBody<T>(body: Buffer): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (e) {
    throw new ControlError(`request body is not JSON: ${(e as Error).message}`, 'BAD_REQUEST');
  }
}
