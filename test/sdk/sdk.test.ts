// The AssemblyScript SDK and its build, tested for real: filters are compiled
// with buildFilter (and the CLI), their Wasm imports/exports are checked
// against ABI 0.2.1, and they run in the host emulator (sdk/testing), which is
// the proxy's own loader, VM and host functions: configuration, both
// directions of a stream, foreign functions, HTTP calls, ticks and queues.
// The JSON parser, base64url, the header-map codec and property paths are
// unit-tested through a small AS filter (fixtures/unit) that takes its input
// as a request body and logs the result.
//
// The compiles (1-8 s each) are started once, two at a time, and shared.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createSign, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { buildFilter, type BuildResult, type FilterManifest } from '../../sdk/build/build-filter';
import { buildBuiltins, listBuiltinFilters, type BuiltinsReport } from '../../sdk/build/build-builtins';
import { runFilterTests, type RunTestsResult } from '../../sdk/build/run-tests';
import { Emulator, type EmulatedStream, type EmulatorOptions, type LogEntry } from '../../sdk/testing';
import { ENV_IMPORTS } from '../../runtime/wasm/abi';
import { encodePairs, readPairs } from '../../runtime/wasm/header-pairs';
import { checkModule } from '../../runtime/wasm/loader';
import type { FlatHeaderMap } from '../../runtime/http/header-map';

const ROOT = path.resolve(__dirname, '../../..');
const FIXTURES = path.join(ROOT, 'test', 'sdk', 'fixtures');
const BIN = path.join(ROOT, 'bin', 'wasmesh.js');
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-sdk-test-'));
process.on('exit', () => fs.rmSync(WORK, { recursive: true, force: true }));

function cli(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: WORK });
}

interface CliBuild {
  dir: string;
  stdout: string;
  status: number | null;
  wasmPath: string;
}

/** Runs the jobs, at most `n` at a time (2 cores; each asc is single-threaded). */
async function pool<T>(jobs: (() => Promise<T>)[], n: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return results;
}

// ---- the shared builds

let helloBuilt!: (b: CliBuild) => void;
/** The scaffold's own test (test/filter.test.mjs), run as `wasmesh filter test` would, while the other compiles go on. */
const helloTests: Promise<RunTestsResult | null> = new Promise<CliBuild>((resolve) => (helloBuilt = resolve)).then((h) =>
  h.status === 0 ? runFilterTests(h.dir, { stdio: 'pipe' }) : null,
);
/** An RSA key for the JWT check of the kitchen-sink filter, generated while the compiles run. */
const rsaKey = promisify(generateKeyPair)('rsa', { modulusLength: 2048 });

const builds = (async () => {
  const helloDir = path.join(WORK, 'hello');
  const brokenRoot = path.join(WORK, 'builtins');
  fs.mkdirSync(path.join(brokenRoot, 'broken', 'assembly'), { recursive: true });
  fs.writeFileSync(
    path.join(brokenRoot, 'broken', 'assembly', 'index.ts'),
    'import { log } from "wasmesh-sdk";\nexport function f(): void { const x: i32 = "not a number"; log.info(x.toString()); }\n',
  );
  fs.mkdirSync(path.join(brokenRoot, 'not-a-filter'));
  const [hello, everything, unit, broken] = await pool<unknown>([
    async (): Promise<CliBuild> => {
      const created = cli('filter', 'new', 'hello', '--dir', helloDir);
      assert.equal(created.status, 0, created.stderr);
      const built = await new Promise<CliBuild>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'filter', 'build', helloDir], { cwd: WORK });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => (stdout += b));
        child.stderr.on('data', (b: Buffer) => (stderr += b));
        child.on('close', (status) =>
          resolve({ dir: helloDir, stdout: stdout + stderr, status, wasmPath: path.join(helloDir, 'build', 'hello.wasm') }),
        );
      });
      helloBuilt(built);
      return built;
    },
    () => buildFilter({ dir: path.join(FIXTURES, 'everything'), outFile: path.join(WORK, 'out', 'everything.wasm') }),
    () => buildFilter({ dir: path.join(FIXTURES, 'unit'), outFile: path.join(WORK, 'out', 'unit.wasm'), optimize: false }),
    () => buildBuiltins({ filtersDir: brokenRoot, outDir: path.join(WORK, 'builtins-out'), log: () => {} }),
  ], 2);
  return {
    hello: hello as CliBuild,
    everything: everything as BuildResult,
    unit: unit as BuildResult,
    broken: broken as BuiltinsReport,
    brokenRoot,
  };
})();

// ---- build and module shape

const ABI_EXPORTS = [
  'proxy_abi_version_0_2_1', 'proxy_on_memory_allocate', '_initialize', 'memory',
  'proxy_on_context_create', 'proxy_on_vm_start', 'proxy_on_configure', 'proxy_on_tick', 'proxy_on_queue_ready',
  'proxy_on_foreign_function', 'proxy_on_done', 'proxy_on_log', 'proxy_on_delete',
  'proxy_on_request_headers', 'proxy_on_request_body', 'proxy_on_request_trailers',
  'proxy_on_response_headers', 'proxy_on_response_body', 'proxy_on_response_trailers',
  'proxy_on_http_call_response', 'proxy_on_new_connection', 'proxy_on_downstream_data', 'proxy_on_upstream_data',
  'proxy_on_downstream_connection_close', 'proxy_on_upstream_connection_close',
  'proxy_on_grpc_receive_initial_metadata', 'proxy_on_grpc_receive', 'proxy_on_grpc_receive_trailing_metadata',
  'proxy_on_grpc_close',
];

