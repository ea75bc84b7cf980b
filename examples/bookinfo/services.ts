// The Bookinfo services, small versions of Istio's sample application
// (https://istio.io/latest/docs/examples/bookinfo/):
//
//   productpage  GET /productpage: the book page (text; HTML for browsers),
//                calling details and reviews; GET /api/v1/products[/ID[/reviews|/ratings]]
//   details      GET /details/ID
//   reviews      GET /reviews/ID; v1 without ratings, v2 black stars, v3 red
//                stars (v2 and v3 call ratings). POST /fail makes the instance
//                answer 500 until POST /heal (the circuit-breaker step).
//   ratings      GET /ratings/ID
//
// Each instance is an HTTP server on its own app port; it calls other
// services only through its sidecar's outbound listener, naming the service
// in the Host header (`GET http://127.0.0.1:15101/details/0`, `Host:
// details`), and forwards `end-user` and `x-request-id`. The mesh (routing,
// timeouts, retries, faults, ejection, limits, policies) is the sidecars'
// business: the services only show what they got.
import * as http from 'node:http';
import { HOST, type InstancePorts } from './ports';

const BOOK = {
  id: 0,
  title: 'The Comedy of Errors',
  summary:
    "The Comedy of Errors is one of William Shakespeare's early plays. It is his shortest and one of his most farcical comedies, " +
    'with a major part of the humour coming from slapstick and mistaken identity.',
};

const DETAILS = {
  author: 'William Shakespeare',
  year: 1595,
  type: 'paperback',
  pages: 200,
  publisher: 'PublisherA',
  language: 'English',
  'ISBN-10': '1234567890',
  'ISBN-13': '123-1234567890',
};

const REVIEWS = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' },
];

const RATINGS: Record<string, number> = { Reviewer1: 5, Reviewer2: 4 };

/** Headers a service forwards on its own calls, so per-user routing and limits work across hops. */
const PROPAGATED = ['end-user', 'x-request-id'];

/** A safety net only: the mesh's timeouts are the ones that matter. */
const CLIENT_TIMEOUT_MS = 30_000;

interface CallResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
  error?: string;
}

/** One instance's client: requests to other services through the sidecar's outbound listener. */
class Outbound {
  // Idle connections are dropped after 4 s, before the proxy closes them (~10 s), so a request never races a close.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4_000 });
  constructor(private readonly port: number) {}

  call(service: string, path: string, incoming: http.IncomingHttpHeaders): Promise<CallResult> {
    const headers: http.OutgoingHttpHeaders = { host: service };
    for (const h of PROPAGATED) if (incoming[h] !== undefined) headers[h] = incoming[h];
    const t0 = performance.now();
    return new Promise((resolve) => {
      const req = http.request({ host: HOST, port: this.port, path, headers, agent: this.agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - t0 }));
        res.on('error', (e) => resolve({ status: 0, headers: {}, body: '', ms: performance.now() - t0, error: e.message }));
      });
      req.on('error', (e) => resolve({ status: 0, headers: {}, body: '', ms: performance.now() - t0, error: e.message }));
      req.setTimeout(CLIENT_TIMEOUT_MS, () => req.destroy(new Error('client timeout')));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** What went wrong with a call, in one line: status, the proxy's reason and attempts, time. */
function failure(r: CallResult): string {
  if (r.status === 0) return `no response: ${r.error}`;
  const parts = [`HTTP ${r.status}`];
  const reason = r.headers['x-wasmesh-reason'];
  if (reason !== undefined) parts.push(`x-wasmesh-reason: ${reason}`);
  const attempts = r.headers['x-wasmesh-attempts'];
  if (attempts !== undefined) parts.push(`x-wasmesh-attempts: ${attempts}`);
  parts.push(`after ${(r.ms / 1000).toFixed(2)} s`);
  return parts.join(', ');
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value) + '\n');
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, path: string) => void | Promise<void>;

// === details ===

function details(self: InstancePorts): Handler {
  return (_req, res, path) => {
    const m = /^\/details\/(\d+)$/.exec(path);
    if (!m) return json(res, 404, { error: 'not found' });
    json(res, 200, { id: Number(m[1]), ...DETAILS, served_by: self.name });
  };
}

// === ratings ===

function ratings(self: InstancePorts): Handler {
  return (_req, res, path) => {
    const m = /^\/ratings\/(\d+)$/.exec(path);
    if (!m) return json(res, 404, { error: 'not found' });
    json(res, 200, { id: Number(m[1]), ratings: RATINGS, served_by: self.name });
  };
}

// === reviews ===

function reviews(self: InstancePorts, out: Outbound): Handler {
  const color = self.version === 'v2' ? 'black' : self.version === 'v3' ? 'red' : null;
  let failing = false;
  return async (req, res, path) => {
    if (path === '/fail' || path === '/heal') {
      if (req.method !== 'POST') return json(res, 405, { error: `POST ${path}` });
      failing = path === '/fail';
      return json(res, 200, { instance: self.name, failing });
    }
    const m = /^\/reviews\/(\d+)$/.exec(path);
    if (!m) return json(res, 404, { error: 'not found' });
    if (failing) return json(res, 500, { error: `${self.name} is failing on purpose (POST /heal to stop it)` });
    const body: { id: number; podname: string; reviews: unknown[] } = { id: Number(m[1]), podname: self.name, reviews: [] };
    if (color === null) {
      body.reviews = REVIEWS.map((r) => ({ ...r }));
      return json(res, 200, body);
    }
    const r = await out.call('ratings', `/ratings/${m[1]}`, req.headers);
    const got = r.status === 200 ? parseJson(r.body) : null;
    body.reviews = REVIEWS.map((rv) => {
      if (got === null || typeof got.ratings?.[rv.reviewer] !== 'number') return { ...rv, rating: { error: 'Ratings service is currently unavailable', detail: failure(r) } };
      return { ...rv, rating: { stars: got.ratings[rv.reviewer], color } };
    });
    json(res, 200, body);
  };
}

