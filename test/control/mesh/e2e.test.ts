// End to end: a mesh with a `reviews` service (3 real upstreams labelled
// v1/v2/v3), the issue's DestinationRule and 90/10 VirtualService bound to a
// Gateway, translated into a gateway config and run in a real proxy. 2000
// requests must split 90/10 within ±3 points; a second route with a fault
// delay checks that per-route faults (the fault filter's `routes`, matched
// against the router's route_name) hit only their route, whatever headers the
// client sends; a third route with its own retry policy checks that the retry
// filter's per-route `policies` apply to that route only.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { parseMesh, renderProxyConfig } from '../../../control/mesh';
import { request } from '../../support/http';
import { startProxy, type RunningProxy } from '../../support/proxy';
import { startUpstream, type Upstream } from '../../support/upstream';
import { ISSUE_DESTINATION_RULE_AND_SPLIT, gateway, reviewsService } from './fixtures';

const [RULE] = ISSUE_DESTINATION_RULE_AND_SPLIT.split('\n---\n') as [string, string];

const VIRTUAL_SERVICE = `apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  gateways:
  - bookinfo-gateway
  http:
  - name: slow
    match:
    - uri: { prefix: /slow }
    fault:
      delay:
        percentage: { value: 100 }
        fixedDelay: 400ms
    route:
    - destination:
        host: reviews
        subset: v2
  - name: flaky
    match:
    - uri: { prefix: /flaky }
    retries: { attempts: 3, retryOn: 5xx }
    route:
    - destination:
        host: reviews
        subset: v3
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 90
    - destination:
        host: reviews
        subset: v3
      weight: 10
`;

describe('control/mesh e2e: gateway from Istio resources', () => {
  const upstreams: Upstream[] = [];
  let proxy: RunningProxy;
  /** Requests seen by the upstreams, by path. */
  const hits: Record<string, number> = {};
  /** Request header names that reached any upstream. */
  const seenHeaders = new Set<string>();

  before(async () => {
    for (const v of ['v1', 'v2', 'v3']) {
      upstreams.push(
        await startUpstream((req, res) => {
          const p = req.url ?? '';
          hits[p] = (hits[p] ?? 0) + 1;
          for (const h of Object.keys(req.headers)) seenHeaders.add(h);
          // /flaky*: 500 twice, then 200; /fail: always 500.
          if ((p.startsWith('/flaky') && hits[p]! <= 2) || p.includes('/fail')) {
            res.statusCode = 500;
            res.end(`${v} failed`);
            return;
          }
          res.end(v);
        }, v),
      );
    }
    const mesh = parseMesh(
      `${reviewsService(upstreams.map((u) => u.address) as [string, string, string])}---\n${RULE}\n---\n${gateway()}---\n${VIRTUAL_SERVICE}`,
      'mesh.yaml',
    );
    const yaml = renderProxyConfig(mesh, { kind: 'gateway', name: 'bookinfo-gateway', listen: '127.0.0.1:0', admin: '127.0.0.1:0' });
    proxy = await startProxy(yaml);
  });

  after(async () => {
    await proxy?.stop();
    for (const u of upstreams) await u.close();
  });

  it('splits 2000 requests 90/10 between v1 and v3 (±3%), and never delays them', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const counts: Record<string, number> = {};
    let slowest = 0;
    const N = 2000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N) {
          next++;
          const t = Date.now();
          const r = await request({ port: proxy.port, path: '/reviews/1', headers: { host: 'reviews' }, agent });
          slowest = Math.max(slowest, Date.now() - t);
          assert.equal(r.status, 200, r.body.toString());
          const who = r.body.toString();
          counts[who] = (counts[who] ?? 0) + 1;
        }
      }),
    );
    agent.destroy();
    assert.equal((counts.v1 ?? 0) + (counts.v3 ?? 0), N, JSON.stringify(counts));
    assert.equal(counts.v2, undefined);
    const share = (counts.v1 ?? 0) / N;
    assert.ok(Math.abs(share - 0.9) <= 0.03, `v1 share ${share} (${JSON.stringify(counts)})`);
    assert.ok(slowest < 400, `a request of the split route took ${slowest} ms: the fault leaked onto it`);
  });

  it('delays only the route that carries the fault', async () => {
    const t = Date.now();
    const r = await request({ port: proxy.port, path: '/slow', headers: { host: 'reviews' } });
    const took = Date.now() - t;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'v2');
    assert.ok(took >= 390, `took ${took} ms`);
    // No marker header reaches the upstream.
    assert.ok(!seenHeaders.has('x-wasmesh-route'), [...seenHeaders].join(', '));
    // A client cannot select the fault on another route by sending headers: the fault follows the
    // route the router picked (the route_name property), which no request header sets.
    for (const headers of [
      { 'x-wasmesh-route': 'reviews/slow' },
      { 'x-wasmesh-route': 'slow' },
      { 'x-route-name': 'reviews/slow', 'route-name': 'reviews/slow', 'x-envoy-fault-delay-request': '400' },
    ]) {
      const t2 = Date.now();
      const r2 = await request({ port: proxy.port, path: '/reviews/1', headers: { host: 'reviews', ...headers } });
      assert.equal(r2.status, 200);
      assert.ok(Date.now() - t2 < 390, `${JSON.stringify(headers)}: took ${Date.now() - t2} ms`);
    }
  });

  it("retries by the route's own policy: 5xx on /flaky, the default (503 only) elsewhere", async () => {
    const r = await request({ port: proxy.port, path: '/flaky/1', headers: { host: 'reviews' } });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.body.toString(), 'v3');
    assert.equal(r.headers['x-wasmesh-attempts'], '3');
    assert.equal(hits['/flaky/1'], 3);
    // The split route has Istio's default policy: a 500 is not retried.
    const d = await request({ port: proxy.port, path: '/reviews/fail', headers: { host: 'reviews' } });
    assert.equal(d.status, 500);
    assert.equal(d.headers['x-wasmesh-attempts'], '1');
    assert.equal(hits['/reviews/fail'], 1);
    // /flaky/fail: 500 every time, so 1 + 3 attempts.
    const f = await request({ port: proxy.port, path: '/flaky/fail', headers: { host: 'reviews' } });
    assert.equal(f.status, 500);
    assert.equal(f.headers['x-wasmesh-attempts'], '4');
    assert.equal(hits['/flaky/fail'], 4);
  });
});
