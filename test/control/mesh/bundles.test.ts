// FilterBundle: parse errors (file:line: path) and where bundles land in the
// filter chain by phase, priority, mode and selector.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { buildProxyConfig, listFilters, parseMesh } from '../../../control/mesh';
import { gateway, reviewsService } from './fixtures';

const SERVICE = reviewsService(['10.0.0.1:9080', '10.0.0.2:9080', '10.0.0.3:9080']);
/** 64 hex digits, with a letter so YAML reads them as a string. */
const HEX = (c: string) => `${c}f`.repeat(32);

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

/** A FilterBundle document; `spec` lines are indented by the caller's two spaces. */
function bundle(name: string, spec: string, namespace?: string): string {
  return `apiVersion: wasmesh.io/v1alpha1
kind: FilterBundle
metadata: { name: ${name}${namespace === undefined ? '' : `, namespace: ${namespace}`} }
spec:
  version: "1.0"
${spec}`;
}

const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - route: [{ destination: { host: reviews } }]
`;

const names = (config: ReturnType<typeof buildProxyConfig>, listener = 0) => config.listeners[listener]!.filters.map((f) => f.name);

describe('control/mesh: FilterBundle parsing', () => {
  it('reads every field, with Istio names and defaults', () => {
    const mesh = parseMesh(
      `${bundle('full', `  module: ./filters/full.wasm
  sha256: ${HEX('a')}
  selector: { matchLabels: { app: reviews } }
  match: [{ mode: SERVER }]
  phase: AUTHZ
  priority: 7
  pluginConfig: { limit: 3, names: [a, b] }
  pluginName: my_root
  vmId: shared
  failStrategy: FAIL_RELOAD
  maxMemory: 32MiB
  executionBudget: 5000000
  maxBufferedBody: 2MiB
  logLevel: debug
  type: HTTP
`)}---\n${bundle('minimal', `  module: m.wasm\n  match: [{ mode: CLIENT }, { mode: SERVER }]\n`)}`,
      'mesh.yaml',
    );
    const [full, minimal] = mesh.resources;
    assert.deepEqual(full, {
      kind: 'FilterBundle',
      metadata: { name: 'full', namespace: 'default', labels: {} },
      version: '1.0',
      module: './filters/full.wasm',
      sha256: HEX('a'),
      selector: { app: 'reviews' },
      mode: 'SERVER',
      phase: 'AUTHZ',
      priority: 7,
      pluginConfig: { limit: 3, names: ['a', 'b'] },
      rootId: 'my_root',
      vmId: 'shared',
      failurePolicy: 'reload',
      maxMemoryBytes: 32 * 1024 * 1024,
      executionBudget: 5_000_000,
      maxBufferedBodyBytes: 2 * 1024 * 1024,
      logLevel: 'debug',
    });
    assert.deepEqual(minimal, {
      kind: 'FilterBundle',
      metadata: { name: 'minimal', namespace: 'default', labels: {} },
      version: '1.0',
      module: 'm.wasm',
      sha256: null,
      selector: null,
      mode: 'CLIENT_AND_SERVER',
      phase: 'UNSPECIFIED_PHASE',
      priority: 0,
      pluginConfig: null,
      rootId: 'minimal',
      vmId: null,
      failurePolicy: 'failClosed',
      maxMemoryBytes: null,
      executionBudget: null,
      maxBufferedBodyBytes: null,
      logLevel: null,
    });
    assert.deepEqual(listFilters(mesh)[0], {
      name: 'full', namespace: 'default', version: '1.0', sha256: HEX('a'), phase: 'AUTHZ', priority: 7, selector: { app: 'reviews' }, mode: 'SERVER',
    });
  });

  it('reports every problem with line and path, and Istio fields wasmesh does not support', () => {
    const text = `apiVersion: wasmesh.io/v1alpha1
kind: FilterBundle
metadata: { name: bad }
spec:
  sha256: ABCDEF
  url: oci://example.com/filter:1
  imagePullPolicy: Always
  vmConfig: { env: [{ name: A, value: b }] }
  phase: AUTHX
  priority: 1.5
  match: [{ mode: SERVERS, ports: [{ number: 80 }] }]
  failStrategy: FAIL_OPEN
  failurePolicy: failOpen
  maxMemory: 10
  logLevel: verbose
  type: NETWORK
  pluginConfg: {}
---
apiVersion: wasmesh.io/v1alpha1
kind: FilterBundle
metadata: { name: empty }
spec:
  version: 2
  rootId: a
  pluginName: b
  targetRefs: [{ kind: Gateway, name: gw }]
  executionBudget: 10
  sha256: ${'A'.repeat(64)}
