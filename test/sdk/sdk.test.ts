// The AssemblyScript SDK and its build, tested for real: filters are compiled
// with buildFilter (and the CLI), their Wasm imports/exports are checked
// against ABI 0.2.1, and they run under a minimal host (mini-host.ts) that
// drives configuration and request headers. The JSON parser, base64url and
// the header-map codec are unit-tested through a small AS program.
//
// The compiles (1-8 s each) are started once, two at a time, and shared.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFilter, type BuildResult, type FilterManifest } from '../../sdk/build/build-filter';
import { buildBuiltins, listBuiltinFilters, type BuiltinsReport } from '../../sdk/build/build-builtins';
import { runFilterTests } from '../../sdk/build/run-tests';
import { ABI_0_2_1_HOST_FUNCTIONS, MiniHost, decodePairs, encodePairs } from './mini-host';

const ROOT = path.resolve(__dirname, '../../..');
const FIXTURES = path.join(ROOT, 'test', 'sdk', 'fixtures');
const BIN = path.join(ROOT, 'bin', 'wasmesh.js');
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-sdk-test-'));
process.on('exit', () => fs.rmSync(WORK, { recursive: true, force: true }));

const MAP_REQUEST = 0;
const MAP_RESPONSE = 2;

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
      return new Promise<CliBuild>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'filter', 'build', helloDir], { cwd: WORK });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => (stdout += b));
        child.stderr.on('data', (b: Buffer) => (stderr += b));
        child.on('close', (status) =>
          resolve({ dir: helloDir, stdout: stdout + stderr, status, wasmPath: path.join(helloDir, 'build', 'hello.wasm') }),
        );
      });
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
  const mod = new WebAssembly.Module(fs.readFileSync(wasmPath));
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
    assert.ok(ABI_0_2_1_HOST_FUNCTIONS.has(i.name), `import env.${i.name} is not an ABI 0.2.1 host function`);
  }
  return { imports: imports.map((i) => i.name).sort(), exports };
}

test('wasmesh filter new + build: the scaffold builds, with a manifest', async () => {
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
    runtime: 'incremental',
    optimized: true,
  });
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

// ---- the sample filter under the mini host

async function loadHello(config: string, logLevel = 2, rootId = ''): Promise<MiniHost> {
  const { hello } = await builds;
  const host = await MiniHost.load(hello.wasmPath, (h) => {
    h.setRootId(rootId);
    h.pluginConfig = Buffer.from(config);
    h.logLevel = logLevel;
  });
  host.exports.proxy_on_context_create!(1, 0);
  assert.equal(host.exports.proxy_on_vm_start!(1, 0), 1);
  return host;
}

test('sample filter: JSON config through vm_start/configure sets the response header', async () => {
  // registered as "": the only root also serves another root_id
  const host = await loadHello('{"header": "X-Test", "value": "v\\u00e9"}', 2, 'some_root_id');
  assert.equal(host.exports.proxy_on_configure!(1, host.pluginConfig.length), 1);
  const levelCalls = () => host.calls.filter((c) => c.name === 'proxy_get_log_level').length;
  const before = levelCalls();
  for (const id of [2, 3]) {
    host.exports.proxy_on_context_create!(id, 1);
    host.maps.set(MAP_REQUEST, [[':path', '/a'], [':method', 'GET']]);
    assert.equal(host.exports.proxy_on_request_headers!(id, 2, 1), 0);
    host.maps.set(MAP_RESPONSE, [[':status', '200']]);
    assert.equal(host.exports.proxy_on_response_headers!(id, 1, 0), 0);
    assert.deepEqual(host.maps.get(MAP_RESPONSE), [[':status', '200'], ['x-test', 'vé']]); // name lowercased
  }
  // info level: the debug line is skipped without even reading :method/:path
  assert.equal(host.calls.filter((c) => c.name === 'proxy_get_header_map_value').length, 0);
  assert.equal(levelCalls() - before, 1); // fetched once after configure, then cached
  assert.deepEqual(host.messages('error'), []);
});

test('sample filter: empty config uses the defaults; debug level logs the request', async () => {
  const host = await loadHello('', 1);
  assert.equal(host.exports.proxy_on_configure!(1, 0), 1);
  host.exports.proxy_on_context_create!(2, 1);
  host.maps.set(MAP_REQUEST, [[':path', '/p?q=1'], [':method', 'POST']]);
  host.exports.proxy_on_request_headers!(2, 2, 0);
  host.exports.proxy_on_response_headers!(2, 0, 0);
  assert.equal(host.header(MAP_RESPONSE, 'x-hello'), 'world');
  assert.deepEqual(host.messages('debug'), ['request POST /p?q=1']);
});

test('sample filter: invalid JSON config is refused with a logged reason', async () => {
  const host = await loadHello('{"header": "x", "value": }');
  assert.equal(host.exports.proxy_on_configure!(1, host.pluginConfig.length), 0);
  assert.deepEqual(host.messages('error'), ["invalid configuration: unexpected '}' at line 1, column 26"]);
  const host2 = await loadHello('["not", "an", "object"]');
  assert.equal(host2.exports.proxy_on_configure!(1, host2.pluginConfig.length), 0);
  assert.deepEqual(host2.messages('error'), ['invalid configuration: expected a JSON object, got array']);
  const host3 = await loadHello('{"header": ""}');
  assert.equal(host3.exports.proxy_on_configure!(1, host3.pluginConfig.length), 0);
  assert.deepEqual(host3.messages('error'), ['"header" must not be empty']);
});

// ---- the kitchen-sink filter under the mini host

