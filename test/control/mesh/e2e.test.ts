// End to end: a mesh with a `reviews` service (3 real upstreams labelled
// v1/v2/v3), the issue's DestinationRule and 90/10 VirtualService bound to a
// Gateway, translated into a gateway config and run in a real proxy. 2000
// requests must split 90/10 within ±3 points; a second route with a fault
// delay checks that per-route faults (router marker header + fault filter)
// hit only their route.
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

  before(async () => {
    for (const v of ['v1', 'v2', 'v3']) upstreams.push(await startUpstream((_req, res) => res.end(v), v));
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
    // A client cannot select the fault by sending the router's marker header on another route.
    const t2 = Date.now();
    const r2 = await request({ port: proxy.port, path: '/reviews/1', headers: { host: 'reviews', 'x-wasmesh-route': 'reviews/slow' } });
    assert.equal(r2.status, 200);
    assert.ok(Date.now() - t2 < 390, `took ${Date.now() - t2} ms`);
  });
});
