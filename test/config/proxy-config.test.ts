import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyConfig } from '../../runtime/config/load';
import type { ProxyConfig } from '../../runtime/config/types';
import { ConfigError } from '../../runtime/core/errors';

// The example from docs/config.md's brief, verbatim.
const EXAMPLE = `admin: { address: 127.0.0.1:15000 }
listeners:
  - name: edge
    address: 127.0.0.1:8080
    filters: []             # the Wasm filter chain
    defaultCluster: web     # where a request goes when no filter chose a cluster
clusters:
  - name: web
    endpoints: [127.0.0.1:9001, 127.0.0.1:9002]
    lb: round_robin         # round_robin | least_request | random | ring_hash | maglev
    hashOn: header:x-user   # ring_hash/maglev: header:NAME | cookie:NAME | source_ip | query:NAME
    connectTimeout: 1s
    timeout: 15s
    maxConnections: 1024
    maxPendingRequests: 1024
    healthCheck: { path: /healthz, interval: 2s, unhealthyThreshold: 3, healthyThreshold: 2 }
    outlierDetection: { consecutive5xx: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50 }
`;

/** The problems of an invalid config, or [] when it is valid. */
function problemsOf(yaml: string, source?: string): string[] {
  try {
    parseProxyConfig(yaml, source);
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return [...e.problems];
  }
}

const MINIMAL = `listeners:
  - name: edge
    address: 127.0.0.1:8080
    defaultCluster: web
clusters:
  - name: web
    endpoints: [127.0.0.1:9001]
`;

/** MINIMAL with extra lines inserted into the listener (indent 4) or the cluster. */
function withListener(lines: string): string {
  return MINIMAL.replace('    defaultCluster: web\n', `    defaultCluster: web\n${lines}`);
}
function withCluster(lines: string): string {
  return MINIMAL + lines;
}

const EXPECTED_CLUSTER: ProxyConfig['clusters'][number] = {
  name: 'web',
  endpoints: [
    { host: '127.0.0.1', port: 9001 },
    { host: '127.0.0.1', port: 9002 },
  ],
  lb: 'ring_hash',
  hashOn: { kind: 'header', name: 'x-user' },
  connectTimeoutMs: 1000,
  timeoutMs: 15_000,
  maxConnections: 1024,
  maxPendingRequests: 1024,
  idleTimeoutMs: 60_000,
  healthCheck: { path: '/healthz', intervalMs: 2000, timeoutMs: 1000, unhealthyThreshold: 3, healthyThreshold: 2 },
  outlierDetection: { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 },
};

test('the example, with lb: ring_hash so that hashOn applies, normalises fully', () => {
  const config = parseProxyConfig(EXAMPLE.replace('lb: round_robin ', 'lb: ring_hash   '), 'proxy.yaml');
  const expected: ProxyConfig = {
    admin: { address: { host: '127.0.0.1', port: 15000 } },
    listeners: [
      {
        name: 'edge',
        address: { host: '127.0.0.1', port: 8080 },
        filters: [],
        defaultCluster: 'web',
        maxRequestHeadersBytes: 61_440,
      },
    ],
    clusters: [EXPECTED_CLUSTER],
    accessLog: null,
    drainTimeoutMs: 15_000,
    logLevel: 'info',
  };
  assert.deepEqual(config, expected);
});

test('the example from the issue validates verbatim; hashOn is kept but only hash policies read it', () => {
  const config = parseProxyConfig(EXAMPLE, 'proxy.yaml');
  assert.equal(config.clusters[0]!.lb, 'round_robin');
  assert.deepEqual(config.clusters[0]!.hashOn, { kind: 'header', name: 'x-user' });
});