function checkAbiShape(wasmPath: string): { imports: string[]; exports: string[] } {
  const bytes = fs.readFileSync(wasmPath);
  // the host's own load-time check: the 0.2.1 marker, and only imports that version registers
  assert.equal(checkModule(path.basename(wasmPath), bytes), '0.2.1');
  const mod = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(mod);
  const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
  for (const name of ABI_EXPORTS) assert.ok(exports.includes(name), `${path.basename(wasmPath)} exports ${name}`);
  for (const e of exports) {
    assert.ok(!/^proxy_abi_version_(?!0_2_1$)/.test(e), `no other ABI marker (${e})`);
    assert.notEqual(e, 'malloc');
  }
  for (const i of imports) {
    assert.equal(i.module, 'env', `import ${i.module}.${i.name} is not from env`);
    assert.equal(i.kind, 'function');
    assert.ok(ENV_IMPORTS['0.2.1'].has(i.name), `import env.${i.name} is not an ABI 0.2.1 host function`);
  }
  return { imports: imports.map((i) => i.name).sort(), exports };
}

test('wasmesh filter new + build: the scaffold builds, with a manifest, and its own test passes', async () => {
  const { hello } = await builds;
  assert.equal(hello.status, 0, hello.stdout);
  for (const f of ['assembly/index.ts', 'assembly/tsconfig.json', 'package.json', 'test/filter.test.mjs', '.gitignore', 'README.md']) {
    assert.ok(fs.existsSync(path.join(hello.dir, f)), f);
  }
  assert.match(fs.readFileSync(path.join(hello.dir, 'test', 'filter.test.mjs'), 'utf8'), /build\/hello\.wasm/);
  const bytes = fs.readFileSync(hello.wasmPath);
  const sha = createHash('sha256').update(bytes).digest('hex');
  assert.match(hello.stdout, new RegExp(`hello\\.wasm\\s+${bytes.length} bytes\\s+sha256 ${sha}`));
  const manifest = JSON.parse(fs.readFileSync(path.join(hello.dir, 'build', 'hello.json'), 'utf8')) as FilterManifest;
  const pkgVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  assert.deepEqual(manifest, {
    name: 'hello',
    version: '0.1.0', // from the scaffold's package.json
    file: 'hello.wasm',
    size: bytes.length,
    sha256: sha,
    abiVersion: '0.2.1',
    sdkVersion: pkgVersion,
    compiler: 'assemblyscript 0.28.20',
    runtime: 'minimal',
    optimized: true,
  });
  // the generated test drives the built filter through wasmesh/sdk/testing
  const run = await helloTests;
  assert.ok(run, 'the scaffold test ran');
  assert.deepEqual(run.files.map((f) => path.relative(hello.dir, f)), [path.join('test', 'filter.test.mjs')]);
  assert.equal(run.exitCode, 0, run.output);
  assert.match(run.output, /# pass 2/);
});

test('modules export every proxy_on_* callback and import only ABI 0.2.1 host functions', async () => {
  const { hello, everything, unit } = await builds;
  const h = checkAbiShape(hello.wasmPath);
  checkAbiShape(unit.wasmPath);
  const e = checkAbiShape(everything.wasmPath);
  // the sample imports only what it uses
  assert.deepEqual(h.imports, [
    'proxy_get_buffer_bytes', 'proxy_get_header_map_value', 'proxy_get_log_level', 'proxy_get_property', 'proxy_log',
    'proxy_replace_header_map_value', 'proxy_set_effective_context',
  ]);
  // every SDK area made it into the kitchen-sink filter
  for (const name of [
    'proxy_call_foreign_function', 'proxy_http_call', 'proxy_send_local_response', 'proxy_set_buffer_bytes',
    'proxy_get_buffer_status', 'proxy_define_metric', 'proxy_increment_metric', 'proxy_record_metric', 'proxy_get_metric',
    'proxy_get_shared_data', 'proxy_set_shared_data', 'proxy_register_shared_queue', 'proxy_resolve_shared_queue',
    'proxy_enqueue_shared_queue', 'proxy_dequeue_shared_queue', 'proxy_set_tick_period_milliseconds', 'proxy_set_property',
    'proxy_get_header_map_pairs', 'proxy_set_header_map_pairs', 'proxy_add_header_map_value', 'proxy_remove_header_map_value',
    'proxy_continue_stream', 'proxy_close_stream', 'proxy_done', 'proxy_get_current_time_nanoseconds',
  ]) {
    assert.ok(e.imports.includes(name), `everything imports ${name}`);
  }
  assert.equal(everything.manifest.version, '0.0.0'); // no package.json
  assert.equal(everything.manifest.name, 'everything');
  assert.equal(unit.manifest.optimized, false);
});

test('a compile error fails the build with the compiler message; build-builtins reports it', async () => {
  const { broken, brokenRoot } = await builds;
  assert.deepEqual(listBuiltinFilters(brokenRoot), ['broken']);
  assert.equal(broken.built.length, 0);
  assert.equal(broken.failed.length, 1);
  const err = broken.failed[0]!.error as Error & { code?: string; output?: string };
  assert.equal(err.name, 'FilterBuildError');
  assert.equal(err.code, 'FILTER_BUILD_FAILED');
  assert.match(err.message, /^broken: the AssemblyScript compiler failed/);
  assert.match(err.message, /TS2322/);
  assert.match(err.message, /in assembly\/index\.ts\(2,44\)/);
  assert.match(err.message, /FAILURE 1 compile error/); // only that one: "wasmesh-sdk" resolved
  assert.ok(!fs.existsSync(path.join(WORK, 'builtins-out', 'broken.wasm')));
});

// ---- helpers for the emulator

/** What `vm` logged at `level`, optionally only from entry `from` on. */
function messages(vm: Emulator, level: LogEntry['level'], from = 0): string[] {
  return vm.logs.slice(from).filter((l) => l.level === level).map((l) => l.message);
}

/** A header map as its list of pairs, in order. */
function pairsOf(m: FlatHeaderMap | null): [string, string][] {
  return m === null ? [] : m.names.map((n, i): [string, string] => [n, m.values[i]!]);
}

/**
 * Loading fails because the filter refused its configuration, and the error
 * tells why: the reason the filter logged.
 *
 * The emulator discards its log with the instance when Emulator.load throws
 * (the load error only says "see its log"), so the logged reason is
 * expected in the error itself. Failing today: see the report on
 * sdk/testing/emulator.ts, Emulator.load.
 */
async function assertRefused(load: Promise<Emulator>, reason: string): Promise<void> {
  await assert.rejects(load, (e: Error & { code?: string }) => {
    assert.equal(e.name, 'WasmLoadError');
    assert.equal(e.code, 'WASM_CONFIGURE_FAILED');
    assert.match(e.message, /proxy_on_configure returned false/);
    assert.ok(e.message.includes(reason), `the refusal carries the logged reason ${JSON.stringify(reason)}; got: ${e.message}`);
    return true;
  });
}

/**
 * Counts the host's reads of the stream's :method and :path. The host serves
 * those pseudo-headers (get_header_map_value, the pairs, request.* properties)
 * from these two fields, and nothing else reads them while a request-headers
 * callback runs, so a read here is a guest asking for one of them.
 */
function countPseudoHeaderReads(s: EmulatedStream): { reads: number } {
  const counter = { reads: 0 };
  for (const field of ['method', 'path'] as const) {
    let value = s[field];
    Object.defineProperty(s, field, {
      configurable: true,
      enumerable: true,
      get: () => (counter.reads++, value),
      set: (v: string) => void (value = v),
    });
  }
  return counter;
}

/** A counter's or gauge's value. */
function metricValue(vm: Emulator, name: string): bigint | undefined {
  const m = vm.metric(name);
  return m !== undefined && 'value' in m ? m.value : undefined;
}

/** Resolves once `cond()` holds (queue wake-ups are asynchronous), or fails after `ms`. */
async function eventually(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---- the sample filter in the emulator

async function loadHello(config: string, opts: EmulatorOptions = {}): Promise<Emulator> {
  const { hello } = await builds;
  return Emulator.load(hello.wasmPath, { name: 'hello', config, logLevel: 'info', ...opts });
}

test('sample filter: JSON config through vm_start/configure sets the response header', async () => {
  // registered as "": the only root also serves another root_id
  const vm = await loadHello('{"header": "X-Test", "value": "v\\u00e9"}', { rootId: 'some_root_id', logLevel: 'info' });
  for (let i = 0; i < 2; i++) {
    const s = vm.newStream();
    const reads = countPseudoHeaderReads(s);
    assert.equal(s.sendRequestHeaders({ ':path': '/a', ':method': 'GET' }, true), 'continue');
    // info level: the debug line is skipped without even reading :method/:path
    assert.equal(reads.reads, 0, 'no :method/:path lookups at info level');
    assert.equal(s.requestForwarded, true);
    assert.equal(s.sendResponseHeaders({ ':status': '200' }), 'continue');
    assert.equal(s.responseStatus, 200);
    // Name lowercased. (The SDK lowercases before the host call; this host's
    // header map lowercases too, so only the result is observable.)
    assert.deepEqual(pairsOf(s.responseHeaders), [['x-test', 'vé']]);
    s.complete();
  }
  // The SDK fetches the log level once per vm_start/configure and caches it;
  // the host answers proxy_get_log_level from the VM's fixed spec, so how
  // often it is asked cannot be observed. Its effect is: no debug message,
  // and no header reads to build one (above).
  assert.deepEqual(messages(vm, 'debug'), []);
  assert.deepEqual(messages(vm, 'error'), []);
  vm.close();
});

test('sample filter: empty config uses the defaults; debug level logs the request', async () => {
  const vm = await loadHello('', { rootId: '', logLevel: 'debug' });
  const s = vm.newStream();
  const reads = countPseudoHeaderReads(s);
  assert.equal(s.sendRequestHeaders({ ':path': '/p?q=1', ':method': 'POST' }), 'continue');
  assert.equal(reads.reads, 2, ':method and :path read once each for the debug line');
  assert.equal(s.sendResponseHeaders({ ':status': '200' }, true), 'continue');
  assert.equal(s.responseHeaders!.get('x-hello'), 'world');
  assert.deepEqual(messages(vm, 'debug'), ['request POST /p?q=1']);
  s.complete();
  vm.close();
});

test('sample filter: invalid JSON config is refused with a logged reason', async () => {
  await assertRefused(loadHello('{"header": "x", "value": }'), "invalid configuration: unexpected '}' at line 1, column 26");
  await assertRefused(loadHello('["not", "an", "object"]'), 'invalid configuration: expected a JSON object, got array');
  await assertRefused(loadHello('{"header": ""}'), '"header" must not be empty');
});

// ---- the kitchen-sink filter in the emulator

async function loadEverything(rootId: string, config: object | string, opts: EmulatorOptions = {}): Promise<Emulator> {
  const { everything } = await builds;
  return Emulator.load(everything.wasmPath, { name: 'everything', rootId, config, ...opts });
}

const EVERYTHING_CONFIG = { cluster: 'backend-x', timeouts: { total_ms: 1500, per_try_ms: 500 }, methods: ['GET', 'POST'] };
const CLUSTERS = ['backend-x', 'auth'];

test('root contexts are matched by plugin_root_id; an unknown one refuses its config', async () => {
  const vm = await loadEverything('everything', EVERYTHING_CONFIG);
  assert.deepEqual(messages(vm, 'info'), ['configured cluster=backend-x timeouts=1500/500 methods=GET,POST']);
  assert.deepEqual(messages(vm, 'debug'), ['vm start: ']); // no VM configuration
  vm.close();
  // the root's onDone reads its counter back through the host, then finishes with proxy_done()
  assert.deepEqual(messages(vm, 'info').slice(1), ['requests so far: 0']);

  const other = await loadEverything('other', EVERYTHING_CONFIG);
  assert.deepEqual(other.logs, []); // the plain RootContext
  other.close();

  await assertRefused(loadEverything('nope', EVERYTHING_CONFIG), 'no root context registered for root_id "nope" (registered: "everything", "other")');
});

test('request headers: lookups, edits, wasmesh foreign functions and local responses', async () => {
  const vm = await loadEverything('everything', EVERYTHING_CONFIG, { clusters: CLUSTERS });
  const from = vm.logs.length;

  const s = vm.newStream();
  assert.equal(
    s.sendRequestHeaders([
      [':path', '/api'], [':method', 'POST'], ['x-user', 'u1'], ['x-multi', 'a'], ['x-multi', 'b'], ['x-remove-me', '1'],
    ]),
    'continue',
  );
  // wasmesh.set_cluster (cluster and hash key), set_timeouts, keep_request_body
  assert.deepEqual(s.route, { cluster: 'backend-x', hashKey: 'u1', timeoutMs: 1500, perTryTimeoutMs: 500 });
  assert.equal(s.keptRequestBody, 65536);
  assert.equal(s.method, 'POST');
  assert.equal(s.path, '/api');
  assert.deepEqual(pairsOf(s.requestHeaders), [
    ['x-user', 'u1'], ['x-multi', 'a'], ['x-multi', 'b'], ['x-seen-path', '/api'], ['x-multi-count', '2'],
    // pairs(): the four pseudo-headers (:authority, :path, :method, :scheme) and the six regular headers then present
    ['x-pair-count', '10'],
  ]);
  // set_property: filter state of the stream, under the NUL-joined path
  assert.equal(Buffer.from(s.state.get('wasmesh\0everything\0user') ?? []).toString(), 'u1');
  // request.id and request.size (i64) properties, and the raw source.address ("127.0.0.1:50000")
  assert.deepEqual(messages(vm, 'debug', from), [`request id ${s.requestId} size 0`]);
  assert.deepEqual(messages(vm, 'trace', from), ['source 15']);
  assert.equal(s.sendRequestBody('my secret and your secret', true), 'continue');
  assert.equal(s.forwardedRequestBody.toString(), 'my ****** and your ******');

  // a denied path: local response with serialized headers, and Pause
  const denied = vm.newStream();
  assert.equal(denied.sendRequestHeaders({ ':path': '/deny', ':method': 'GET' }, true), 'localReply');
  assert.equal(denied.requestForwarded, false);
  // (the gRPC status the SDK passes, -1 for none, does not affect an HTTP reply)
  assert.deepEqual(denied.localReply, {
    status: 403, body: 'forbidden', headers: [['x-reason', 'path'], ['x-path', '/deny']], flag: 'LR', details: 'denied_by_path',
  });

  // a method not in the config's list
  const wrongMethod = vm.newStream();
  assert.equal(wrongMethod.sendRequestHeaders({ ':path': '/', ':method': 'DELETE' }, true), 'localReply');
  assert.equal(wrongMethod.localReply!.status, 405);
  assert.deepEqual(wrongMethod.localReply!.headers, []);
  assert.equal(wrongMethod.localReply!.body, '');
  assert.equal(wrongMethod.localReply!.details, 'method_not_allowed');

  const counter = (name: string) => metricValue(vm, name);
  assert.equal(counter('everything_requests_total'), 3n);
  assert.equal(counter('everything_inflight'), 3n);

  // Ending the streams runs on_log, then on_done/on_delete: the contexts are
  // deleted. (The host never calls back into a deleted context, so the SDK
  // forgetting it is not observable beyond this.)
  for (const x of [s, denied, wrongMethod]) x.complete();
  assert.equal(counter('everything_inflight'), 0n);
  const latency = vm.metric('everything_latency_ms');
  assert.ok(latency !== undefined && 'count' in latency && latency.count === 3n, 'three latencies recorded');
  assert.deepEqual(messages(vm, 'error'), []);
  assert.equal(vm.failures.traps, 0);
  vm.close();
  assert.equal(messages(vm, 'info').at(-1), 'requests so far: 3');
});

test('SDK memory: contexts survive id wrap-around and concurrency; big values and bodies take the heap path', async () => {
  const vm = await loadEverything('everything', EVERYTHING_CONFIG, { clusters: CLUSTERS });
  // A long-lived stream, with a 40 000-byte header value: over the result arena's
  // 16 KiB blocks, and grows the argument buffer it is passed back through (hash key).
  const old = vm.newStream();
  const bigUser = 'u'.repeat(40_000);
  assert.equal(old.sendRequestHeaders({ ':path': '/a', ':method': 'POST', 'x-user': bigUser }), 'continue');
  assert.equal(old.route.hashKey, bigUser);

  // 1100 streams open at once, then 1500 one after another: context ids wrap
  // the SDK's 1024-slot table, so some ids share a slot with a live stream.
  const open = [];
  for (let i = 0; i < 1100; i++) {
    const s = vm.newStream();
    assert.equal(s.sendRequestHeaders({ ':path': '/b', ':method': 'GET', 'x-user': `user${i}` }, true), 'continue');
    assert.equal(s.route.hashKey, `user${i}`);
    open.push(s);
  }
  for (const s of open.reverse()) {
    assert.equal(s.sendResponseHeaders({ ':status': '200' }), 'continue');
    assert.equal(s.responseHeaders!.get('x-everything'), '1', 'the response reached this stream\'s context');
    s.complete();
  }
  for (let i = 0; i < 1500; i++) {
    const s = vm.newStream();
    assert.equal(s.sendRequestHeaders({ ':path': '/c', ':method': 'GET', 'x-user': `v${i}` }, true), 'continue');
    assert.equal(s.sendResponseHeaders({ ':status': '200' }), 'continue');
    assert.equal(s.responseHeaders!.get('x-everything'), '1');
    s.complete();
  }

  // The first stream still reaches its own context: a 140 KB body (read and
  // replaced in one piece, far over the arena) and its response.
  assert.equal(old.sendRequestBody('secret '.repeat(20_000), true), 'continue');
  assert.equal(old.forwardedRequestBody.toString(), '****** '.repeat(20_000));
  assert.equal(old.sendResponseHeaders({ ':status': '200' }), 'continue');
  assert.equal(old.responseHeaders!.get('x-everything'), '1');
  old.complete();

  assert.equal(metricValue(vm, 'everything_requests_total'), 2601n);
  assert.equal(metricValue(vm, 'everything_inflight'), 0n, 'every stream\'s on_log ran in its own context');
  assert.deepEqual(messages(vm, 'error'), []);
  assert.equal(vm.failures.traps, 0);
  vm.close();
});

test('response side: wasmesh.retry and wasmesh.delay, closing the stream, body edits', async () => {
  const vm = await loadEverything('everything', EVERYTHING_CONFIG, { clusters: CLUSTERS });
  const start = (): EmulatedStream => {
    const s = vm.newStream();
    assert.equal(s.sendRequestHeaders({ ':path': '/r', ':method': 'GET' }, true), 'continue');
    return s;
  };

  const ok = start();
  assert.equal(ok.sendResponseHeaders({ ':status': '200', 'content-type': 'text/html' }), 'continue');
  assert.deepEqual(pairsOf(ok.responseHeaders), [['content-type', 'text/html'], ['x-everything', '1']]);
  assert.equal(ok.sendResponseBody('<p>', false), 'continue');
  assert.equal(ok.sendResponseBody('</p>', true), 'continue');
  assert.equal(ok.forwardedResponseBody.toString(), '<p></p>\n<!-- everything -->');

  // 503: wasmesh.retry(100), and the response is held
  const retried = start();
  assert.equal(retried.sendResponseHeaders({ ':status': '503' }), 'pause');
  assert.deepEqual(retried.retries, [100]);
  assert.equal(retried.responseForwarded, false);

  // 429: wasmesh.delay(10) pauses the response, which continues 10 ms later
  const delayed = start();
  assert.equal(delayed.sendResponseHeaders({ ':status': '429' }), 'pause');
  assert.deepEqual(delayed.delays, [10]);
  vm.advance(9);
  assert.equal(delayed.responseForwarded, false);
  vm.advance(1);
  assert.equal(delayed.responseForwarded, true);
  assert.equal(delayed.lastAction, 'continue');

  // 500: closeStream(), which over HTTP/1 ends the stream with a local 503
  const closed = start();
  assert.equal(closed.sendResponseHeaders({ ':status': '500' }), 'localReply');
  assert.equal(closed.localReply!.status, 503);
  assert.equal(closed.localReply!.details, 'closed by filter "everything"');

  for (const s of [ok, retried, delayed, closed]) s.complete();
  assert.equal(vm.failures.traps, 0);
  vm.close();
});

test('HTTP calls, JWT verification through wasmesh.verify_signature, ticks, shared data and queues', async () => {
  const { publicKey, privateKey } = await rsaKey;
  const jwk = (publicKey as KeyObject).export({ format: 'jwk' });
  const vm = await loadEverything('everything', { ...EVERYTHING_CONFIG, auth_cluster: 'auth', jwk, tick_ms: 50 }, { clusters: CLUSTERS });

  // the HTTP call pauses the request; its response resumes it from the call's handler
  const allowed = vm.newStream();
  assert.equal(allowed.sendRequestHeaders({ ':path': '/', ':method': 'GET', 'x-user': 'u1' }, true), 'pause');
  assert.equal(vm.calls.length, 1);
  const call = vm.calls[0]!;
  assert.equal(call.cluster, 'auth');
  assert.equal(call.timeoutMs, 1000);
  assert.deepEqual(call.headers, [[':method', 'GET'], [':path', '/check'], [':authority', 'auth']]);
  call.respond(200, { 'x-user': 'alice' });
  assert.equal(allowed.lastAction, 'continue');
  assert.equal(allowed.requestForwarded, true);
  assert.equal(allowed.requestHeaders.get('x-auth-user'), 'alice');

  const refused = vm.newStream();
  assert.equal(refused.sendRequestHeaders({ ':path': '/', ':method': 'GET' }, true), 'pause');
  vm.calls[1]!.respond(401, {}, 'who?');
  assert.equal(refused.lastAction, 'localReply');
  assert.deepEqual(refused.localReply, { status: 403, body: 'denied: who?', headers: [['x-reason', 'auth']], flag: 'LR', details: 'auth_denied' });

  // a signed token: verified by the host, its claims decoded (base64url) into a header
  const b64 = (x: string | Buffer) => Buffer.from(x).toString('base64url');
  const claims = '{"sub":"u1","admin":true}';
  const signed = `${b64('{"alg":"RS256","typ":"JWT"}')}.${b64(claims)}`;
  const sig = createSign('sha256').update(signed).sign(privateKey as KeyObject);
  const jwt = vm.newStream();
  assert.equal(jwt.sendRequestHeaders({ ':path': '/', ':method': 'GET', authorization: `Bearer ${signed}.${b64(sig)}` }, true), 'pause');
  assert.equal(jwt.requestHeaders.get('x-jwt-claims'), claims);
  vm.calls[2]!.respond(200, { 'x-user': 'u1' });
  assert.equal(jwt.requestForwarded, true);

  const forged = vm.newStream();
  const badSig = Buffer.from(sig);
  badSig[0]! ^= 1;
  assert.equal(forged.sendRequestHeaders({ ':path': '/', ':method': 'GET', authorization: `Bearer ${signed}.${b64(badSig)}` }, true), 'localReply');
  assert.equal(forged.localReply!.status, 401);
  assert.equal(forged.localReply!.details, 'jwt_invalid');
  assert.equal(vm.calls.length, 3);
  for (const s of [allowed, refused, jwt, forged]) s.complete();

  // ticks every 50 ms (virtual): a CAS-incremented shared counter, and a message to the VM's own queue
  const from = vm.logs.length;
  vm.advance(120);
  vm.tick();
  assert.deepEqual(messages(vm, 'debug', from).filter((m) => m.startsWith('tick')), ['tick 1', 'tick 2', 'tick 3']);
  await eventually(() => messages(vm, 'debug', from).filter((m) => m === 'queue item: tick').length === 3, 'three queue items');
  assert.equal(vm.failures.traps, 0);
  vm.close();
});

// ---- unit tests of the SDK's JSON, base64url and header-map code

async function loadUnit(opts: EmulatorOptions = {}): Promise<Emulator> {
  const { unit } = await builds;
  return Emulator.load(unit.wasmPath, { name: 'unit', logLevel: 'info', ...opts });
}

/** One request to the unit filter: POST /<fn> with the input as body. */
function unitRequest(vm: Emulator, fn: string, input: Buffer | string): EmulatedStream {
  const s = vm.newStream();
  assert.equal(s.sendRequestHeaders({ ':method': 'POST', ':path': `/${fn}` }), 'continue');
  s.sendRequestBody(input, true);
  return s;
}

async function unitHost(): Promise<{ call: (fn: string, input: Buffer | string) => string }> {
  const vm = await loadUnit();
  return {
    call(fn, input) {
      const before = vm.logs.length;
      const s = unitRequest(vm, fn, input);
      assert.equal(s.lastAction, 'continue', `${fn}: ${JSON.stringify(s.localReply)}`);
      s.complete();
      const out = vm.logs.slice(before);
      assert.equal(out.length, 1, `${fn} logged once: ${JSON.stringify(out)}`);
      assert.equal(out[0]!.level, 'info');
      return out[0]!.message;
    },
  };
}

test('JSON: valid documents round-trip like JSON.parse + JSON.stringify', async () => {
  const { call } = await unitHost();
  const docs = [
    '{}', '[]', '0', '-0', '1', '-1', '1.5', '-1.5e3', '1E2', '1e-7', '0.1', '9007199254740991', '1e21', '1e300',
    '-1.7976931348623157e308', '5e-324', '"a"', '""', '"\\u00e9\\ud83d\\ude00 \\u0041"',
    '"tab\\t nl\\n quote\\" slash\\/ back\\\\ \\b\\f\\r \\u0000"', 'true', 'false', 'null',
    ' \n\t{ "a" : [ 1 , 2 , { "b" : null } ] , "c" : "d" } \r\n', '{"a":1,"b":2,"a":3}', '[[[[[]]]]]',
    '{"é":"ü","日本":"語","emoji":"😀"}', '[1.25,-0.5,3e-3,2.5e+10]', '{"nested":{"deep":{"deeper":[true,false,null]}}}',
  ];
  for (const d of docs) {
    assert.equal(call('json_roundtrip', d), 'ok ' + JSON.stringify(JSON.parse(d)), d);
  }
  // integers beyond 2^53 stay exact (JSON.parse would round them)
  const exact = '[9007199254740993,-123456789012345678,9223372036854775807,-9223372036854775808]';
  assert.equal(call('json_roundtrip', exact), 'ok ' + exact);
  // past i64: a float, as in JavaScript
  assert.equal(call('json_roundtrip', '[9223372036854775808]'), 'ok ' + JSON.stringify([9223372036854775808]));
  // nesting is bounded
  assert.equal(call('json_roundtrip', '['.repeat(100) + ']'.repeat(100)), 'ok ' + '['.repeat(100) + ']'.repeat(100));
  assert.match(call('json_roundtrip', '['.repeat(101) + ']'.repeat(101)), /^error nesting deeper than 100 at line 1, column 101 @100$/);
});

test('JSON: invalid documents are rejected with a position', async () => {
  const { call } = await unitHost();
  const bad = [
    '', ' ', '{', '[1,]', '{"a":1,}', '[01]', '01', '1.', '.5', '-', '+1', '1e', '1e+', '"abc', '"\\x"', '"\\u12"',
    '"\\u12g4"', '{"a" 1}', '{a:1}', "{'a':1}", 'tru', 'nul', 'True', 'NaN', 'Infinity', '[1 2]', '"a\nb"', '"\t"',
    '{} {}', '[1]x', '{"a":1}}', '\u00a0{}', '[-]', '{"a":}', '["\\', '[1,,2]',
  ];
  for (const d of bad) {
    assert.throws(() => JSON.parse(d), SyntaxError, `JSON.parse accepts ${JSON.stringify(d)}`);
    assert.match(call('json_roundtrip', d), /^error .+ at line \d+, column \d+ @\d+$/, JSON.stringify(d));
  }
  assert.equal(call('json_roundtrip', '{"a" 1}'), "error expected ':' after key, got '1' at line 1, column 6 @5");
  assert.equal(call('json_roundtrip', '{\n  "a": [1,\n  ]\n}'), "error unexpected ']' at line 3, column 3 @15");
  assert.equal(call('json_roundtrip', '"abc'), 'error unterminated string at line 1, column 1 @0');
  assert.equal(call('json_roundtrip', '"\\q"'), "error invalid escape '\\q' at line 1, column 2 @1");
  assert.equal(call('json_roundtrip', '[1]x'), "error unexpected 'x' after the JSON value at line 1, column 4 @3");
  assert.equal(call('json_roundtrip', '"a\u0001"'), 'error unescaped control character in string at line 1, column 3 @2');
  assert.equal(call('json_roundtrip', '[01]'), 'error leading zero in number at line 1, column 3 @2');
});

test('JSON: typed accessors return values, or the default for missing keys and other types', async () => {
  const { call } = await unitHost();
  const doc = JSON.stringify({
    s: 'str', i: 42, big: '9223372036854775807', f: 2.5, b: true, a: [7, 'x'], o: { inner: 'in', z: 1 }, sa: ['p', 'q'], n: null,
  }).replace('"9223372036854775807"', '9223372036854775807');
  assert.equal(
    call('json_accessors', doc),
    's=str s_missing=def s_wrongtype=def i=42 big=9223372036854775807 f_as_int=-1 f=2.5 b=true b_missing=true ' +
      'a_len=2 a0=7 a_oob=null o_keys=inner|z o_inner=in sa=p|q sa_mixed=null null_is_null=true typeof_missing=-1 size=9',
  );
  assert.equal(call('json_accessors', '[1]'), 'not an object');
});

test('jsonQuote escapes like JSON.stringify', async () => {
  const { call } = await unitHost();
  for (const s of ['plain', 'a"b\\c\n\t\r\b\f\u0001\u001f é 😀', '']) {
    assert.equal(call('json_quote', s), JSON.stringify(s));
  }
});

test('base64url: RFC 4648 vectors and random bytes match Node; bad input decodes to null', async () => {
  const { call } = await unitHost();
  const vectors: [string, string][] = [
    ['', ''], ['f', 'Zg'], ['fo', 'Zm8'], ['foo', 'Zm9v'], ['foob', 'Zm9vYg'], ['fooba', 'Zm9vYmE'], ['foobar', 'Zm9vYmFy'],
  ];
  for (const [plain, enc] of vectors) {
    assert.equal(call('b64_encode', plain), enc);
    assert.equal(call('b64_decode', enc), Buffer.from(plain).toString('hex'));
  }
  for (let n = 0; n <= 40; n++) {
    const bytes = n === 3 ? Buffer.from([0xfb, 0xff, 0xbf]) : randomBytes(n);
    const enc = bytes.toString('base64url');
    assert.equal(call('b64_encode', bytes), enc, `encode ${bytes.toString('hex')}`);
    assert.equal(call('b64_decode', enc), bytes.toString('hex'), `decode ${enc}`);
  }
  assert.equal(call('b64_encode', Buffer.from([0xfb, 0xff])), '-_8');
  assert.equal(call('b64_decode', 'Zg=='), '66');
  assert.equal(call('b64_decode', 'Zm8='), '666f');
  for (const bad of ['Z', 'Zm9v!', 'Zm+v', 'Zm/v', 'Zh', 'Zg=', 'Z===', '=', 'Zm9=v', 'Zg==='] ) {
    assert.equal(call('b64_decode', bad), 'null', bad);
  }
});

test('header-map codec: decodes the ABI format and re-encodes it byte for byte', async () => {
  const { call } = await unitHost();
  const pairs: [string, string][] = [['a', '1'], [':path', '/x?y=é'], ['k', '']];
  const enc = encodePairs(pairs); // the host's serializer
  assert.equal(call('headers_roundtrip', enc), `3|a=1|:path=/x?y=é|k=|${enc.toString('hex')}`);
  assert.deepEqual(readPairs(enc, 0, enc.length), pairs);
  assert.equal(call('headers_roundtrip', Buffer.alloc(0)), '0|00000000');
  assert.equal(call('headers_roundtrip', Buffer.alloc(1)), '0|00000000'); // the 1-byte empty map
  assert.equal(call('headers_roundtrip', enc.subarray(0, enc.length - 3)), '0|00000000'); // truncated
  const huge = Buffer.from(enc);
  huge.writeUInt32LE(0xffffffff, 0);
  assert.equal(call('headers_roundtrip', huge), '0|00000000'); // impossible count
  const longLen = Buffer.from(enc);
  longLen.writeUInt32LE(0xfffffff0, 4);
  assert.equal(call('headers_roundtrip', longLen), '0|00000000'); // length past the end
});

test('property paths are the segments joined by NUL', async () => {
  const { call } = await unitHost();
  assert.equal(call('property_path', 'request/headers/x-id'), Buffer.from('request\0headers\0x-id').toString('hex'));
  assert.equal(call('property_path', 'plugin_root_id'), Buffer.from('plugin_root_id').toString('hex'));
});

test('abort, trace and seed go to the host log and clock, not to env imports', async () => {
  // trace() is a DEBUG line, Math.random() works
  const vms = await Promise.all([loadUnit({ logLevel: 'trace' }), loadUnit({ logLevel: 'trace' }), loadUnit({ logLevel: 'trace' })]);
  const third = vms[2]!;
  // Math.random is seeded from proxy_get_current_time_nanoseconds when first
  // used: put two VMs' virtual clocks on the same millisecond and a third one
  // a millisecond later; the first two draw the same number, the third not.
  const clocks = vms.map((vm) => {
    const probe = vm.newStream();
    probe.complete();
    return probe.startTimeMs;
  });
  const t = Math.max(...clocks);
  vms.forEach((vm, i) => vm.advance(t - clocks[i]! + (vm === third ? 1 : 0)));
  const drawn = vms.map((vm) => {
    const from = vm.logs.length;
    const s = unitRequest(vm, 'trace_and_random', 'hi');
    assert.equal(s.lastAction, 'continue');
    s.complete();
    assert.deepEqual(messages(vm, 'info', from), ['random ok']);
    const debug = messages(vm, 'debug', from);
    assert.equal(debug[0], 'trace: hi 1.5, 2.0');
    assert.equal(debug.length, 2);
    return debug[1]!;
  });
  assert.match(drawn[0]!, /^random 0\.\d+/);
  assert.equal(drawn[0], drawn[1], 'same clock, same seed');
  assert.notEqual(drawn[0], drawn[2], 'another clock, another seed');
  for (const vm of vms) vm.close();

  // throw -> abort(): a CRITICAL line with the location, then a trap; the
  // host fails the stream closed (503) and the next stream gets a fresh VM
  const vm = await loadUnit();
  const s = unitRequest(vm, 'boom', 'it broke');
  assert.equal(s.lastAction, 'localReply');
  assert.equal(s.localReply!.status, 503);
  assert.equal(s.localReply!.details, 'filter "unit" failed: WASM_TRAP');
  assert.equal(s.requestEnded, false);
  s.complete();
  assert.match(messages(vm, 'critical')[0]!, /^wasm abort: it broke at assembly\/index\.ts:\d+:\d+$/);
  assert.deepEqual({ traps: vm.failures.traps, vmStarts: vm.failures.vmStarts }, { traps: 1, vmStarts: 1 });
  const from = vm.logs.length;
  const next = unitRequest(vm, 'json_quote', 'x');
  assert.equal(next.lastAction, 'continue');
  next.complete();
  assert.deepEqual(messages(vm, 'info', from), ['"x"']);
  assert.equal(vm.failures.vmStarts, 2);
  vm.close();
});

// ---- CLI and test runner

test('wasmesh filter new refuses bad names and non-empty directories', () => {
  const bad = cli('filter', 'new', 'Bad Name');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /invalid filter name "Bad Name"/);
  const dir = path.join(WORK, 'occupied');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'x'), '');
  const busy = cli('filter', 'new', 'ok', '--dir', dir);
  assert.equal(busy.status, 1);
  assert.match(busy.stderr, /exists and is not empty/);
  const usage = cli('filter', 'frobnicate');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /unknown command "frobnicate"/);
});

