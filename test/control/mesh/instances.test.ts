// Registered instances as endpoints of their Service (after the static ones,
// selected by subsets through their labels), and the REST API's listings.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildProxyConfig, listRoutes, listServices, parseMesh, renderProxyConfig, type Instance } from '../../../control/mesh';
import { ISSUE_DESTINATION_RULE_AND_SPLIT, ISSUE_FAULT_VIRTUAL_SERVICE } from './fixtures';

const SERVICES = `apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata: { name: reviews, labels: { team: books } }
spec:
  ports: [{ name: http, port: 9080 }]
  endpoints: [{ address: "10.0.0.1:9080", labels: { version: v1 } }]
---
apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata: { name: ratings }
spec: {}
`;

const instance = (address: string, labels: Record<string, string>, nodeId: string, service = 'reviews', namespace = 'default'): Instance =>
  ({ service, namespace, address, labels, nodeId });

const INSTANCES: Instance[] = [
  instance('10.0.0.3:9080', { version: 'v3' }, 'node-3'),
  instance('10.0.0.4:9080', { version: 'v3', zone: 'b' }, 'node-4'),
  // Already a static endpoint: skipped.
  instance('10.0.0.1:9080', { version: 'v3' }, 'node-dup'),
  // Unknown service, other namespace, bad address: ignored.
  instance('10.0.0.9:9080', {}, 'node-ghost', 'ghost'),
  instance('10.0.0.8:9080', { version: 'v3' }, 'node-other-ns', 'reviews', 'other'),
  instance('not-an-address', { version: 'v3' }, 'node-bad'),
];

describe('control/mesh: registered instances', () => {
  const mesh = parseMesh(`${SERVICES}---\n${ISSUE_DESTINATION_RULE_AND_SPLIT}`);

  it('adds instances to their service, where subsets select them by labels', () => {
    // Without instances subset v3 has no endpoint: an empty cluster.
    assert.deepEqual(buildProxyConfig(mesh, { kind: 'sidecar' }).clusters.find((c) => c.name === 'reviews|v3')?.endpoints, []);
    const config = buildProxyConfig(mesh, { kind: 'sidecar' }, { instances: INSTANCES });
    assert.deepEqual(config.clusters.map((c) => [c.name, c.endpoints.map((e) => `${e.host}:${e.port}`)]), [
      ['reviews|v1', ['10.0.0.1:9080']],
      ['reviews|v3', ['10.0.0.3:9080', '10.0.0.4:9080']],
    ]);
    // The same through renderProxyConfig.
    assert.match(renderProxyConfig(mesh, { kind: 'sidecar' }, { instances: INSTANCES }), /10\.0\.0\.4:9080/);
  });

  it('keeps the 503 route of a service without any endpoint, and routes to it once an instance registers', () => {
    const route = (instances: Instance[]) =>
      (buildProxyConfig(mesh, { kind: 'sidecar' }, { instances }).listeners[0]!.filters[0]!.config as any).virtualHosts
        .find((v: any) => v.name === 'ratings.default').routes[0];
    assert.deepEqual(route(INSTANCES).directResponse, { status: 503, body: 'no endpoints for service ratings' });
    assert.deepEqual(route([...INSTANCES, instance('10.0.1.1:9080', {}, 'r1', 'ratings')]).route, { cluster: 'ratings' });
  });

  it('lists services with static and registered endpoints', () => {
    assert.deepEqual(listServices(mesh, INSTANCES), [
      {
        name: 'reviews',
        namespace: 'default',
        ports: [{ name: 'http', port: 9080 }],
        labels: { team: 'books' },
        endpoints: [
          { address: '10.0.0.1:9080', labels: { version: 'v1' }, source: 'static' },
          { address: '10.0.0.3:9080', labels: { version: 'v3' }, source: 'registered', nodeId: 'node-3' },
          { address: '10.0.0.4:9080', labels: { version: 'v3', zone: 'b' }, source: 'registered', nodeId: 'node-4' },
        ],
      },
      { name: 'ratings', namespace: 'default', ports: [], labels: {}, endpoints: [] },
    ]);
  });

  it('lists one route per VirtualService HTTP route', () => {
    const rule = ISSUE_DESTINATION_RULE_AND_SPLIT.split('\n---\n')[0]!;
    const m = parseMesh(`${SERVICES}---\n${rule}\n---\n${ISSUE_FAULT_VIRTUAL_SERVICE}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: split, namespace: shop }
spec:
  hosts: [reviews.default]
  gateways: [mesh]
  http:
  - name: api
    timeout: 2s
    retries: { attempts: 3 }
    route:
    - { destination: { host: reviews.default, subset: v1 }, weight: 75 }
    - { destination: { host: reviews.default, subset: v2 }, weight: 25 }
  - redirect: { uri: /new }
`);
    assert.deepEqual(listRoutes(m), [
      {
        virtualService: 'reviews', namespace: 'default', name: '0', hosts: ['reviews'], gateways: ['mesh'],
        destinations: [{ host: 'reviews', subset: 'v3', weight: 100 }],
        fault: { delay: { fixedDelayMs: 7000, percentage: 100 }, abort: null }, retries: null, timeoutMs: null,
      },
      {
        virtualService: 'split', namespace: 'shop', name: 'api', hosts: ['reviews.default'], gateways: ['mesh'],
        destinations: [{ host: 'reviews.default', subset: 'v1', weight: 75 }, { host: 'reviews.default', subset: 'v2', weight: 25 }],
        fault: null, retries: { attempts: 3, perTryTimeoutMs: null, retryOn: null }, timeoutMs: 2000,
      },
      {
        virtualService: 'split', namespace: 'shop', name: '1', hosts: ['reviews.default'], gateways: ['mesh'],
        destinations: [], fault: null, retries: null, timeoutMs: null,
      },
    ]);
  });
});
