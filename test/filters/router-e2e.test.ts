// The router filter in a real proxy (module: builtin:router) in front of three
// real upstream clusters: routing by host and path, a 90/10 weighted split
// over 1000 requests, rewrites and header edits as the upstream sees them,
// redirects and direct responses, 404 NR, 503 NC, and the router's counters.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { request, type Res } from '../support/http';
import { startProxy, type RunningProxy } from '../support/proxy';
import { startUpstream, type Upstream } from '../support/upstream';

interface Echo {
  path: string;
  host: string;
  headers: http.IncomingHttpHeaders;
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

const ROUTER_CONFIG = {
  virtualHosts: [
    {
      name: 'reviews',
      domains: ['reviews', 'reviews.default.svc.cluster.local'],
      routes: [
        { name: 'reviews-canary', match: { prefix: '/', headers: [{ name: 'x-canary', exact: '1' }] }, route: { cluster: 'reviews-v3' } },
        {
          name: 'reviews-split',
          match: { prefix: '/' },
          route: { weightedClusters: [{ cluster: 'reviews-v1', weight: 90 }, { cluster: 'reviews-v3', weight: 10 }], timeoutMs: 5000 },
          responseHeadersToAdd: [{ name: 'x-route', value: 'reviews-split' }],
          responseHeadersToRemove: ['x-upstream-secret'],
        },
      ],
    },
    {
      name: 'ratings',
      domains: ['ratings', '*.ratings.example.com'],
      routes: [
        {
          name: 'ratings-api',
          match: { prefix: '/api/v1/', methods: ['GET', 'POST'] },
          route: { cluster: 'ratings', prefixRewrite: '/', hostRewrite: 'ratings.internal' },
          requestHeadersToAdd: [{ name: 'x-routed-by', value: 'wasmesh-router' }],
          requestHeadersToRemove: ['x-internal'],
        },
        { name: 'healthz', match: { path: '/healthz' }, directResponse: { status: 200, body: 'ok\n' } },
        { name: 'moved', match: { prefix: '/old/' }, redirect: { prefixRewrite: '/api/v1/', responseCode: 302 } },
        { name: 'ghost', match: { prefix: '/ghost' }, route: { cluster: 'no-such-cluster' } },
        { name: 'versioned', match: { regex: '/v[0-9]+/stars' }, route: { cluster: 'ratings' } },
      ],
    },
  ],
};

describe('router filter (end to end)', () => {
  let v1: Upstream;
  let v3: Upstream;
  let ratings: Upstream;
  let px: RunningProxy;
  let port = 0;

  const echo: http.RequestListener = (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-upstream-secret', 'leak');
    res.end(JSON.stringify({ path: req.url ?? '', host: req.headers.host ?? '', headers: req.headers } satisfies Echo));
  };

  before(async () => {
    v1 = await startUpstream(echo, 'reviews-v1');
    v3 = await startUpstream(echo, 'reviews-v3');
    ratings = await startUpstream(echo, 'ratings');
    px = await startProxy(`admin: { address: 127.0.0.1:0 }
listeners:
  - name: edge
    address: 127.0.0.1:0
    filters:
      - name: router
        module: builtin:router
        config: ${JSON.stringify(ROUTER_CONFIG)}
clusters:
  - { name: reviews-v1, endpoints: [${v1.address}] }
  - { name: reviews-v3, endpoints: [${v3.address}] }
  - { name: ratings, endpoints: [${ratings.address}] }
`);
    port = px.ports.edge!;
  });

  after(async () => {
    await px?.stop();
    await Promise.all([v1?.close(), v3?.close(), ratings?.close()]);
  });

  const get = (host: string, p: string, headers: http.OutgoingHttpHeaders = {}, agent?: http.Agent): Promise<Res> =>
    request({ port, path: p, headers: { host, ...headers }, agent });

  it('routes by host and path', async () => {
    let r = await get('reviews', '/reviews/1', { 'x-canary': '1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'reviews-v3');
    r = await get('Reviews.Default.svc.cluster.local:9080', '/', { 'x-canary': '1' });
    assert.equal(r.headers['x-upstream'], 'reviews-v3', 'case-insensitive, port stripped');
    r = await get('ratings', '/api/v1/stars');
    assert.equal(r.headers['x-upstream'], 'ratings');
    r = await get('eu.ratings.example.com', '/v2/stars');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'ratings', 'wildcard domain + regex route');
    assert.equal((JSON.parse(r.body.toString()) as Echo).path, '/v2/stars');
  });

  it('splits 90/10 over 1000 requests within 5%', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const counts: Record<string, number> = {};
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 1000) {
        next++;
        const r = await get('reviews', '/reviews', {}, agent);
        assert.equal(r.status, 200);
        assert.equal(r.headers['x-route'], 'reviews-split', 'responseHeadersToAdd');
        assert.equal(r.headers['x-upstream-secret'], undefined, 'responseHeadersToRemove');
        const u = String(r.headers['x-upstream']);
        counts[u] = (counts[u] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    agent.destroy();
    assert.equal((counts['reviews-v1'] ?? 0) + (counts['reviews-v3'] ?? 0), 1000, JSON.stringify(counts));
    const share = (counts['reviews-v3'] ?? 0) / 1000;
    assert.ok(Math.abs(share - 0.1) <= 0.05, `reviews-v3 got ${share * 100}% (${JSON.stringify(counts)})`);
  });

  it('the upstream sees the rewritten path and host and the edited headers', async () => {
    const r = await get('ratings', '/api/v1/stars/7?lang=en&x=%20', { 'x-internal': 'secret', 'x-keep': 'yes' });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body.toString()) as Echo;
    assert.equal(seen.path, '/stars/7?lang=en&x=%20', 'prefix rewritten, query kept');
    assert.equal(seen.host, 'ratings.internal');
    assert.equal(seen.headers['x-routed-by'], 'wasmesh-router');
    assert.equal(seen.headers['x-internal'], undefined);
    assert.equal(seen.headers['x-keep'], 'yes');
  });

  it('answers 404 NR when no virtual host or route matches', async () => {
    for (const [host, p] of [['unknown.example.org', '/'], ['ratings', '/nothing-here'], ['ratings', '/api/v1'], ['ratings', '/api/v1/x?m=DELETE']]) {
      const r = await request({ port, path: p, method: p.includes('DELETE') ? 'DELETE' : 'GET', headers: { host } });
      assert.equal(r.status, 404, `${host}${p}`);
      assert.equal(r.headers['x-wasmesh-reason'], 'NR', `${host}${p}`);
    }
  });

  it('answers 503 NC for a route to an unknown cluster', async () => {
    const r = await get('ratings', '/ghost');
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-wasmesh-reason'], 'NC');
  });

  it('serves redirects and direct responses without an upstream', async () => {
    const before = ratings.hits;
    let r = await get('ratings', '/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ok\n');
    assert.equal(r.headers['content-type'], 'text/plain');
    r = await get('ratings:8080', '/old/stars?id=1');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'http://ratings:8080/api/v1/stars?id=1');
    assert.equal(ratings.hits, before);
  });

  it('counts what it did', async () => {
    const stats = (await request({ port: px.adminPort, path: '/stats/prometheus' })).body.toString();
    const m = (n: string): number => metric(stats, `wasmesh_filter_router_${n}`);
    assert.ok(m('rq_routed') >= 1005, stats.split('\n').filter((l) => l.includes('router')).join('\n'));
    assert.equal(m('rq_no_route'), 4);
    assert.equal(m('rq_no_cluster'), 1);
    assert.equal(m('rq_redirect'), 1);
    assert.equal(m('rq_direct_response'), 1);
  });
});
