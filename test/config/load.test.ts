import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProxyConfigFile, parseProxyConfig } from '../../runtime/config/load';
import { ConfigError } from '../../runtime/core/errors';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail('expected a ConfigError');
}

test('YAML syntax errors are ConfigErrors with line and column', () => {
  const yaml = 'listeners:\n  - name: edge\n   address: 127.0.0.1:8080\n';
  const withSource = configError(() => parseProxyConfig(yaml, 'proxy.yaml'));
  assert.deepEqual(withSource.problems, ['proxy.yaml:3:4: YAML syntax: Sequence item without - indicator']);
  assert.equal(withSource.message, 'proxy.yaml: invalid config (1 error):\n  proxy.yaml:3:4: YAML syntax: Sequence item without - indicator');
  const withoutSource = configError(() => parseProxyConfig(yaml));
  assert.deepEqual(withoutSource.problems, ['line 3, column 4: YAML syntax: Sequence item without - indicator']);
  assert.deepEqual(configError(() => parseProxyConfig('listeners:\n\t- name: x\n', 'p.yaml')).problems, [
    'p.yaml:2:1: YAML syntax: Tabs are not allowed as indentation',
  ]);
  assert.deepEqual(configError(() => parseProxyConfig('admin: { address: 127.0.0.1:1\n', 'p.yaml')).problems.length, 1);
});

test('other YAML-level problems: duplicate keys, several documents, dangling aliases, complex keys', () => {
  assert.deepEqual(configError(() => parseProxyConfig('logLevel: info\nlogLevel: debug\n', 'p.yaml')).problems, [
    'p.yaml:2:1: YAML syntax: Map keys must be unique',
  ]);
  assert.deepEqual(configError(() => parseProxyConfig('logLevel: info\n---\nlogLevel: debug\n', 'p.yaml')).problems, [
    'p.yaml:2:1: YAML syntax: more than one document (remove the second "---")',
  ]);
  assert.deepEqual(configError(() => parseProxyConfig('listeners: *l\n', 'p.yaml')).problems, ['p.yaml:1:12: YAML: unknown alias *l']);
  assert.deepEqual(configError(() => parseProxyConfig('? [a]\n: 1\n', 'p.yaml')).problems, [
    'p.yaml:1:3: YAML: mapping keys must be plain scalars, not lists or mappings',
  ]);
});

test('anchors and aliases resolve; problems inside aliased data point at the alias', () => {
  const config = parseProxyConfig(`listeners: [{ name: a, address: "127.0.0.1:0" }]
clusters:
  - { name: a, endpoints: &eps [127.0.0.1:1, 127.0.0.1:2] }
  - { name: b, endpoints: *eps }
`);
  assert.deepEqual(config.clusters[1]!.endpoints, [
    { host: '127.0.0.1', port: 1 },
    { host: '127.0.0.1', port: 2 },
  ]);
  const yaml = `listeners: [{ name: a, address: "127.0.0.1:0" }]
clusters:
  - name: a
    endpoints: &eps [127.0.0.1:1, "bad"]
  - name: b
    endpoints: *eps
`;
  assert.deepEqual(configError(() => parseProxyConfig(yaml, 'p.yaml')).problems, [
    'p.yaml:4: clusters[0].endpoints[1]: invalid address "bad": missing port (expected host:port, like "127.0.0.1:8080", "[::1]:8080" or "web.local:80")',
    'p.yaml:6: clusters[1].endpoints[1]: invalid address "bad": missing port (expected host:port, like "127.0.0.1:8080", "[::1]:8080" or "web.local:80")',
  ]);
});

test('an empty document is a clear error', () => {
  for (const text of ['', '\n\n', '# just a comment\n', '---\n']) {
    assert.deepEqual(configError(() => parseProxyConfig(text, 'p.yaml')).problems, ['p.yaml: the config is empty (it needs at least "listeners")'], JSON.stringify(text));
  }
  assert.deepEqual(configError(() => parseProxyConfig('')).problems, ['the config is empty (it needs at least "listeners")']);
});

test('a top level that is not a mapping is a clear error', () => {
  assert.deepEqual(configError(() => parseProxyConfig('# header\n- name: edge\n', 'p.yaml')).problems, [
    'p.yaml:2: the top level must be a mapping (with "listeners", "clusters", ...), got a list',
  ]);
  assert.deepEqual(configError(() => parseProxyConfig('listeners\n', 'p.yaml')).problems, [
    'p.yaml:1: the top level must be a mapping (with "listeners", "clusters", ...), got string "listeners"',
  ]);
});

test('loadProxyConfigFile: reads a file and prefixes problems with its path; unreadable files are ConfigErrors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmesh-config-'));
  try {
    const good = join(dir, 'proxy.yaml');
    writeFileSync(good, '\uFEFFlisteners: [{ name: edge, address: "127.0.0.1:0" }]\n');
    assert.deepEqual(loadProxyConfigFile(good).listeners[0]!.address, { host: '127.0.0.1', port: 0 });

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'listeners: [{ name: edge, address: "127.0.0.1:0" }]\nlogLevel: loud\n');
    const e = configError(() => loadProxyConfigFile(bad));
    assert.deepEqual(e.problems, [`${bad}:2: logLevel: unknown log level "loud" (expected one of trace, debug, info, warn, error)`]);
    assert.ok(e.message.startsWith(`${bad}: invalid config (1 error):\n`));

    const missing = join(dir, 'missing.yaml');
    assert.deepEqual(configError(() => loadProxyConfigFile(missing)).problems, [`${missing}: cannot read config file: no such file`]);
    assert.deepEqual(configError(() => loadProxyConfigFile(dir)).problems, [`${dir}: cannot read config file: is a directory`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