---
${bundle('number', '  sha256: 1234567890123456789012345678901234567890123456789012345678901234\n')}`;
    assert.deepEqual(problems(text), [
      'mesh.yaml:4: spec.version: required field is missing',
      'mesh.yaml:5: spec.sha256: invalid sha256 "ABCDEF" (expected 64 lowercase hex digits)',
      'mesh.yaml:6: spec.url: not supported by wasmesh (write "module: FILE.wasm"; `wasmesh apply` uploads it)',
      'mesh.yaml:7: spec.imagePullPolicy: not supported by wasmesh',
      'mesh.yaml:8: spec.vmConfig: not supported by wasmesh',
      'mesh.yaml:9: spec.phase: unknown phase "AUTHX" (expected one of AUTHN, AUTHZ, STATS, UNSPECIFIED_PHASE)',
      'mesh.yaml:10: spec.priority: expected an integer, got number 1.5',
      'mesh.yaml:11: spec.match[0].ports: not supported by wasmesh (a bundle applies to every port of a listener)',
      'mesh.yaml:11: spec.match[0].mode: unknown mode "SERVERS" (expected one of UNDEFINED, CLIENT, SERVER, CLIENT_AND_SERVER)',
      'mesh.yaml:13: spec.failurePolicy: "failStrategy" and "failurePolicy" cannot both be set',
      'mesh.yaml:14: spec.maxMemory: a size needs a unit, like "10B" or "10KiB" (plain numbers are not accepted)',
      'mesh.yaml:15: spec.logLevel: unknown log level "verbose" (expected one of trace, debug, info, warn, error, critical)',
      'mesh.yaml:16: spec.type: NETWORK is not supported by wasmesh (HTTP filters only)',
      'mesh.yaml:17: spec.pluginConfg: unknown field (did you mean "pluginConfig"?)',
      'mesh.yaml:23: spec.version: expected a string, got number 2',
      'mesh.yaml:25: spec.pluginName: "pluginName" (Istio\'s name for rootId) and "rootId" cannot both be set',
      'mesh.yaml:26: spec.targetRefs: not supported by wasmesh',
      'mesh.yaml:27: spec.executionBudget: must be between 1000 and 2000000000, got 10',
      `mesh.yaml:28: spec.sha256: invalid sha256 "${'A'.repeat(64)}" (expected 64 lowercase hex digits)`,
      'mesh.yaml:35: spec.sha256: expected a string, got number 1.2345678901234568e+63 (quote the sha256: YAML reads a value of digits only as a number)',
    ]);
    assert.deepEqual(problems(bundle('none', '  phase: STATS\n')), ['mesh.yaml:4: spec: one of "module" (a .wasm file, uploaded by `wasmesh apply`) or "sha256" is required']);
  });
});

describe('control/mesh: FilterBundle translation', () => {
  const bundles = [
    bundle('authn-a', `  sha256: ${HEX('1')}\n  phase: AUTHN\n`),
    bundle('authn-b', `  sha256: ${HEX('2')}\n  phase: AUTHN\n  priority: 10\n`),
    bundle('authz-x', `  sha256: ${HEX('3')}\n  phase: AUTHZ\n  failStrategy: FAIL_OPEN\n`),
    bundle('stats', `  sha256: ${HEX('4')}\n  phase: STATS\n  priority: -1\n`),
    bundle('plain', `  sha256: ${HEX('5')}\n  pluginConfig: hello\n`),
    bundle('plain', `  sha256: ${HEX('6')}\n  phase: UNSPECIFIED_PHASE\n  rootId: ""\n  vmId: v\n  failurePolicy: reload\n  maxMemory: 32MiB\n  maxBufferedBody: 1000KB\n  executionBudget: 5000\n  logLevel: warn\n`, 'ops'),
    bundle('server-only', `  sha256: ${HEX('7')}\n  match: [{ mode: SERVER }]\n`),
    bundle('client-only', `  sha256: ${HEX('8')}\n  match: [{ mode: CLIENT }]\n  phase: STATS\n`),
    bundle('for-reviews', `  sha256: ${HEX('9')}\n  selector: { matchLabels: { app: reviews } }\n`),
    bundle('not-uploaded', `  module: ./x.wasm\n  selector: { matchLabels: { app: nobody } }\n`),
  ].join('---\n');
  const extras = `apiVersion: wasmesh.io/v1alpha1