test('a minimal config gets every default', () => {
  const config = parseProxyConfig(
    MINIMAL.replace('    defaultCluster: web\n', '    defaultCluster: web\n    filters: [{ name: auth, module: ./auth.wasm }]\n') +
      '    healthCheck: { path: /ready }\n    outlierDetection: {}\n',
  );
  assert.deepEqual(config, {
    admin: { address: { host: '127.0.0.1', port: 15000 } },
    listeners: [
      {
        name: 'edge',
        address: { host: '127.0.0.1', port: 8080 },
        filters: [{ name: 'auth', module: './auth.wasm', rootId: 'auth', config: null, failurePolicy: 'failClosed', vmId: 'auth', maxMemoryBytes: 64 * 1024 * 1024, executionBudget: 10_000_000, maxBufferedBody: 1024 * 1024, logLevel: 'info' }],
        defaultCluster: 'web',
        maxRequestHeadersBytes: 61_440,
      },
    ],
    clusters: [
      {
        name: 'web',
        endpoints: [{ host: '127.0.0.1', port: 9001 }],
        lb: 'round_robin',
        hashOn: null,
        connectTimeoutMs: 5000,
        timeoutMs: 15_000,
        maxConnections: 1024,
        maxPendingRequests: 1024,
        idleTimeoutMs: 60_000,
        healthCheck: { path: '/ready', intervalMs: 10_000, timeoutMs: 1000, unhealthyThreshold: 3, healthyThreshold: 1 },
        outlierDetection: { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10 },
      },
    ],
    accessLog: null,
    drainTimeoutMs: 15_000,
    logLevel: 'info',
  });
});

test('every optional top-level and listener field is read', () => {
  const config = parseProxyConfig(
    `admin: { address: "[::1]:0" }
accessLog: { path: "-" }
drainTimeout: 0s
logLevel: debug
listeners:
  - name: edge
    address: 0.0.0.0:0
    maxRequestHeadersSize: 8KiB
    filters:
      - name: auth
        module: ./auth.wasm
        rootId: ""
        failurePolicy: failOpen
        config: { issuers: [a, b], strict: true, limit: 10, nothing: null }
      - { name: ratelimit, module: ./rl.wasm, rootId: rl_root, config: "raw string", failurePolicy: reload,
          vmId: shared, maxMemory: 16MiB, executionBudget: 5000000, maxBufferedBody: 64KiB, logLevel: debug }
`,
  );
  assert.deepEqual(config.admin, { address: { host: '::1', port: 0 } });
  assert.deepEqual(config.accessLog, { path: '-' });
  assert.equal(config.drainTimeoutMs, 0);
  assert.equal(config.logLevel, 'debug');
  assert.deepEqual(config.clusters, []);
  assert.deepEqual(config.listeners[0], {
    name: 'edge',
    address: { host: '0.0.0.0', port: 0 },
    filters: [
      {
        name: 'auth',
        module: './auth.wasm',
        rootId: '',
        config: { issuers: ['a', 'b'], strict: true, limit: 10, nothing: null },
        failurePolicy: 'failOpen',
        vmId: 'auth', maxMemoryBytes: 64 * 1024 * 1024, executionBudget: 10_000_000, maxBufferedBody: 1024 * 1024, logLevel: 'info',
      },
      {
        name: 'ratelimit',
        module: './rl.wasm',
        rootId: 'rl_root',
        config: 'raw string',
        failurePolicy: 'reload',
        vmId: 'shared',
        maxMemoryBytes: 16 * 1024 * 1024,
        executionBudget: 5_000_000,
        maxBufferedBody: 64 * 1024,
        logLevel: 'debug',
      },
    ],
    defaultCluster: null,
    maxRequestHeadersBytes: 8192,
  });
});

