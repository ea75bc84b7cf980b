// The sidecar's inbound listener: a catch-all route to the local app, behind
// the AuthorizationPolicies that select the workload (its namespace, by
// labels, plus the root namespace istio-system).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildProxyConfig, buildProxyDocument, parseMesh } from '../../../control/mesh';
import { reviewsService } from './fixtures';

const SERVICE = reviewsService(['10.0.0.1:9080', '10.0.0.2:9080', '10.0.0.3:9080']);

function policy(name: string, namespace: string, selector: string | null, action = 'DENY'): string {
  return `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: ${namespace} }
spec:
${selector === null ? '' : `  selector: { matchLabels: { ${selector} } }\n`}  action: ${action}
  rules: [{ to: [{ operation: { paths: ["/${name}"] } }] }]
`;
}

const POLICIES = [
  policy('by-labels', 'shop', 'app: reviews'),
  policy('by-two-labels', 'shop', 'app: reviews, version: v1', 'ALLOW'),
  policy('other-app', 'shop', 'app: ratings'),
  policy('other-version', 'shop', 'app: reviews, version: v2'),
  policy('namespace-wide', 'shop', null),
  policy('other-namespace', 'default', null),
  policy('root', 'istio-system', null, 'AUDIT'),
  policy('root-selected', 'istio-system', 'app: reviews'),
  policy('root-other', 'istio-system', 'app: ratings'),
].join('---\n');

const TARGET = {
  kind: 'sidecar',
  namespace: 'shop',
  labels: { app: 'reviews', version: 'v1' },
  service: 'reviews',
  inbound: { listen: '127.0.0.1:15006', app: '127.0.0.1:9080' },
} as const;

describe('control/mesh: sidecar inbound listener', () => {
  const mesh = parseMesh(`${SERVICE}---\n${POLICIES}`);

  it('routes everything to the app, behind the policies that select the workload', () => {
    const config = buildProxyConfig(mesh, TARGET);
    assert.deepEqual(config.listeners.map((l) => [l.name, `${l.address.host}:${l.address.port}`]), [
      ['outbound', '127.0.0.1:15001'],
      ['inbound', '127.0.0.1:15006'],
    ]);
    // Outbound: no authz (Istio enforces AuthorizationPolicy on the server side).
    assert.deepEqual(config.listeners[0]!.filters.map((f) => f.name), ['router', 'retry']);
    const inbound = config.listeners[1]!;
    assert.deepEqual(inbound.filters.map((f) => f.name), ['authz', 'router']);
    const authz = inbound.filters[0]!.config as { policies: { name: string; action: string }[] };
    assert.deepEqual(authz.policies.map((p) => `${p.name} ${p.action}`), [
      'shop/by-labels DENY',
      'shop/by-two-labels ALLOW',
      'shop/namespace-wide DENY',
      'istio-system/root AUDIT',
      'istio-system/root-selected DENY',
    ]);
    assert.deepEqual(inbound.filters[1]!.config, {
      virtualHosts: [{ name: 'inbound', domains: ['*'], routes: [{ name: 'inbound', match: { prefix: '/' }, route: { cluster: 'inbound|9080' } }] }],
    });
    const cluster = config.clusters.find((c) => c.name === 'inbound|9080')!;
    assert.deepEqual(cluster.endpoints, [{ host: '127.0.0.1', port: 9080 }]);
  });

  it('leaves authz out when no policy selects the workload, and has no inbound listener without `inbound`', () => {
    const config = buildProxyConfig(mesh, { ...TARGET, namespace: 'empty', labels: { app: 'ratings' }, inbound: { listen: '127.0.0.1:15006', app: '[::1]:8000' } });
    // Only istio-system/root (no selector) and root-other (app: ratings) apply.
    const inbound = config.listeners[1]!;
    assert.deepEqual((inbound.filters[0]!.config as any).policies.map((p: any) => p.name), ['istio-system/root', 'istio-system/root-other']);
    const bare = parseMesh(SERVICE);
    assert.deepEqual(buildProxyConfig(bare, TARGET).listeners[1]!.filters.map((f) => f.name), ['router']);
    assert.equal(buildProxyConfig(bare, { kind: 'sidecar' }).listeners.length, 1);
  });

  it('gateways get root-namespace policies too', () => {
    const gw = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: shop }
spec:
  selector: { app: reviews }
  servers: [{ port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: vs, namespace: shop }
spec:
  hosts: [reviews.default.svc.cluster.local]
  gateways: [gw]
  http: [{ route: [{ destination: { host: reviews.default.svc.cluster.local } }] }]
`;
    const doc = buildProxyDocument(parseMesh(`${SERVICE}---\n${POLICIES}---\n${gw}`), { kind: 'gateway', name: 'gw', namespace: 'shop' }) as any;
    assert.deepEqual(doc.listeners[0].filters[0].config.policies.map((p: any) => p.name), [
      'shop/by-labels', 'shop/namespace-wide', 'istio-system/root', 'istio-system/root-selected',
    ]);
  });

  it('reports an app address that is not host:port', () => {
    assert.throws(() => buildProxyConfig(mesh, { ...TARGET, inbound: { listen: '127.0.0.1:15006', app: 'localhost' } }), /sidecar inbound\.app: invalid address "localhost": missing port/);
  });
});
