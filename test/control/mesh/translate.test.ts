// The two documents of issue 4, verbatim, parsed and translated: clusters per
// subset, the router's 90/10 weighted split, and the 7 s fault on its route.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildProxyConfig, buildProxyDocument, parseMesh, renderProxyConfig } from '../../../control/mesh';
import { ISSUE_DESTINATION_RULE_AND_SPLIT, ISSUE_FAULT_VIRTUAL_SERVICE, gateway, reviewsService } from './fixtures';

const SERVICE = reviewsService(['10.0.0.1:9080', '10.0.0.2:9080', '10.0.0.3:9080']);
const RULE = ISSUE_DESTINATION_RULE_AND_SPLIT.split('\n---\n')[0]!;

function filter(config: ReturnType<typeof buildProxyConfig>, name: string): { name: string; module: string; config: any } {
  const f = config.listeners[0]!.filters.find((x) => x.name === name);
  assert.ok(f, `no filter ${name} in ${config.listeners[0]!.filters.map((x) => x.name).join(', ')}`);
  return f as any;
}

describe('control/mesh: issue 4 documents', () => {
  it('parses the DestinationRule and the 90/10 VirtualService verbatim', () => {
    const mesh = parseMesh(`${SERVICE}---\n${ISSUE_DESTINATION_RULE_AND_SPLIT}`, 'mesh.yaml');
    assert.deepEqual(mesh.resources.map((r) => r.kind), ['Service', 'DestinationRule', 'VirtualService']);
    const dr = mesh.resources[1]!;
    assert.equal(dr.kind, 'DestinationRule');
    if (dr.kind === 'DestinationRule') assert.deepEqual(dr.subsets.map((s) => [s.name, s.labels.version]), [['v1', 'v1'], ['v2', 'v2'], ['v3', 'v3']]);
  });

  it('translates the split into subset clusters and a weighted router route (sidecar)', () => {
    const mesh = parseMesh(`${SERVICE}---\n${ISSUE_DESTINATION_RULE_AND_SPLIT}`, 'mesh.yaml');
    const config = buildProxyConfig(mesh, { kind: 'sidecar', listen: '127.0.0.1:0', admin: '127.0.0.1:0' });
    // Only the clusters the routes use: v2 is defined but not routed to.
    assert.deepEqual(config.clusters.map((c) => [c.name, c.endpoints.map((e) => `${e.host}:${e.port}`)]), [
      ['reviews|v1', ['10.0.0.1:9080']],
      ['reviews|v3', ['10.0.0.3:9080']],
    ]);
    assert.deepEqual(config.listeners[0]!.filters.map((f) => f.name), ['router', 'retry']);
    const router = filter(config, 'router');
    assert.equal(router.module, 'builtin:router');
    assert.deepEqual(router.config, {
      virtualHosts: [
        {
          name: 'reviews.default',
          domains: ['reviews', 'reviews.default', 'reviews.default.svc', 'reviews.default.svc.cluster.local'],
          routes: [
            {
              name: 'reviews/0',
              match: { prefix: '/' },
              route: { weightedClusters: [{ cluster: 'reviews|v1', weight: 90 }, { cluster: 'reviews|v3', weight: 10 }] },
            },
          ],
        },
      ],
    });
    // Istio's mesh default retry policy: attempts 2, default retryOn.
    assert.deepEqual(filter(config, 'retry').config, { attempts: 2 });
  });

  it('translates the replacement VirtualService: all to v3, with a 7 s delay on that route', () => {
    const mesh = parseMesh(`${SERVICE}---\n${RULE}\n---\n${ISSUE_FAULT_VIRTUAL_SERVICE}`, 'mesh.yaml');
    const config = buildProxyConfig(mesh, { kind: 'sidecar' });
    assert.deepEqual(config.clusters.map((c) => c.name), ['reviews|v3']);
    assert.deepEqual(config.listeners[0]!.filters.map((f) => f.name), ['router', 'fault-0', 'retry']);
    const route = filter(config, 'router').config.virtualHosts[0].routes[0];
    assert.deepEqual(route, {
      name: 'reviews/0',
      match: { prefix: '/' },
      route: { cluster: 'reviews|v3' },
    });
    // Restricted to its route by the router's route_name, with no marker header.
    assert.deepEqual(filter(config, 'fault-0').config, {
      delay: { fixedDelayMs: 7000, percentage: 100 },
      routes: ['reviews/0'],
    });
    assert.doesNotMatch(renderProxyConfig(mesh, { kind: 'sidecar' }), /x-wasmesh-route/);
  });

  it('applies DestinationRule traffic policies to the subset clusters', () => {
    const rule = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews.default.svc.cluster.local
  trafficPolicy:
    loadBalancer: { simple: LEAST_REQUEST }
    connectionPool:
      tcp: { maxConnections: 100, connectTimeout: 2s }
      http: { http1MaxPendingRequests: 10, idleTimeout: 30s }
    outlierDetection: { consecutive5xxErrors: 3, interval: 5s, baseEjectionTime: 1m, maxEjectionPercent: 50 }
  subsets:
  - name: v1
    labels: { version: v1 }
    trafficPolicy:
      loadBalancer:
        consistentHash: { httpHeaderName: x-user }
  - name: v3
    labels: { version: v3 }
`;
    const mesh = parseMesh(`${SERVICE}---\n${rule}---\n${ISSUE_DESTINATION_RULE_AND_SPLIT.split('\n---\n')[1]}`);
    const config = buildProxyConfig(mesh, { kind: 'sidecar' });
    const v1 = config.clusters.find((c) => c.name === 'reviews|v1')!;
    const v3 = config.clusters.find((c) => c.name === 'reviews|v3')!;
    assert.equal(v1.lb, 'ring_hash');
    assert.deepEqual(v1.hashOn, { kind: 'header', name: 'x-user' });
    assert.equal(v3.lb, 'least_request');
    for (const c of [v1, v3]) {
      assert.equal(c.maxConnections, 100);
      assert.equal(c.connectTimeoutMs, 2000);
      assert.equal(c.maxPendingRequests, 10);
      assert.equal(c.idleTimeoutMs, 30_000);
      assert.deepEqual(c.outlierDetection, { consecutive5xx: 3, intervalMs: 5000, baseEjectionTimeMs: 60_000, maxEjectionPercent: 50 });
    }
  });

  it('translates matches, rewrite, redirect, timeout, retries, headers and authz for a gateway', () => {
    const vs = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: bookinfo }
spec:
  hosts: ["bookinfo.example.com"]
  gateways: [bookinfo-gateway]
  http:
  - name: api
    match:
    - uri: { prefix: /api/ }
      method: { exact: GET }
      headers: { x-canary: { exact: "1" } }
      queryParams: { debug: { regex: "[01]" } }
    - uri: { regex: "/v[0-9]+/reviews" }
    rewrite: { uri: /, authority: reviews.internal }
    timeout: 3s
    retries: { attempts: 3, perTryTimeout: 1s, retryOn: "5xx,503" }
    headers:
      request: { set: { x-a: "1" }, add: { x-b: "2" }, remove: [x-c] }
      response: { remove: [server] }
    route:
    - destination: { host: reviews, subset: v1 }
  - name: old
    match: [{ uri: { exact: /old } }]
    redirect: { uri: /new, redirectCode: 302 }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin }
spec:
  action: DENY
  rules:
  - to: [{ operation: { paths: ["/admin/*"] } }]
`;
    const mesh = parseMesh(`${SERVICE}---\n${RULE}\n---\n${gateway()}---\n${vs}`);
    const doc = buildProxyDocument(mesh, { kind: 'gateway', name: 'bookinfo-gateway', listen: '127.0.0.1:0', admin: '127.0.0.1:0' }) as any;
    const config = buildProxyConfig(mesh, { kind: 'gateway', name: 'bookinfo-gateway', listen: '127.0.0.1:0', admin: '127.0.0.1:0' });
    assert.deepEqual(config.listeners[0]!.filters.map((f) => f.name), ['authz', 'router', 'retry']);
    assert.deepEqual(filter(config, 'authz').config, {
      policies: [{ name: 'default/deny-admin', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] }],
    });
    const vh = doc.listeners[0].filters[1].config.virtualHosts[0];
    assert.deepEqual(vh.domains, ['bookinfo.example.com']);
    const [a, b, old] = vh.routes;
    assert.deepEqual(a.match, {
      prefix: '/api/',
      methods: ['GET'],
      headers: [{ name: 'x-canary', exact: '1' }],
      queryParams: [{ name: 'debug', regex: '[01]' }],
    });
    assert.deepEqual(b.match, { regex: '/v[0-9]+/reviews' });
    assert.deepEqual(a.route, { cluster: 'reviews|v1', timeoutMs: 3000, perTryTimeoutMs: 1000, prefixRewrite: '/', hostRewrite: 'reviews.internal' });
    assert.deepEqual(a.requestHeadersToAdd, [{ name: 'x-a', value: '1', append: false }, { name: 'x-b', value: '2', append: true }]);
    assert.deepEqual(a.requestHeadersToRemove, ['x-c']);
    assert.deepEqual(a.responseHeadersToRemove, ['server']);
    assert.deepEqual(old, { name: 'bookinfo/old', match: { path: '/old' }, redirect: { path: '/new', responseCode: 302 } });
    // Istio's default for routes without retries; the api route's own policy (its perTryTimeout too,
    // so that the filter can tell a per-try timeout from the global one).
    assert.deepEqual(filter(config, 'retry').config, {
      attempts: 2,
      policies: [{ routes: ['bookinfo/api'], attempts: 3, perTryTimeoutMs: 1000, retryOn: '5xx,retriable-status-codes', retriableStatusCodes: [503] }],
    });
  });

  it('gives routes with different retry policies their own policy in one retry filter', () => {
    const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - match: [{ uri: { prefix: /a } }, { uri: { prefix: /aa } }]
    retries: { attempts: 5 }
    route: [{ destination: { host: reviews } }]
  - name: none
    match: [{ uri: { prefix: /none } }]
    retries: { attempts: 0, perTryTimeout: 1s }
    route: [{ destination: { host: reviews } }]
  - name: also-five
    match: [{ uri: { prefix: /b } }]
    retries: { attempts: 5 }
    route: [{ destination: { host: reviews } }]
  - name: same-as-default
    match: [{ uri: { prefix: /c } }]
    retries: { attempts: 2 }
    route: [{ destination: { host: reviews } }]
  - route: [{ destination: { host: reviews } }]
`;
    const mesh = parseMesh(`${SERVICE}---\n${vs}`);
    const config = buildProxyConfig(mesh, { kind: 'sidecar' });
    assert.deepEqual(config.listeners[0]!.filters.map((f) => f.name), ['router', 'retry']);
    assert.deepEqual(filter(config, 'retry').config, {
      attempts: 2,
      policies: [
        { routes: ['reviews/0', 'reviews/also-five'], attempts: 5 },
        { routes: ['reviews/none'], attempts: 0 },
      ],
    });
    // attempts 0 sets no per-try timeout in the router either.
    assert.equal(filter(config, 'router').config.virtualHosts[0].routes[2].route.perTryTimeoutMs, undefined);
  });

  it('leaves the retry filter out when no route retries', () => {
    const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - match: [{ uri: { prefix: /a } }]
    retries: { attempts: 0 }
    route: [{ destination: { host: reviews } }]
  - retries: { attempts: 0 }
    route: [{ destination: { host: reviews } }]
`;
    const config = buildProxyConfig(parseMesh(`${SERVICE}---\n${vs}`), { kind: 'sidecar' });
    assert.deepEqual(config.listeners[0]!.filters.map((f) => f.name), ['router']);
  });

  it('puts one fault filter per faulty route, restricted by route name, and no marker header anywhere', () => {
    const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews.default.svc.cluster.local]
  http:
  - name: slow
    match: [{ uri: { prefix: /slow } }, { headers: { x-slow: { exact: "1" } } }]
    fault: { delay: { fixedDelay: 1s, percentage: { value: 50 } } }
    route: [{ destination: { host: reviews.default.svc.cluster.local } }]
  - name: broken
    match: [{ uri: { prefix: /broken } }]
    fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }
    route: [{ destination: { host: reviews.default.svc.cluster.local } }]
  - route: [{ destination: { host: reviews.default.svc.cluster.local } }]
`;
    const mesh = parseMesh(`${SERVICE}---\n${vs}`);
    const config = buildProxyConfig(mesh, { kind: 'sidecar' });
    assert.deepEqual(config.listeners[0]!.filters.map((f) => f.name), ['router', 'fault-0', 'fault-1', 'retry']);
    assert.deepEqual(filter(config, 'fault-0').config, { delay: { fixedDelayMs: 1000, percentage: 50 }, routes: ['shop/reviews/slow'] });
    assert.deepEqual(filter(config, 'fault-1').config, { abort: { httpStatus: 503, percentage: 100 }, routes: ['shop/reviews/broken'] });
    const routes = filter(config, 'router').config.virtualHosts[0].routes;
    // Both matches of "slow" become router routes with the same name, so the fault follows either.
    assert.deepEqual(routes.map((r: any) => r.name), ['shop/reviews/slow', 'shop/reviews/slow', 'shop/reviews/broken', 'shop/reviews/2']);
    for (const r of routes) {
      assert.equal(r.requestHeadersToAdd, undefined);
      assert.equal(r.requestHeadersToRemove, undefined);
    }
    assert.doesNotMatch(renderProxyConfig(mesh, { kind: 'sidecar' }), /x-wasmesh-route/);
  });

  it('refuses a route name shared by two routes when a fault or retry policy would leak across', () => {
    const vs = (second: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - name: x
    match: [{ uri: { prefix: /a } }]
    fault: { abort: { httpStatus: 503 } }
    route: [{ destination: { host: reviews } }]
  - name: x
${second}    route: [{ destination: { host: reviews } }]
`;
    assert.throws(() => buildProxyConfig(parseMesh(`${SERVICE}---\n${vs('')}`), { kind: 'sidecar' }), (e: any) => {
      assert.equal(e.code, 'WASMESH_ERR_CONFIG');
      assert.match(e.problems[0], /route name "reviews\/x" is used by VirtualService default\/reviews http\[0\] and VirtualService default\/reviews http\[1\]; .* a fault of one would apply to the other/);
      return true;
    });
    const noFault = vs('').replace('    fault: { abort: { httpStatus: 503 } }\n', '    retries: { attempts: 4 }\n');
    assert.throws(() => buildProxyConfig(parseMesh(`${SERVICE}---\n${noFault}`), { kind: 'sidecar' }), /the retry policy of one would apply to the other/);
    // The same policy on both is harmless.
    const same = noFault.replace('  - name: x\n    route', '  - name: x\n    retries: { attempts: 4 }\n    route');
    assert.doesNotThrow(() => buildProxyConfig(parseMesh(`${SERVICE}---\n${same}`), { kind: 'sidecar' }));
  });

  it('gives a routed subset that selects no endpoints an empty cluster (503 UH until an instance registers)', () => {
    const service = `apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata: { name: reviews }
spec:
  endpoints: [{ address: "10.0.0.1:9080", labels: { version: v1 } }]
`;
    const mesh = parseMesh(`${service}---\n${ISSUE_DESTINATION_RULE_AND_SPLIT}`);
    const config = buildProxyConfig(mesh, { kind: 'sidecar' });
    assert.deepEqual(config.clusters.find((c) => c.name === 'reviews|v3')?.endpoints, []);
  });
});