test('a document with many mistakes reports all of them, in line order, with file:line and path', () => {
  const yaml = `admin: { address: 127.0.0.1:8080 }
logLevel: verbose
drainTimeout: 30
listeners:
  - name: edge
    address: 127.0.0.1:8080
    defaultCluster: webb
    filters:
      - { name: auth, module: ./auth.wasm, failurePolicy: open }
      - { name: auth, module: "", config: { x: .inf } }
  - name: edge
    address: "::1:80"
clusters:
  - name: web
    endpoints: [127.0.0.1:9001, 127.0.0.1:9001, "300.1.1.1:80", "foo_bar:80", "x:0"]
    lb: round-robin
    timout: 1s
    connect_timeout: 2s
    healthCheck: { path: healthz, interval: 500ms, timeout: 2s }
    outlierDetection: { maxEjectionPercent: 150, consecutive5xx: 0 }
  - name: hash
    endpoints: []
    lb: ring_hash
    maxConnections: "10"
`;
  let error: unknown;
  try {
    parseProxyConfig(yaml, 'proxy.yaml');
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof ConfigError);
  assert.equal(error.code, 'WASMESH_ERR_CONFIG');
  const expected = [
    'proxy.yaml:2: logLevel: unknown log level "verbose" (expected one of trace, debug, info, warn, error)',
    'proxy.yaml:3: drainTimeout: a duration needs a unit, like "30s" or "30ms" (plain numbers are not accepted)',
    'proxy.yaml:6: listeners[0].address: address 127.0.0.1:8080 collides with 127.0.0.1:8080 at admin.address',
    'proxy.yaml:7: listeners[0].defaultCluster: unknown cluster "webb" (did you mean "web"?)',
    'proxy.yaml:9: listeners[0].filters[0].failurePolicy: unknown failure policy "open" (expected one of failClosed, failOpen, reload)',
    'proxy.yaml:10: listeners[0].filters[1].name: duplicate filter name "auth" (first defined at listeners[0].filters[0].name)',
    'proxy.yaml:10: listeners[0].filters[1].module: must not be empty',
    'proxy.yaml:10: listeners[0].filters[1].config.x: not valid JSON: numbers must be finite, got Infinity',
    'proxy.yaml:11: listeners[1].name: duplicate listener name "edge" (first defined at listeners[0].name)',
    'proxy.yaml:12: listeners[1].address: invalid address "::1:80": IPv6 addresses need brackets, like "[::1]:80"',
    'proxy.yaml:15: clusters[0].endpoints[1]: duplicate endpoint 127.0.0.1:9001 (first defined at clusters[0].endpoints[0])',
    'proxy.yaml:15: clusters[0].endpoints[2]: invalid address "300.1.1.1:80": "300.1.1.1" is not a valid IPv4 address',
    'proxy.yaml:15: clusters[0].endpoints[3]: invalid address "foo_bar:80": "foo_bar" is not a valid IP address or hostname',
    'proxy.yaml:15: clusters[0].endpoints[4]: invalid address "x:0": port must be between 1 and 65535',
    'proxy.yaml:16: clusters[0].lb: unknown policy "round-robin" (expected one of round_robin, least_request, random, ring_hash, maglev)',
    'proxy.yaml:17: clusters[0].timout: unknown field (did you mean "timeout"?)',
    'proxy.yaml:18: clusters[0].connect_timeout: unknown field (did you mean "connectTimeout"?)',
    'proxy.yaml:19: clusters[0].healthCheck.path: invalid path "healthz" (must start with "/")',
    'proxy.yaml:19: clusters[0].healthCheck.timeout: must not be longer than interval (500ms)',
    'proxy.yaml:20: clusters[0].outlierDetection.consecutive5xx: must be at least 1, got 0',
    'proxy.yaml:20: clusters[0].outlierDetection.maxEjectionPercent: must be between 0 and 100, got 150',
    'proxy.yaml:21: clusters[1].hashOn: required when lb is ring_hash (expected header:NAME, cookie:NAME, query:NAME or source_ip)',
    'proxy.yaml:24: clusters[1].maxConnections: expected an integer, got string "10"',
  ];
  assert.deepEqual(error.problems, expected);
  assert.equal(error.message, `proxy.yaml: invalid config (23 errors):\n  ${expected.join('\n  ')}`);
});

test('without a source, problems carry only their path', () => {
  assert.deepEqual(problemsOf(withCluster('    lb: round-robin\n')), [
    'clusters[0].lb: unknown policy "round-robin" (expected one of round_robin, least_request, random, ring_hash, maglev)',
  ]);
});

test('unknown fields at every level, with suggestions', () => {
  assert.deepEqual(problemsOf('listener: []\nlisteners: [{ name: a, address: "127.0.0.1:0", filter: [] }]\nadmin: { adress: 127.0.0.1:1 }\nfoo: 1\n', 'p.yaml'), [
    'p.yaml:1: listener: unknown field (did you mean "listeners"?)',
    'p.yaml:2: listeners[0].filter: unknown field (did you mean "filters"?)',
    'p.yaml:3: admin.adress: unknown field (did you mean "address"?)',
    'p.yaml:4: foo: unknown field',
  ]);
  assert.deepEqual(problemsOf(withCluster('    healthCheck: { path: /h, intervall: 1s }\n    outlierDetection: { consecutive_5xx: 3 }\n')), [
    'clusters[0].healthCheck.intervall: unknown field (did you mean "interval"?)',
    'clusters[0].outlierDetection.consecutive_5xx: unknown field (did you mean "consecutive5xx"?)',
  ]);
});

