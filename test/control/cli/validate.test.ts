// `wasmesh validate -f`: real CLI processes, offline. Files are checked as one
// mesh; every problem is listed as FILE:LINE: PATH: MESSAGE, exit 1.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { BIN, tmpDir } from '../../support/proxy';
import { BUILTIN_DIR } from '../../../runtime/wasm/loader';

const ROUTER_WASM = path.join(BUILTIN_DIR, 'router.wasm');

function wasmesh(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const env = { ...process.env, ...opts.env };
  if (opts.env?.WASMESH_TOKEN === undefined) delete env.WASMESH_TOKEN;
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, cwd: opts.cwd, input: opts.input, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
}

const SERVICE = `apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata:
  name: reviews
spec:
  ports:
  - name: http
    port: 9080
  endpoints:
  - address: 127.0.0.1:9001
    labels: { version: v1 }
  - address: 127.0.0.1:9002
    labels: { version: v2 }
`;

const RULE = `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: { version: v1 }
  - name: v2
    labels: { version: v2 }
`;

const SPLIT = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 90
    - destination:
        host: reviews
        subset: v2
      weight: 10
`;

function bundle(name: string, spec: string): string {
  return `apiVersion: wasmesh.io/v1alpha1
kind: FilterBundle
metadata:
  name: ${name}
spec:
  version: "1.0"