// === productpage ===

interface PageParts {
  user: string | undefined;
  details: CallResult;
  reviews: CallResult;
}

function stars(n: number): string {
  return '★'.repeat(n) + '☆'.repeat(Math.max(0, 5 - n));
}

/** The page as text lines. One line per section starts with a fixed label, for grep. */
function renderPage(p: PageParts): string[] {
  const lines: string[] = [];
  if (p.user) lines.push(`Signed in as ${p.user}`, '');
  lines.push(BOOK.title, '='.repeat(BOOK.title.length), BOOK.summary, '');
  const d = p.details.status === 200 ? parseJson(p.details.body) : null;
  if (d !== null) {
    lines.push(`Book Details: ${d.served_by}`);
    lines.push(`  ${d.author} (${d.year}), ${d.type}, ${d.pages} pages, ${d.publisher}, ${d.language}, ISBN-10 ${d['ISBN-10']}`);
  } else {
    lines.push('Book Details: unavailable', `  (${failure(p.details)})`);
  }
  lines.push('');
  const r = p.reviews.status === 200 ? parseJson(p.reviews.body) : null;
  if (r !== null && Array.isArray(r.reviews)) {
    lines.push(`Book Reviews: ${r.podname}`);
    for (const rv of r.reviews) {
      lines.push(`  "${rv.text}"`);
      let rating = '';
      if (rv.rating?.stars !== undefined) rating = `   ${stars(rv.rating.stars)} (${rv.rating.color} stars)`;
      else if (rv.rating?.error !== undefined) rating = `   ratings unavailable (${rv.rating.detail})`;
      lines.push(`    -- ${rv.reviewer}${rating}`);
    }
  } else {
    lines.push('Book Reviews: unavailable', `  (${failure(p.reviews)})`);
  }
  return lines;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function html(lines: string[]): string {
  const body = lines
    .map((l) => {
      const e = escapeHtml(l);
      return l.includes('(red stars)') ? e.replace(/([★☆]+)/, '<span style="color:#c00">$1</span>') : e;
    })
    .join('\n');
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>Bookinfo</title></head>\n<body><pre style="font-size:15px">\n${body}\n</pre></body></html>\n`;
}

function productpage(out: Outbound): Handler {
  return async (req, res, path) => {
    if (path === '/productpage') {
      const [d, r] = await Promise.all([out.call('details', `/details/${BOOK.id}`, req.headers), out.call('reviews', `/reviews/${BOOK.id}`, req.headers)]);
      const user = req.headers['end-user'];
      const lines = renderPage({ user: typeof user === 'string' ? user : undefined, details: d, reviews: r });
      if (String(req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html(lines));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(lines.join('\n') + '\n');
      }
      return;
    }
    if (path === '/api/v1/products') return json(res, 200, [{ id: BOOK.id, title: BOOK.title, descriptionHtml: BOOK.summary }]);
    const m = /^\/api\/v1\/products\/(\d+)(\/reviews|\/ratings)?$/.exec(path);
    if (!m) return json(res, 404, { error: 'not found' });
    const target = m[2] === '/reviews' ? ['reviews', `/reviews/${m[1]}`] : m[2] === '/ratings' ? ['ratings', `/ratings/${m[1]}`] : ['details', `/details/${m[1]}`];
    const r = await out.call(target[0]!, target[1]!, req.headers);
    if (r.status === 200) res.writeHead(200, { 'content-type': 'application/json' }).end(r.body);
    else json(res, 503, { error: `${target[0]} unavailable`, detail: failure(r) });
  };
}

export interface RunningService {
  instance: InstancePorts;
  server: http.Server;
}

export interface RunningServices {
  services: RunningService[];
  close(): Promise<void>;
}

/** Starts every instance's app server; rejects if a port cannot be bound. */
export async function startServices(instances: InstancePorts[]): Promise<RunningServices> {
  const outbounds: Outbound[] = [];
  const services: RunningService[] = [];
  const close = async () => {
    for (const o of outbounds) o.close();
    await Promise.all(
      services.map(
        (s) =>
          new Promise<void>((r) => {
            s.server.close(() => r());
            s.server.closeAllConnections();
          }),
      ),
    );
  };
  try {
    for (const inst of instances) {
      const out = new Outbound(inst.outbound);
      outbounds.push(out);
      const handler =
        inst.service === 'productpage' ? productpage(out) : inst.service === 'details' ? details(inst) : inst.service === 'reviews' ? reviews(inst, out) : ratings(inst);
      const server = http.createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0]!;
        Promise.resolve(handler(req, res, path)).catch((e: Error) => {
          if (!res.headersSent) json(res, 500, { error: e.message });
          else res.destroy();
        });
      });
      // Longer than the sidecar's upstream idle timeout (60 s): the proxy closes idle connections, not the app,
      // so the proxy never reuses a connection the app is closing.
      server.keepAliveTimeout = 75_000;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(inst.app, HOST, () => {
          server.off('error', reject);
          resolve();
        });
      });
      services.push({ instance: inst, server });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { services, close };
}
