// End to end: a sidecar with both listeners, run in a real proxy. The
// workload (labels app=reviews, version=v1, namespace shop) is a registered
// instance of service reviews at the inbound listener's address, in front of
// a real app. AuthorizationPolicies selected by its labels (and one of the
// root namespace) take effect on the inbound side, whether a request comes
// straight to the inbound listener or through the outbound one; a policy for
// another app does not.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseMesh, renderProxyConfig } from '../../../control/mesh';
import { request } from '../../support/http';
import { startProxy, type RunningProxy } from '../../support/proxy';
import { closedPort, startUpstream, type Upstream } from '../../support/upstream';

const MESH = `apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata: { name: reviews, namespace: shop }
spec:
  ports: [{ name: http, port: 9080 }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin/*"] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-get, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, version: v1 } }
  action: ALLOW
  rules: [{ to: [{ operation: { methods: [GET] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-everything, namespace: shop }
spec:
  selector: { matchLabels: { app: ratings } }
  action: DENY
  rules: [{}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-secret, namespace: istio-system }
spec:
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/secret"] } }] }]
`;

describe('control/mesh e2e: sidecar inbound listener with AuthorizationPolicy', () => {
  let app: Upstream;
  let proxy: RunningProxy;
  const seen: string[] = [];

  before(async () => {
    app = await startUpstream((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end(`app ${req.method} ${req.url}`);
    });
    const inboundPort = await closedPort();
    const labels = { app: 'reviews', version: 'v1' };
    const yaml = renderProxyConfig(
      parseMesh(MESH, 'mesh.yaml'),
      {
        kind: 'sidecar', namespace: 'shop', labels, service: 'reviews', listen: '127.0.0.1:0', admin: '127.0.0.1:0',
        inbound: { listen: `127.0.0.1:${inboundPort}`, app: app.address },
      },
      { instances: [{ service: 'reviews', namespace: 'shop', address: `127.0.0.1:${inboundPort}`, labels, nodeId: 'reviews-1' }] },
    );
    proxy = await startProxy(yaml);
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
  });

  it('passes allowed requests to the app', async () => {
    const r = await request({ port: proxy.ports.inbound!, path: '/reviews/1', headers: { host: 'anything' } });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.body.toString(), 'app GET /reviews/1');
  });

  it('denies by the policies that select the workload, before the app', async () => {
    const before = seen.length;
    const cases: [string, string][] = [['GET', '/admin/users'], ['POST', '/reviews/1'], ['GET', '/secret']];
    for (const [method, path] of cases) {
      const r = await request({ port: proxy.ports.inbound!, method, path });
      assert.equal(r.status, 403, `${method} ${path}: ${r.body.toString()}`);
      assert.equal(r.body.toString(), 'RBAC: access denied');
    }
    assert.equal(seen.length, before, seen.slice(before).join(', '));
  });

  it('enforces the same policies for a request through the outbound listener to the registered instance', async () => {
    const ok = await request({ port: proxy.ports.outbound!, path: '/reviews/2', headers: { host: 'reviews.shop' } });
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(ok.body.toString(), 'app GET /reviews/2');
    const denied = await request({ port: proxy.ports.outbound!, path: '/admin/x', headers: { host: 'reviews.shop.svc.cluster.local' } });
    assert.equal(denied.status, 403);
    assert.ok(!seen.includes('GET /admin/x'));
  });
});