${spec}`;
}

describe('wasmesh validate -f (mesh resources, offline)', () => {
  it('accepts a good file and says what it holds', () => {
    const dir = tmpDir();
    write(dir, { 'mesh.yaml': `${SERVICE}---\n${RULE}---\n${SPLIT}` });
    const r = wasmesh(['validate', '-f', 'mesh.yaml'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'mesh.yaml: ok (3 resources: 1 Service, 1 DestinationRule, 1 VirtualService)\n');
  });

  it('checks several files as one mesh: a cross reference across files is fine, in a directory too', () => {
    const dir = tmpDir();
    write(dir, { 'mesh/1-service.yaml': SERVICE, 'mesh/2-rule.yml': RULE, 'mesh/README.md': 'not yaml', 'split.yaml': SPLIT });
    const r = wasmesh(['validate', '-f', 'mesh', '-f', 'split.yaml'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^mesh\/1-service\.yaml, mesh\/2-rule\.yml, split\.yaml: ok \(3 resources/);
    // The same VirtualService alone misses its Service and subsets.
    const alone = wasmesh(['validate', '-f', 'split.yaml'], { cwd: dir });
    assert.equal(alone.status, 1);
    assert.match(alone.stderr, /split\.yaml:10: spec\.http\[0\]\.route\[0\]\.destination\.host: unknown service "reviews"/);
  });

  it('reads stdin for -', () => {
    const dir = tmpDir();
    write(dir, { 'service.yaml': SERVICE });
    const r = wasmesh(['validate', '-f', 'service.yaml', '-f', '-'], { cwd: dir, input: `${RULE}---\n${SPLIT}` });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /service\.yaml, <stdin>: ok \(3 resources/);
  });

  it('lists every problem of every file with file:line: path, and exits 1', () => {
    const dir = tmpDir();
    const bad = SPLIT.replace('subset: v2', 'subset: v3').replace('weight: 10', 'weight: 20').replace('  hosts: [reviews]', '  hosts: [reviews]\n  htp: []');
    write(dir, { 'a.yaml': SERVICE, 'b.yaml': `${RULE}---\n${bad}`, 'c.yaml': 'apiVersion: wasmesh.io/v1alpha1\nkind: Servce\nmetadata: { name: x }\nspec: {}\n' });
    const r = wasmesh(['validate', '-f', 'a.yaml', '-f', 'b.yaml', '-f', 'c.yaml'], { cwd: dir });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[0]!, /^wasmesh validate: \d+ problems$/);
    assert.ok(lines.includes('  b.yaml:19: spec.htp: unknown field (did you mean "http"?)'), r.stderr);
    assert.ok(lines.some((l) => /^ {2}b\.yaml:2\d: spec\.http\[0\]\.route\[1\]\.destination\.subset: unknown subset "v3"/.test(l)), r.stderr);
    assert.ok(lines.some((l) => /^ {2}b\.yaml:2\d: spec\.http\[0\]\.route: .*100/.test(l)), r.stderr);
    assert.ok(lines.some((l) => /^ {2}c\.yaml:2: kind: unknown kind "Servce" \(did you mean "Service"\?\)/.test(l)), r.stderr);
  });

  it('reports a YAML syntax error with its file and line', () => {
    const dir = tmpDir();
    write(dir, { 'a.yaml': SERVICE, 'b.yaml': 'apiVersion: v1\nkind: [unclosed\n' });
    const r = wasmesh(['validate', '-f', '.'], { cwd: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^wasmesh validate: 1 problem\n {2}b\.yaml:[23]:\d+: YAML syntax: /);
  });

  it('names every -f argument that cannot be read', () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'empty'));
    const r = wasmesh(['validate', '-f', 'nope.yaml', '-f', 'empty'], { cwd: dir });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /nope\.yaml: no such file or directory/);
    assert.match(r.stderr, /empty: no \*\.yaml or \*\.yml files in this directory/);
  });

  describe('FilterBundle modules', () => {
    it('a real proxy-wasm module compiles; module paths are relative to the YAML file', () => {
      const dir = tmpDir();
      const bytes = fs.readFileSync(ROUTER_WASM);
      const sha = createHash('sha256').update(bytes).digest('hex');
      write(dir, {
        'filters/router.wasm': bytes,
        'filters/bundles.yaml': `${bundle('one', '  module: router.wasm\n')}---\n${bundle('two', `  module: ./router.wasm\n  sha256: "${sha}"\n`)}`,
      });
      const r = wasmesh(['validate', '-f', 'filters'], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'filters/bundles.yaml: ok (2 resources: 2 FilterBundle; 1 filter module compiled)\n');
    });

    it('a missing module, a sha256 that does not match, and bytes that are not WebAssembly are all reported at spec.module', () => {
      const dir = tmpDir();
      const wrong = 'ab'.repeat(32);
      write(dir, {
        'router.wasm': fs.readFileSync(ROUTER_WASM),
        'text.wasm': 'not wasm at all',
        'empty.wasm': Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
        'bundles.yaml': [
          bundle('missing', '  module: ./nope.wasm\n'), // lines 1-7, module at 7
          bundle('mismatch', `  module: router.wasm\n  sha256: "${wrong}"\n`), // 9-16, module at 15
          bundle('text', '  module: text.wasm\n'), // 18-24
          bundle('plain', '  module: empty.wasm\n'), // 26-32
        ].join('---\n'),
      });
      const r = wasmesh(['validate', '-f', 'bundles.yaml'], { cwd: dir });
      assert.equal(r.status, 1);
      const sha = createHash('sha256').update(fs.readFileSync(ROUTER_WASM)).digest('hex');
      const lines = r.stderr.trim().split('\n');
      assert.deepEqual(lines, [
        'wasmesh validate: 4 problems',
        `  bundles.yaml:7: spec.module: cannot read ./nope.wasm (${path.join(fs.realpathSync(dir), 'nope.wasm')}): no such file`,
        `  bundles.yaml:15: spec.module: router.wasm hashes to ${sha}, but spec.sha256 is ${wrong}`,
        lines[3]!,
        '  bundles.yaml:32: spec.module: empty.wasm: not a proxy-wasm module (it exports no proxy_abi_version_X_Y_Z marker)',
      ]);
      assert.match(lines[3]!, /^ {2}bundles\.yaml:24: spec\.module: text\.wasm is not a WebAssembly module: /);
    });
  });

  it('-c FILE and a lone FILE still validate a proxy config; -f with -c is refused', () => {
    const dir = tmpDir();
    write(dir, { 'proxy.yaml': 'listeners:\n  - name: edge\n    address: 127.0.0.1:0\n    defaultCluster: web\nclusters:\n  - { name: web, endpoints: [127.0.0.1:9] }\n' });
    for (const args of [['validate', '-c', 'proxy.yaml'], ['validate', 'proxy.yaml']]) {
      const r = wasmesh(args, { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'proxy.yaml: ok\n');
    }
    const mixed = wasmesh(['validate', '-c', 'proxy.yaml', '-f', 'proxy.yaml'], { cwd: dir });
    assert.equal(mixed.status, 2);
    // A proxy config is not a mesh resource: -f says so instead of accepting it.
    const asMesh = wasmesh(['validate', '-f', 'proxy.yaml'], { cwd: dir });
    assert.equal(asMesh.status, 1);
    assert.match(asMesh.stderr, /proxy\.yaml:1: /);
  });
});

describe('control-plane commands without a control plane', () => {
  it('a missing token is one clear error naming --token and WASMESH_TOKEN', () => {
    const r = wasmesh(['status']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'wasmesh status: no token: pass --token TOKEN or set WASMESH_TOKEN (the control plane writes it to DATA_DIR/token)\n');
  });

  it('connection refused is one line naming the URL', async () => {
    const port = await closedPort();
    const dir = tmpDir();
    write(dir, { 'mesh.yaml': SERVICE });
    for (const args of [['apply', '-f', 'mesh.yaml'], ['get', 'services'], ['status'], ['history']]) {
      const r = wasmesh([...args, '--control', `127.0.0.1:${port}`], { cwd: dir, env: { WASMESH_TOKEN: 't' } });
      assert.equal(r.status, 1, args.join(' '));
      assert.equal(r.stderr, `wasmesh ${args[0]}: cannot reach the control plane at http://127.0.0.1:${port}: connection refused (is \`wasmesh control\` running there? set --control or WASMESH_CONTROL)\n`);
    }
  });

  it('an unknown option is a usage error (exit 2), not a value for the previous one', () => {
    const r = wasmesh(['apply', '-f', 'x.yaml', '--dryrun'], { env: { WASMESH_TOKEN: 't' } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^wasmesh apply: unknown option --dryrun\nusage: wasmesh apply /);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
