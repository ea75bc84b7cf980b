// A gateway proxy chosen by its labels: it serves every Gateway whose
// non-empty selector its labels satisfy (any namespace), merged.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildProxyConfig, parseMesh } from '../../../control/mesh';
import { reviewsService } from './fixtures';

const SERVICE = reviewsService(['10.0.0.1:9080', '10.0.0.2:9080', '10.0.0.3:9080']);

function gw(name: string, namespace: string, selector: string, host: string, port = 8080): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { ${selector} }
  servers: [{ port: { number: ${port}, name: http, protocol: HTTP }, hosts: ["${host}"] }]
`;
}

function vs(name: string, namespace: string, gateways: string, hosts: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  hosts: [${hosts}]
  gateways: [${gateways}]
  http: [{ route: [{ destination: { host: reviews.default.svc.cluster.local } }] }]
`;
}

const MESH = parseMesh([
  SERVICE,
  gw('public', 'default', 'istio: ingressgateway', 'a.example.com', 8081),
  gw('public', 'edge', 'istio: ingressgateway', 'b.example.com'),
  gw('internal', 'default', 'istio: internal', '*.internal'),
  gw('everything', 'default', '', '*'),
  // Bound to both public Gateways: each host only where a bound Gateway admits it.
  vs('a', 'default', 'public', 'a.example.com, b.example.com'),
  // Short names are relative to the VirtualService's namespace: edge/public.
  vs('b', 'edge', 'public', 'b.example.com'),
  vs('i', 'default', 'internal', 'api.internal'),
  vs('e', 'default', 'everything', 'e.example.com'),
].join('---\n'));

const hosts = (config: ReturnType<typeof buildProxyConfig>) =>
  (config.listeners[0]!.filters.find((f) => f.name === 'router')!.config as any).virtualHosts.map((v: any) => `${v.name}: ${v.domains.join(',')}`);

describe('control/mesh: gateway chosen by labels', () => {
  it('merges every Gateway the labels select, in any namespace', () => {
    const config = buildProxyConfig(MESH, { kind: 'gateway', labels: { istio: 'ingressgateway', app: 'edge' } });
    assert.equal(config.listeners[0]!.name, 'gateway');
    // The first Gateway by namespace/name (default/public) gives the default port.
    assert.deepEqual(config.listeners[0]!.address, { host: '0.0.0.0', port: 8081 });
    assert.deepEqual(hosts(config), ['a.default: a.example.com', 'b.edge: b.example.com']);
  });

  it('serves a single matching Gateway under its name', () => {
    const config = buildProxyConfig(MESH, { kind: 'gateway', labels: { istio: 'internal' }, listen: '127.0.0.1:9000' });
    assert.equal(config.listeners[0]!.name, 'gateway-internal');
    assert.deepEqual(hosts(config), ['i.default: api.internal']);
  });

  it('refuses labels no Gateway selects (an empty selector selects nothing)', () => {
    assert.throws(() => buildProxyConfig(MESH, { kind: 'gateway', labels: { istio: 'nope' } }), (e: any) => {
      assert.equal(e.code, 'WASMESH_ERR_CONFIG');
      assert.match(e.problems[0], /^gateway with labels \{istio=nope\}: no Gateway selects it \(.*defined: default\/public \{istio=ingressgateway\}, edge\/public/);
      return true;
    });
    assert.throws(() => buildProxyConfig(MESH, { kind: 'gateway' }), /gateway with labels \{\}: no Gateway selects it/);
  });

  it('still serves a Gateway by name', () => {
    const config = buildProxyConfig(MESH, { kind: 'gateway', name: 'public', namespace: 'edge' });
    assert.equal(config.listeners[0]!.name, 'gateway-public');
    assert.deepEqual(hosts(config), ['b.edge: b.example.com']);
    assert.deepEqual(hosts(buildProxyConfig(MESH, { kind: 'gateway', name: 'everything' })), ['e.default: e.example.com']);
  });
});
