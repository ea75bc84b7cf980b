// The REST API (docs/control-plane.md): every /api/v1 route needs the token.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listFilters, listRoutes, listServices, type MeshSource } from '../mesh';
import type { ControlPlane } from './control-plane';
import { ControlError } from './errors';
import { checkToken, parseJsonBody, readBody, send, sendError, sendJson } from './http';

const JSON_LIMIT = 8 << 20;
const BUNDLE_LIMIT = 64 << 20;

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
}

/** A handler's JSON answer (200), or undefined when it answered itself. */
type Handler = (c: Call) => Promise<unknown>;

interface Route {
  method: string;
  pattern: RegExp;
  fn: Handler;
}

/** The API as one request listener. */
export function apiHandler(cp: ControlPlane, token: string): (req: IncomingMessage, res: ServerResponse) => void {
  const routes: Route[] = [];
  const on = (method: string, path: string, fn: Handler) =>
    routes.push({ method, pattern: new RegExp(`^${path.replace(/:[a-z]+/g, '([^/]+)')}$`), fn });
  const body = async <T>(c: Call): Promise<T> => parseJsonBody<T>(await readBody(c.req, JSON_LIMIT));

  on('GET', '/api/v1/config', async () => {
    const s = await cp.store.current();
    return s ?? { version: 0, sha256: '', createdAt: null, author: '', message: '', content: '' };
  });
  on('POST', '/api/v1/apply', async (c) => cp.apply(applyRequest(await body(c))));
  on('POST', '/api/v1/delete', async (c) => cp.delete(applyRequest(await body(c))));
  on('GET', '/api/v1/history', async (c) => {
    const limit = c.query.has('limit') ? Number(c.query.get('limit')) : 20;
    if (!Number.isInteger(limit) || limit < 1) throw new ControlError('limit must be a positive integer', 'BAD_REQUEST');
    return { current: cp.configVersion, versions: await cp.store.history(limit) };
  });
  on('GET', '/api/v1/history/:version', async (c) => {
    const v = Number(c.params[0]);
    const s = Number.isInteger(v) ? await cp.store.get(v) : null;
    if (s === null) throw new ControlError(`no version ${c.params[0]}`, 'NOT_FOUND');
    return s;
  });
  on('POST', '/api/v1/rollback', async (c) => {
    const b = await body<{ version?: unknown; author?: unknown; message?: unknown }>(c);
    if (b.version !== undefined && !Number.isInteger(b.version)) throw new ControlError('version must be an integer', 'BAD_REQUEST');
    const s = await cp.rollback(b.version as number | undefined, { ...opt('author', b.author), ...opt('message', b.message) });
    return { version: s.version, rollbackOf: s.rollbackOf };
  });
  on('GET', '/api/v1/services', async () => ({ services: listServices(cp.mesh, cp.registry.instances()) }));
  on('GET', '/api/v1/routes', async () => ({ routes: listRoutes(cp.mesh) }));
  on('GET', '/api/v1/filters', async () => {
    const filters = [];
    for (const f of listFilters(cp.mesh)) {
      const size = f.sha256 === null ? null : await cp.bundles.size(f.sha256);
      filters.push({ ...f, size, present: size !== null });
    }
    return { filters };
  });
  on('GET', '/api/v1/proxies', async () => ({ configVersion: cp.configVersion, proxies: proxyStatuses(cp) }));
  on('PUT', '/api/v1/bundles/:sha', async (c) => {
    const bytes = await readBody(c.req, BUNDLE_LIMIT);
    const created = await cp.bundles.put(c.params[0]!, bytes);
    sendJson(c.res, created ? 201 : 200, { sha256: c.params[0], size: bytes.length, created });
    return undefined;
  });
  const getBundle = async (c: Call) => {
    const bytes = await cp.bundles.get(c.params[0]!);
    if (bytes === null) throw new ControlError(`no bundle ${c.params[0]}`, 'NOT_FOUND');
    if (c.req.method === 'HEAD') {
      c.res.writeHead(200, { 'content-type': 'application/wasm', 'content-length': bytes.length });
      c.res.end();
    } else send(c.res, 200, bytes, 'application/wasm');
    return undefined;
  };
  on('GET', '/api/v1/bundles/:sha', getBundle);
  on('HEAD', '/api/v1/bundles/:sha', getBundle);

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    if (url.pathname === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
    let params: string[] | null = null;
    let pathKnown = false;
    let route: Route | undefined;
    for (const r of routes) {
      const m = r.pattern.exec(url.pathname);
      if (m === null) continue;
      pathKnown = true;
      if (r.method !== req.method) continue;
      route = r;
      params = m.slice(1).map(decodeURIComponent);
      break;
    }
    if (route === undefined) {
      return sendJson(res, pathKnown ? 405 : 404, { error: { code: pathKnown ? 'BAD_REQUEST' : 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}; see docs/control-plane.md` } });
    }
    try {
      checkToken(req, token);
    } catch (e) {
      req.resume();
      return sendError(res, e);
    }
    route.fn({ req, res, params: params!, query: url.searchParams }).then(
      (out) => {
        if (out !== undefined) sendJson(res, 200, out);
      },
      (e: unknown) => sendError(res, e),
    );
  };
}

function applyRequest(b: { documents?: unknown; author?: unknown; message?: unknown; dryRun?: unknown }): { documents: MeshSource[]; author?: string; message?: string; dryRun?: boolean } {
  if (!Array.isArray(b.documents) || b.documents.length === 0) throw new ControlError('documents must be a non-empty list of {source, text}', 'BAD_REQUEST');
  const documents = b.documents.map((d: { source?: unknown; text?: unknown }, i) => {
    if (typeof d?.text !== 'string') throw new ControlError(`documents[${i}].text must be a string`, 'BAD_REQUEST');
    return { text: d.text, source: typeof d.source === 'string' && d.source !== '' ? d.source : `documents[${i}]` };
  });
  return { documents, ...opt('author', b.author), ...opt('message', b.message), dryRun: b.dryRun === true };
}

/** `{[key]: v}` when v is a string, else nothing (exactOptionalPropertyTypes). */
function opt<K extends string>(key: K, v: unknown): { [P in K]?: string } {
  return (typeof v === 'string' ? { [key]: v } : {}) as { [P in K]?: string };
}

export function proxyStatuses(cp: ControlPlane): unknown[] {
  return [...cp.registry.proxies.values()].map((rec) => {
    const h = rec.hello;
    const status = cp.registry.status(rec);
    return {
      nodeId: h.nodeId,
      kind: h.kind,
      service: h.service ?? null,
      namespace: h.namespace,
      labels: h.labels,
      address: h.address ?? h.listen.gateway ?? null,
      connected: rec.connected,
      connectedAt: rec.connectedAt === null ? null : new Date(rec.connectedAt).toISOString(),
      lastHeartbeat: new Date(rec.lastHeartbeat).toISOString(),
      pushed: rec.sent?.version ?? null,
      acked: rec.acked,
      nacked: rec.nacked?.version ?? null,
      configVersion: rec.sent?.configVersion ?? null,
      status,
      error: status === 'NACKED' ? rec.nacked!.error : rec.buildError,
    };
  });
}