test('listeners: required, non-empty, unique names and addresses; port 0 may repeat', () => {
  assert.deepEqual(problemsOf('clusters: []\n'), ['listeners: required field is missing']);
  assert.deepEqual(problemsOf('listeners:\n'), ['listeners: required field is empty']);
  assert.deepEqual(problemsOf('listeners: []\n'), ['listeners: must not be empty']);
  assert.deepEqual(problemsOf('listeners: [{}]\n'), ['listeners[0].name: required field is missing', 'listeners[0].address: required field is missing']);
  assert.deepEqual(
    problemsOf('listeners:\n  - { name: a, address: "127.0.0.1:80" }\n  - { name: b, address: "0.0.0.0:80" }\n  - { name: a, address: "[::1]:80" }\n'),
    [
      'listeners[1].address: address 0.0.0.0:80 collides with 127.0.0.1:80 at listeners[0].address',
      'listeners[2].name: duplicate listener name "a" (first defined at listeners[0].name)',
    ],
  );
  assert.deepEqual(problemsOf('listeners:\n  - { name: a, address: "127.0.0.1:15000" }\n'), [
    'listeners[0].address: address 127.0.0.1:15000 collides with 127.0.0.1:15000 at admin.address (the default)',
  ]);
  const config = parseProxyConfig('admin: { address: "127.0.0.1:0" }\nlisteners:\n  - { name: a, address: "127.0.0.1:0" }\n  - { name: b, address: "127.0.0.1:0" }\n');
  assert.deepEqual(config.listeners.map((l) => l.address.port), [0, 0]);
  assert.deepEqual(problemsOf('listeners: [{ name: "a b", address: "127.0.0.1:0" }]\n'), [
    'listeners[0].name: invalid name "a b" (whitespace and control characters are not allowed)',
  ]);
});

test('defaultCluster must name a defined cluster', () => {
  assert.deepEqual(problemsOf(MINIMAL.replace('defaultCluster: web', 'defaultCluster: wbe')), [
    'listeners[0].defaultCluster: unknown cluster "wbe" (did you mean "web"?)',
  ]);
  assert.deepEqual(problemsOf(MINIMAL.replace('defaultCluster: web', 'defaultCluster: payments')), [
    'listeners[0].defaultCluster: unknown cluster "payments" (defined: web)',
  ]);
  assert.deepEqual(problemsOf('listeners: [{ name: a, address: "127.0.0.1:0", defaultCluster: web }]\n'), [
    'listeners[0].defaultCluster: unknown cluster "web" (no clusters are defined)',
  ]);
});

test('clusters: unique names, non-empty valid endpoints (port 0 is not an endpoint)', () => {
  assert.deepEqual(problemsOf(withCluster('  - name: web\n    endpoints: ["[::1]:9001", "[0::1]:9001", "LOCALHOST:1", "localhost:1", "a:0"]\n')), [
    'clusters[1].name: duplicate cluster name "web" (first defined at clusters[0].name)',
    'clusters[1].endpoints[1]: duplicate endpoint [::1]:9001 (first defined at clusters[1].endpoints[0])',
    'clusters[1].endpoints[3]: duplicate endpoint localhost:1 (first defined at clusters[1].endpoints[2])',
    'clusters[1].endpoints[4]: invalid address "a:0": port must be between 1 and 65535',
  ]);
  assert.deepEqual(problemsOf(withCluster('  - name: b\n  - name: c\n    endpoints: 127.0.0.1:80\n  - name: d\n    endpoints: [9001]\n')), [
    'clusters[1].endpoints: required field is missing',
    'clusters[2].endpoints: expected a list, got string "127.0.0.1:80"',
    'clusters[3].endpoints[0]: expected a string, got number 9001',
  ]);
});