test('filter tests run with node --test and resolve "wasmesh" without an install', async () => {
  const dir = path.join(WORK, 'runner');
  fs.mkdirSync(path.join(dir, 'test', 'nested'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'test', 'esm.test.mjs'),
    "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n" +
      "import pkg from 'wasmesh/package.json' with { type: 'json' };\n" +
      "test('esm', () => assert.equal(pkg.name, 'wasmesh'));\n",
  );
  fs.writeFileSync(
    path.join(dir, 'test', 'nested', 'cjs.test.cjs'),
    "const { test } = require('node:test');\nconst assert = require('node:assert/strict');\n" +
      "test('cjs', () => assert.equal(require('wasmesh/package.json').name, 'wasmesh'));\n",
  );
  fs.writeFileSync(path.join(dir, 'test', 'helper.mjs'), 'throw new Error("not a test file");\n');
  const ok = await runFilterTests(dir, { stdio: 'pipe' });
  assert.deepEqual(ok.files.map((f) => path.relative(dir, f)), ['test/esm.test.mjs', 'test/nested/cjs.test.cjs']);
  assert.equal(ok.exitCode, 0, ok.output);
  assert.match(ok.output, /# pass 2/);

  fs.writeFileSync(path.join(dir, 'test', 'fail.test.mjs'), "import { test } from 'node:test';\ntest('fails', () => { throw new Error('boom'); });\n");
  const failed = await runFilterTests(dir, { stdio: 'pipe' });
  assert.notEqual(failed.exitCode, 0);
  assert.match(failed.output, /# fail 1/);
});