kind: RateLimit
metadata: { name: rl }
spec:
  descriptors: [{ key: path, requestsPerUnit: 10 }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin }
spec:
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin/*"] } }] }]
`;
  const mesh = parseMesh(`${SERVICE}---\n${gateway()}---\n${VS}---\n${extras}---\n${bundles}`);

  it('orders gateway bundles by phase around ratelimit and authz, then by priority and namespace/name', () => {
    const config = buildProxyConfig(mesh, { kind: 'gateway', name: 'bookinfo-gateway' });
    assert.deepEqual(names(config), [
      'bundle-authn-b', 'bundle-authn-a', 'ratelimit-rl', 'bundle-authz-x', 'authz',
      'bundle-client-only', 'bundle-stats', 'bundle-plain', 'bundle-ops-plain', 'router', 'retry',
    ]);
    const byName = Object.fromEntries(config.listeners[0]!.filters.map((f) => [f.name, f]));
    // The proxy's validator takes `sha256:HEX` modules as they are.
    assert.equal(byName['bundle-authn-a']!.module, `sha256:${HEX('1')}`);
    assert.equal(byName['bundle-authn-a']!.rootId, 'authn-a');
    assert.equal(byName['bundle-authn-a']!.vmId, 'bundle-authn-a');
    assert.equal(byName['bundle-authz-x']!.failurePolicy, 'failOpen');
    assert.equal(byName['bundle-plain']!.config, 'hello');
    assert.equal(byName['bundle-plain']!.failurePolicy, 'failClosed');
    const ops = byName['bundle-ops-plain']!;
    assert.deepEqual(
      [ops.rootId, ops.vmId, ops.failurePolicy, ops.maxMemoryBytes, ops.maxBufferedBody, ops.executionBudget, ops.logLevel, ops.config],
      ['', 'v', 'reload', 32 * 1024 * 1024, 1_000_000, 5000, 'warn', null],
    );
  });

  it('selects bundles by the proxy labels and mode: CLIENT outbound, SERVER inbound', () => {
    const target = { kind: 'sidecar', labels: { app: 'reviews' }, inbound: { listen: '127.0.0.1:15006', app: '127.0.0.1:9080' } } as const;
    const config = buildProxyConfig(mesh, target);
    assert.deepEqual(names(config, 0), [
      'bundle-authn-b', 'bundle-authn-a', 'ratelimit-rl', 'bundle-authz-x',
      'bundle-client-only', 'bundle-stats', 'bundle-for-reviews', 'bundle-plain', 'bundle-ops-plain', 'router', 'retry',
    ]);
    // Inbound: no ratelimit, no client-only; the default policy deny-admin applies in namespace default.
    assert.deepEqual(names(config, 1), [
      'bundle-authn-b', 'bundle-authn-a', 'bundle-authz-x', 'authz',
      'bundle-stats', 'bundle-for-reviews', 'bundle-plain', 'bundle-server-only', 'bundle-ops-plain', 'router',
    ]);
    // Other labels: no for-reviews.
    assert.ok(!names(buildProxyConfig(mesh, { kind: 'sidecar', labels: { app: 'ratings' } })).includes('bundle-for-reviews'));
  });

  it('refuses a bundle that applies but was not uploaded, and names the way out', () => {
    const m = parseMesh(`${SERVICE}---\n${bundle('local', '  module: ./filters/local.wasm\n  selector: { matchLabels: { app: reviews } }\n')}`);
    assert.doesNotThrow(() => buildProxyConfig(m, { kind: 'sidecar', labels: { app: 'other' } }));
    assert.throws(
      () => buildProxyConfig(m, { kind: 'sidecar', labels: { app: 'reviews' }, inbound: { listen: '127.0.0.1:15006', app: '127.0.0.1:9080' } }),
      (e: any) => {
        assert.equal(e.code, 'WASMESH_ERR_CONFIG');
        // Once, although it applies to both listeners.
        assert.deepEqual(e.problems, [
          'FilterBundle default/local: module "./filters/local.wasm" was not uploaded (no sha256); use `wasmesh apply`, which uploads it',
        ]);
        return true;
      },
    );
  });

  it('refuses two resources that generate the same filter name', () => {
    const m = parseMesh(`${SERVICE}---\n${bundle('b-c', `  sha256: ${HEX('a')}\n`, 'a')}---\n${bundle('c', `  sha256: ${HEX('b')}\n`, 'a-b')}`);
    assert.throws(() => buildProxyConfig(m, { kind: 'sidecar' }), /filter name "bundle-a-b-c" is generated twice on one listener/);
  });
});