test('lb and hashOn: hashOn required for ring_hash and maglev, allowed otherwise, each form parsed', () => {
  const hashOf = (hashOn: string) => parseProxyConfig(withCluster(`    lb: maglev\n    hashOn: "${hashOn}"\n`)).clusters[0]!.hashOn;
  assert.deepEqual(hashOf('header:X-User'), { kind: 'header', name: 'x-user' });
  assert.deepEqual(hashOf('cookie:Session'), { kind: 'cookie', name: 'Session' });
  assert.deepEqual(hashOf('query:user_id'), { kind: 'query', name: 'user_id' });
  assert.deepEqual(hashOf('source_ip'), { kind: 'source_ip' });
  for (const lb of ['ring_hash', 'maglev']) {
    assert.deepEqual(problemsOf(withCluster(`    lb: ${lb}\n`)), [
      `clusters[0].hashOn: required when lb is ${lb} (expected header:NAME, cookie:NAME, query:NAME or source_ip)`,
    ]);
  }
  for (const lb of ['round_robin', 'least_request', 'random']) {
    assert.deepEqual(problemsOf(withCluster(`    lb: ${lb}\n    hashOn: source_ip\n`)), []);
    assert.equal(parseProxyConfig(withCluster(`    lb: ${lb}\n`)).clusters[0]!.lb, lb);
  }
  assert.deepEqual(problemsOf(withCluster('    lb: ring_hash\n    hashOn: headers:x\n')), [
    'clusters[0].hashOn: invalid hash key "headers:x" (expected header:NAME, cookie:NAME, query:NAME or source_ip)',
  ]);
  assert.deepEqual(problemsOf(withCluster('    lb: ring_hash\n    hashOn: "header:"\n')), ['clusters[0].hashOn: invalid hash key "header:": the header name is empty']);
  assert.deepEqual(problemsOf(withCluster('    lb: ring_hash\n    hashOn: "header:x user"\n')), [
    'clusters[0].hashOn: invalid hash key "header:x user": "x user" is not a valid header name',
  ]);
  // An unknown lb does not also produce hashOn errors.
  assert.deepEqual(problemsOf(withCluster('    lb: sticky\n')), [
    'clusters[0].lb: unknown policy "sticky" (expected one of round_robin, least_request, random, ring_hash, maglev)',
  ]);
});

test('durations need units and must be positive where a zero makes no sense', () => {
  assert.deepEqual(problemsOf(withCluster('    connectTimeout: 1000\n    timeout: 0s\n    idleTimeout: 1 m\n')), [
    'clusters[0].connectTimeout: a duration needs a unit, like "1000s" or "1000ms" (plain numbers are not accepted)',
    'clusters[0].timeout: must be at least 1ms, got 0ms',
    'clusters[0].idleTimeout: invalid duration "1 m" (expected a number with a unit ms, s, m or h, like "250ms", "1.5s", "2m" or "1m30s")',
  ]);
  assert.deepEqual(problemsOf(MINIMAL + 'drainTimeout: 1.5\n'), ['drainTimeout: a duration needs a unit, like "1.5s" or "1.5ms" (plain numbers are not accepted)']);
  const c = parseProxyConfig(withCluster('    connectTimeout: 250ms\n    timeout: 2m\n    idleTimeout: 1h\n')).clusters[0]!;
  assert.deepEqual([c.connectTimeoutMs, c.timeoutMs, c.idleTimeoutMs], [250, 120_000, 3_600_000]);
});

test('counts are positive integers; maxEjectionPercent is 0-100; thresholds are at least 1', () => {
  assert.deepEqual(problemsOf(withCluster('    maxConnections: 0\n    maxPendingRequests: 1.5\n')), [
    'clusters[0].maxConnections: must be at least 1, got 0',
    'clusters[0].maxPendingRequests: expected an integer, got number 1.5',
  ]);
  assert.deepEqual(problemsOf(withCluster('    outlierDetection: { maxEjectionPercent: -1 }\n')), [
    'clusters[0].outlierDetection.maxEjectionPercent: must be between 0 and 100, got -1',
  ]);
  for (const percent of [0, 100]) {
    const od = parseProxyConfig(withCluster(`    outlierDetection: { maxEjectionPercent: ${percent} }\n`)).clusters[0]!.outlierDetection;
    assert.equal(od?.maxEjectionPercent, percent);
  }
  assert.deepEqual(problemsOf(withCluster('    healthCheck: { path: /h, healthyThreshold: 0, unhealthyThreshold: 0 }\n')), [
    'clusters[0].healthCheck.unhealthyThreshold: must be at least 1, got 0',
    'clusters[0].healthCheck.healthyThreshold: must be at least 1, got 0',
  ]);
});