async function loadEverything(rootId: string, config: object | string): Promise<MiniHost> {
  const { everything } = await builds;
  const host = await MiniHost.load(everything.wasmPath, (h) => {
    h.setRootId(rootId);
    h.pluginConfig = Buffer.from(typeof config === 'string' ? config : JSON.stringify(config));
  });
  host.exports.proxy_on_context_create!(1, 0);
  return host;
}

const EVERYTHING_CONFIG = { cluster: 'backend-x', timeouts: { total_ms: 1500, per_try_ms: 500 }, methods: ['GET', 'POST'] };

test('root contexts are matched by plugin_root_id; an unknown one refuses its config', async () => {
  const host = await loadEverything('everything', EVERYTHING_CONFIG);
  assert.equal(host.exports.proxy_on_configure!(1, host.pluginConfig.length), 1);
  assert.deepEqual(host.messages('info'), ['configured cluster=backend-x timeouts=1500/500 methods=GET,POST']);

  const other = await loadEverything('other', EVERYTHING_CONFIG);
  assert.equal(other.exports.proxy_on_configure!(1, other.pluginConfig.length), 1);
  assert.deepEqual(other.messages('info'), []); // the plain RootContext

  const nope = await loadEverything('nope', EVERYTHING_CONFIG);
  assert.equal(nope.exports.proxy_on_configure!(1, nope.pluginConfig.length), 0);
  assert.deepEqual(nope.messages('error'), ['no root context registered for root_id "nope" (registered: "everything", "other")']);
});

test('request headers: lookups, edits, wasmesh foreign functions and local responses', async () => {
  const host = await loadEverything('everything', EVERYTHING_CONFIG);
  assert.equal(host.exports.proxy_on_configure!(1, host.pluginConfig.length), 1);

  host.exports.proxy_on_context_create!(2, 1);
  host.maps.set(MAP_REQUEST, [
    [':path', '/api'], [':method', 'POST'], ['x-user', 'u1'], ['x-multi', 'a'], ['x-multi', 'b'], ['x-remove-me', '1'],
  ]);
  assert.equal(host.exports.proxy_on_request_headers!(2, 6, 0), 0);
  const u32s = (...v: number[]) => Buffer.from(new Uint32Array(v).buffer);
  assert.deepEqual(host.foreign, [
    { name: 'wasmesh.set_cluster', args: Buffer.from('backend-x\0u1') },
    { name: 'wasmesh.set_timeouts', args: u32s(1500, 500) },
    { name: 'wasmesh.keep_request_body', args: u32s(65536) },
  ]);
  assert.deepEqual(host.maps.get(MAP_REQUEST), [
    [':path', '/api'], [':method', 'POST'], ['x-user', 'u1'], ['x-multi', 'a'], ['x-multi', 'b'],
    ['x-seen-path', '/api'], ['x-multi-count', '2'], ['x-pair-count', '8'],
  ]);
  const setProp = host.calls.find((c) => c.name === 'proxy_set_property');
  assert.ok(setProp, 'set_property called');

  // a denied path: local response with serialized headers, and Pause
  host.exports.proxy_on_context_create!(3, 1);
  host.maps.set(MAP_REQUEST, [[':path', '/deny'], [':method', 'GET']]);
  assert.equal(host.exports.proxy_on_request_headers!(3, 2, 1), 1);
  assert.deepEqual(host.localResponses, [
    { status: 403, body: 'forbidden', headers: [['x-reason', 'path'], ['x-path', '/deny']], details: 'denied_by_path', grpcStatus: -1 },
  ]);

  // a method not in the config's list
  host.exports.proxy_on_context_create!(4, 1);
  host.maps.set(MAP_REQUEST, [[':path', '/'], [':method', 'DELETE']]);
  assert.equal(host.exports.proxy_on_request_headers!(4, 2, 1), 1);
  assert.equal(host.localResponses[1]!.status, 405);
  assert.deepEqual(host.localResponses[1]!.headers, []);

  // deleted contexts are forgotten: callbacks for them pass through
  host.exports.proxy_on_delete!(2);
  assert.equal(host.exports.proxy_on_request_headers!(2, 0, 1), 0);
});

// ---- unit tests of the SDK's JSON, base64url and header-map code

async function unitHost(): Promise<{ call: (fn: string, input: Buffer | string) => string }> {
  const { unit } = await builds;
  const host = await MiniHost.load(unit.wasmPath);
  return {
    call(fn, input) {
      const before = host.logs.length;
      host.exports[fn]!(...host.give(input));
      const out = host.logs.slice(before);
      assert.equal(out.length, 1, `${fn} logged once: ${JSON.stringify(out)}`);
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
  const enc = encodePairs(pairs);
  assert.equal(call('headers_roundtrip', enc), `3|a=1|:path=/x?y=é|k=|${enc.toString('hex')}`);
  assert.deepEqual(decodePairs(enc), pairs);
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
  const { unit } = await builds;
  const host = await MiniHost.load(unit.wasmPath);
  host.exports.trace_and_random!(...host.give('hi'));
  assert.deepEqual(host.messages('debug'), ['trace: hi 1.5, 2.0']);
  assert.deepEqual(host.messages('info'), ['random ok']);
  assert.ok(host.calls.some((c) => c.name === 'proxy_get_current_time_nanoseconds'), 'seeded from the host clock');
  assert.throws(() => host.exports.boom!(...host.give('it broke')), WebAssembly.RuntimeError);
  assert.match(host.messages('critical')[0]!, /^wasm abort: it broke at assembly\/index\.ts:\d+:\d+$/);
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
