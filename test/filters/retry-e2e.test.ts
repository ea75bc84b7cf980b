// The retry filter in a real proxy (module: builtin:retry) against real
// upstreams: 503s retried to success, a POST body replayed intact, a body over
// the replay cap not retried, a connect failure retried to another endpoint of
// the cluster, a reset and a per-try timeout retried, and the counters.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request } from '../support/http';
import { startProxy, type RunningProxy } from '../support/proxy';
import { closedPort, startRawUpstream, startUpstream, type Upstream } from '../support/upstream';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('retry filter (end to end)', () => {
  /** Fails the first `failFirst[path]` requests of each path with 503. */
  const failFirst: Record<string, number> = { '/flaky': 2, '/post': 1, '/chunked': 1, '/big': 1, '/always': 1000, '/create': 1 };
  const seen: Record<string, number> = {};
  const bodies: Record<string, string[]> = {};
  let web: Upstream;
  let slow: Upstream;
  let good: Upstream;
  let raw: Awaited<ReturnType<typeof startRawUpstream>>;
  let rawConns = 0;
  let slowHits = 0;
  let px: RunningProxy;

  before(async () => {
    web = await startUpstream(async (req, res) => {
      const p = req.url ?? '/';
      const body = await readBody(req);
      (bodies[p] ??= []).push(sha(body) + ':' + body.length);
      const n = (seen[p] = (seen[p] ?? 0) + 1);
      if (n <= (failFirst[p] ?? 0)) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end(`failing ${n}\n`);
        return;
      }
      res.end(`ok after ${n}\n`);
    }, 'web');
    good = await startUpstream((_req, res) => res.end('good\n'), 'good');
    // First request hangs past the per-try timeout; later ones answer.
    slow = await startUpstream((_req, res) => {
      if (++slowHits === 1) return; // never answers (the proxy's per-try timeout fires)
      res.end('in time\n');
    }, 'slow');
    // Resets the first connection's request; answers the others.
    raw = await startRawUpstream((s) => {
      const n = ++rawConns;
      s.once('data', () => {
        if (n === 1) s.destroy();
        else s.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nfresh\n');
      });
    });
    const dead = await closedPort();
    const retry = (name: string, config: object): string => `  - name: ${name}
    address: 127.0.0.1:0
    defaultCluster: ${name}
    filters:
      - name: retry
        module: builtin:retry
        config: ${JSON.stringify(config)}
`;
    const base = { attempts: 2, retryOn: '5xx,gateway-error,reset,connect-failure', backoff: { baseMs: 5, maxMs: 20 } };
    px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
${retry('web', { ...base, retryNonIdempotent: true, maxReplayBytes: 1048576 })}${retry('strict', { ...base })}${retry('small', { ...base, retryNonIdempotent: true, maxReplayBytes: 1024 })}${retry('mixed', base)}${retry('slow', { ...base, perTryTimeoutMs: 300 })}${retry('raw', base)}${retry('dead', base)}clusters:
  - { name: web, endpoints: [${web.address}] }
  - { name: strict, endpoints: [${web.address}] }
  - { name: small, endpoints: [${web.address}] }
  - { name: mixed, endpoints: [127.0.0.1:${dead}, ${good.address}] }
  - { name: slow, endpoints: [${slow.address}], timeout: 5s }
  - { name: raw, endpoints: [${raw.address}] }
  - { name: dead, endpoints: [127.0.0.1:${dead}] }
`);
  });

  after(async () => {
    await px?.stop();
    await Promise.all([web?.close(), good?.close(), slow?.close(), raw?.close()]);
  });

  it('an upstream failing the first 2 requests with 503: the client sees 200 after 3 attempts', async () => {
    const r = await request({ port: px.ports.web!, path: '/flaky' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok after 3\n');
    assert.equal(r.headers['x-wasmesh-attempts'], '3');
    assert.equal(seen['/flaky'], 3, 'the upstream saw N+1 requests');
  });

  it('attempts exhausted: the last 503 reaches the client', async () => {
    const r = await request({ port: px.ports.web!, path: '/always' });
    assert.equal(r.status, 503);
    assert.equal(r.body.toString(), 'failing 3\n', 'the last attempt\'s own response');
    assert.equal(r.headers['x-wasmesh-attempts'], '3');
    assert.equal(seen['/always'], 3);
  });

  it('a POST body is replayed intact on retry (retryNonIdempotent)', async () => {
    const body = randomBytes(200 * 1024);
    const r = await request({ port: px.ports.web!, path: '/post', method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-wasmesh-attempts'], '2');
    assert.deepEqual(bodies['/post'], [`${sha(body)}:${body.length}`, `${sha(body)}:${body.length}`]);
  });

  it('a chunked POST body (no content-length) is replayed intact too', async () => {
    const parts = [randomBytes(10_000), randomBytes(30_000), randomBytes(5)];
    const whole = Buffer.concat(parts);
    const r = await new Promise<{ status: number; attempts: unknown }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: px.ports.web!, path: '/chunked', method: 'POST', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, attempts: res.headers['x-wasmesh-attempts'] }));
      });
      req.on('error', reject);
      let i = 0;
      const next = (): void => {
        if (i === parts.length) return void req.end();
        req.write(parts[i++]);
        setTimeout(next, 10);
      };
      next();
    });
    assert.equal(r.status, 200);
    assert.equal(r.attempts, '2');
    assert.deepEqual(bodies['/chunked'], [`${sha(whole)}:${whole.length}`, `${sha(whole)}:${whole.length}`]);
  });

  it('without retryNonIdempotent a POST is not retried', async () => {
    const r = await request({ port: px.ports.strict!, path: '/create', method: 'POST', body: 'x=1' });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-wasmesh-attempts'], '1');
    assert.equal(seen['/create'], 1);
  });

  it('a body over maxReplayBytes cannot be replayed: the 503 goes through', async () => {
    const body = randomBytes(4096);
    const r = await request({ port: px.ports.small!, path: '/big', method: 'PUT', body });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-wasmesh-attempts'], '1');
    assert.equal(seen['/big'], 1);
  });

  it('connect failure to a closed endpoint is retried to the good endpoint of the cluster (round robin)', async () => {
    const before = good.hits;
    const attempts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await request({ port: px.ports.mixed!, path: `/cf${i}` });
      assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.headers['x-wasmesh-reason'] ?? ''}`);
      assert.equal(r.body.toString(), 'good\n');
      attempts.push(String(r.headers['x-wasmesh-attempts']));
    }
    assert.equal(good.hits - before, 4);
    assert.ok(attempts.includes('2'), `some requests hit the closed endpoint first and were retried: ${attempts}`);
    assert.ok(attempts.every((a) => a === '1' || a === '2'), `${attempts}`);
  });

  it('a POST is retried after a connect failure even without retryNonIdempotent (nothing was sent)', async () => {
    const attempts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await request({ port: px.ports.mixed!, path: '/cf-post', method: 'POST', body: 'payload' });
      assert.equal(r.status, 200);
      attempts.push(String(r.headers['x-wasmesh-attempts']));
    }
    assert.ok(attempts.includes('2'), `${attempts}`);
  });

  it('connect failures until attempts run out: the core 503 UF reaches the client, with the attempts', async () => {
    const r = await request({ port: px.ports.dead! });
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-wasmesh-reason'], 'UF');
    assert.equal(r.headers['x-wasmesh-attempts'], '3');
  });

  it('an upstream reset (UC) is retried', async () => {
    const r = await request({ port: px.ports.raw!, path: '/' });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'fresh\n');
    assert.equal(r.headers['x-wasmesh-attempts'], '2');
    assert.equal(rawConns, 2);
  });

  it('a per-try timeout (UT) is retried and the next attempt answers', async () => {
    const t0 = Date.now();
    const r = await request({ port: px.ports.slow!, path: '/' });
    const ms = Date.now() - t0;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'in time\n');
    assert.equal(r.headers['x-wasmesh-attempts'], '2');
    assert.ok(ms >= 290 && ms < 3000, `took ${ms} ms (per-try timeout 300 ms)`);
    assert.equal(slowHits, 2);
  });

  it('counters are exported', async () => {
    const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    assert.ok(metric(stats, 'wasmesh_filter_retry_rq_retry') >= 8, stats.split('\n').filter((l) => l.includes('retry')).join('\n'));
    assert.ok(metric(stats, 'wasmesh_filter_retry_rq_retry_success') >= 5);
    assert.ok(metric(stats, 'wasmesh_filter_retry_rq_retry_exhausted') >= 1);
    assert.ok(metric(stats, 'wasmesh_filter_retry_rq_retry_not_replayable') >= 1);
  });
});