test('health check: path required and absolute; timeout no longer than interval', () => {
  assert.deepEqual(problemsOf(withCluster('    healthCheck: { interval: 1s }\n')), ['clusters[0].healthCheck.path: required field is missing']);
  assert.deepEqual(problemsOf(withCluster('    healthCheck: { path: /h, interval: 1s, timeout: 2s }\n')), [
    'clusters[0].healthCheck.timeout: must not be longer than interval (1s)',
  ]);
  assert.equal(parseProxyConfig(withCluster('    healthCheck: { path: /h, interval: 1s, timeout: 1s }\n')).clusters[0]!.healthCheck?.timeoutMs, 1000);
  // Without an explicit timeout, a short interval shortens the default timeout.
  assert.deepEqual(parseProxyConfig(withCluster('    healthCheck: { path: /h, interval: 50ms }\n')).clusters[0]!.healthCheck, {
    path: '/h', intervalMs: 50, timeoutMs: 50, unhealthyThreshold: 3, healthyThreshold: 1,
  });
  assert.equal(parseProxyConfig(withCluster('    healthCheck: ~\n')).clusters[0]!.healthCheck, null);
});

test('listener header limits', () => {
  assert.deepEqual(problemsOf(withListener('    maxRequestHeadersSize: 61440\n')), [
    'listeners[0].maxRequestHeadersSize: a size needs a unit, like "61440B" or "61440KiB" (plain numbers are not accepted)',
  ]);
  assert.deepEqual(problemsOf(withListener('    maxRequestHeadersSize: 9MiB\n')), ['listeners[0].maxRequestHeadersSize: must be between 1B and 8MiB, got 9MiB']);
  assert.equal(parseProxyConfig(withListener('    maxRequestHeadersSize: 1MB\n')).listeners[0]!.maxRequestHeadersBytes, 1_000_000);
});

test('filters: name and module required, names unique per listener, enums checked', () => {
  assert.deepEqual(problemsOf(withListener('    filters:\n      - { rootId: 5, failurePolicy: closed }\n      - module: x.wasm\n        config: { when: .nan }\n')), [
    'listeners[0].filters[0].name: required field is missing',
    'listeners[0].filters[0].module: required field is missing',
    'listeners[0].filters[0].rootId: expected a string, got number 5',
    'listeners[0].filters[0].failurePolicy: unknown failure policy "closed" (expected one of failClosed, failOpen, reload)',
    'listeners[0].filters[1].name: required field is missing',
    'listeners[0].filters[1].config.when: not valid JSON: numbers must be finite, got NaN',
  ]);
  // The same filter name on two listeners is fine.
  const config = parseProxyConfig(
    'listeners:\n  - { name: a, address: "127.0.0.1:0", filters: [{ name: f, module: m }] }\n  - { name: b, address: "127.0.0.1:0", filters: [{ name: f, module: m }] }\n',
  );
  assert.deepEqual(config.listeners.map((l) => l.filters[0]!.rootId), ['f', 'f']);
});

test('top level: logLevel, accessLog, admin', () => {
  assert.deepEqual(problemsOf(MINIMAL + 'logLevel: WARN\naccessLog: {}\nadmin: { address: "localhost" }\n'), [
    'logLevel: unknown log level "WARN" (expected one of trace, debug, info, warn, error)',
    'accessLog.path: required field is missing',
    'admin.address: invalid address "localhost": missing port (expected host:port, like "127.0.0.1:8080", "[::1]:8080" or "web.local:80")',
  ]);
  for (const level of ['trace', 'debug', 'info', 'warn', 'error']) assert.equal(parseProxyConfig(MINIMAL + `logLevel: ${level}\n`).logLevel, level);
  assert.deepEqual(parseProxyConfig(MINIMAL + 'accessLog: { path: /var/log/wasmesh.log }\n').accessLog, { path: '/var/log/wasmesh.log' });
  assert.deepEqual(parseProxyConfig(MINIMAL + 'admin: {}\n').admin, { address: { host: '127.0.0.1', port: 15000 } });
});

test('the example in docs/config.md is valid', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const markdown = readFileSync(join(__dirname, '../../../docs/config.md'), 'utf8');
  const example = /```yaml\n([\s\S]*?)```/.exec(markdown)?.[1];
  assert.ok(example !== undefined);
  const config = parseProxyConfig(example, 'docs/config.md');
  assert.deepEqual(config.clusters, [EXPECTED_CLUSTER]);
});
