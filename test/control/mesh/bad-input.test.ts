// Bad mesh input: every problem is reported at once, each with file, line and field path.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseMesh } from '../../../control/mesh';

function problems(text: string): string[] {
  try {
    parseMesh(text, 'mesh.yaml');
  } catch (e) {
    const err = e as { code?: string; problems?: string[] };
    assert.equal(err.code, 'WASMESH_ERR_CONFIG');
    return [...(err.problems ?? [])];
  }
  assert.fail('parseMesh accepted bad input');
}

const SERVICE = `apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata:
  name: reviews
spec:
  endpoints:
  - address: 127.0.0.1:9001
    labels: { version: v1 }
`;

describe('control/mesh: bad input', () => {
  it('lists every problem of every document at once, with line and path', () => {
    const text = `${SERVICE}---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: { version: v1 }
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualServce
metadata:
  name: typo
spec: {}
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        host: ratings
      weight: 50
    - destination:
        host: reviews
        subset: v9
      weight: 40
    timeot: 3s
    mirror: { host: reviews }
`;
    assert.deepEqual(problems(text), [
      'mesh.yaml:21: kind: unknown kind "VirtualServce" (did you mean "VirtualService"?) (supported: Service, RateLimit, FilterBundle, VirtualService, DestinationRule, Gateway, AuthorizationPolicy, PeerAuthentication)',
      'mesh.yaml:33: spec.http[0].route: the weights add up to 90, not 100 (50 + 40)',
      'mesh.yaml:35: spec.http[0].route[0].destination.host: unknown service "ratings" (defined: reviews)',
      'mesh.yaml:39: spec.http[0].route[1].destination.subset: unknown subset "v9" of service "reviews" (did you mean "v1"?)',
      'mesh.yaml:41: spec.http[0].timeot: unknown field (did you mean "timeout"?)',
      'mesh.yaml:42: spec.http[0].mirror: not supported by wasmesh',
    ]);
  });

  it('reports a subset when the service has no DestinationRule', () => {
    const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews, subset: v1 }
`;
    assert.deepEqual(problems(`${SERVICE}---\n${vs}`), [
      'mesh.yaml:17: spec.http[0].route[0].destination.subset: unknown subset "v1": no DestinationRule defines subsets for service "reviews"',
    ]);
  });

  it('reports YAML syntax errors with line and column, in the right document', () => {
    // Line 13 repeats a key; line 16 opens a flow sequence that never closes. Both documents are reported.
    const out = problems(`${SERVICE}---\nkind: Service\nmetadata:\n  name: a\n  name: b\n---\nkind: Service\nspec: [\n`);
    assert.equal(out.length >= 2, true, out.join('\n'));
    assert.match(out[0]!, /^mesh\.yaml:13:\d+: YAML syntax: Map keys must be unique/);
    for (const line of out.slice(1)) assert.match(line, /^mesh\.yaml:1[6-8]:\d+: YAML syntax: /);
  });

  it('reports wrong apiVersions, missing fields, bad values and unsupported Istio fields', () => {
    const text = `apiVersion: networking.istio.io/v1alpha3
kind: AuthorizationPolicy
metadata: { name: a }
spec:
  action: CUSTOM
  rules:
  - when: [{ key: request.time, values: ["x"] }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: Bad_Name }
spec:
  trafficPolicy:
    loadBalancer: { simple: PASSTHROUGH }
    connectionPool: { http: { http2MaxRequests: 10 } }
    tls: { mode: ISTIO_MUTUAL }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw }
spec:
  servers:
  - port: { number: 443, protocol: HTTPS, name: https }
    hosts: ["*"]
    tls: { mode: SIMPLE }
---
kind: Service
metadata: { name: s }
spec:
  endpoints: [{ address: "nope" }]
`;
    assert.deepEqual(problems(text), [
      'mesh.yaml:1: apiVersion: AuthorizationPolicy needs apiVersion security.istio.io/v1beta1 or security.istio.io/v1, got "networking.istio.io/v1alpha3"',
      'mesh.yaml:5: spec.action: CUSTOM (an external authorizer) is not supported by wasmesh',
      'mesh.yaml:7: spec.rules[0].when[0].key: unsupported condition key "request.time" (supported: request.headers[NAME], request.auth.claims[NAME], request.auth.principal, request.auth.audiences, request.auth.presenter, source.ip, destination.port)',
      'mesh.yaml:11: metadata.name: invalid name "Bad_Name" (lower-case letters, digits, "-" and ".", as Kubernetes names)',
      'mesh.yaml:12: spec.host: required field is missing',
      'mesh.yaml:14: spec.trafficPolicy.loadBalancer.simple: PASSTHROUGH is not supported by wasmesh (endpoints come from the mesh, not the request)',
      'mesh.yaml:15: spec.trafficPolicy.connectionPool.http.http2MaxRequests: not supported by wasmesh',
      'mesh.yaml:16: spec.trafficPolicy.tls.mode: ISTIO_MUTUAL is not supported yet (wasmesh has no upstream TLS; only DISABLE)',
      'mesh.yaml:23: spec.servers[0].port.protocol: HTTPS is not supported by wasmesh gateways (HTTP only)',
      'mesh.yaml:25: spec.servers[0].tls: not supported by wasmesh gateways yet',
      'mesh.yaml:27: apiVersion: required field is missing',
      'mesh.yaml:30: spec.endpoints[0].address: invalid address "nope": missing port (expected host:port, like "127.0.0.1:8080", "[::1]:8080" or "web.local:80")',
    ]);
  });

  it('requires weights on every destination of a split, and reports unknown gateways', () => {
    const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  gateways: [missing-gw]
  http:
  - route:
    - destination: { host: reviews }
      weight: 100
    - destination: { host: reviews }
`;
    assert.deepEqual(problems(`${SERVICE}---\n${vs}`), [
      'mesh.yaml:15: spec.gateways[0]: unknown Gateway "missing-gw"',
      'mesh.yaml:17: spec.http[0].route: every destination needs a weight when there are several (missing at [1])',
    ]);
  });

  it('accepts PeerAuthentication (not enforced yet) and checks it', () => {
    const ok = `apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: { name: default, namespace: istio-system }
spec:
  mtls: { mode: STRICT }
`;
    assert.equal(parseMesh(ok).resources[0]!.kind, 'PeerAuthentication');
    assert.deepEqual(problems(ok.replace('STRICT', 'STRIKT')), [
      'mesh.yaml:5: spec.mtls.mode: unknown mTLS mode "STRIKT" (expected one of UNSET, DISABLE, PERMISSIVE, STRICT)',
    ]);
  });
});
