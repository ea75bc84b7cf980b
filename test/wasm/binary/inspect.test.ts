import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { WasmLoadError } from '../../../runtime/core/errors';
import { inspectModule } from '../../../runtime/wasm/binary';
import { EMPTY, HEADER, KIND, ModuleBuilder, op, section, str, T, u32, vec, wasm } from '../../support/wasm-builder';

function proxyLikeModule(): Uint8Array {
  const m = new ModuleBuilder();
  m.importFunction('env', 'proxy_log', [T.i32, T.i32, T.i32], [T.i32]);
  m.importFunction('wasi_snapshot_preview1', 'fd_write', [T.i32, T.i32, T.i32, T.i32], [T.i32]);
  m.importFunction('env', 'multi', [T.i64, T.f32, T.f64, T.v128, T.externref], [T.i32, T.funcref]);
  m.importGlobal('env', 'g', T.i64, true);
  m.importTable('env', 'table', 1, 10);
  m.custom('producers', [1, 2, 3], 'start');
  m.memory(2, 16, false, 'memory');
  m.global(T.i32, false, [op.i32_const, 7], 'seven');
  m.func([], [], [], { export: 'proxy_abi_version_0_2_1' });
  m.func([], [], [], { export: 'proxy_abi_version_0_2_0' });
  m.func([T.i32, T.i32], [T.i32], [op.local_get, 0], { export: 'proxy_on_context_create' });
  m.func([], [], [], { export: 'proxy_abi_version_0_2' }); // not a marker
  m.custom('name', [0, 0]);
  return m.build();
}

test('inspect reports imports with function signatures, exports, memories and ABI markers', () => {
  const bytes = proxyLikeModule();
  const info = inspectModule(bytes);
  assert.deepEqual(info.imports, [
    { module: 'env', name: 'proxy_log', kind: 'function', typeIndex: 0, params: ['i32', 'i32', 'i32'], results: ['i32'] },
    { module: 'wasi_snapshot_preview1', name: 'fd_write', kind: 'function', typeIndex: 1, params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
    { module: 'env', name: 'multi', kind: 'function', typeIndex: 2, params: ['i64', 'f32', 'f64', 'v128', 'externref'], results: ['i32', 'funcref'] },
    { module: 'env', name: 'g', kind: 'global', valueType: 'i64', mutable: true },
    { module: 'env', name: 'table', kind: 'table', elementType: 'funcref', min: 1, max: 10 },
  ]);
  assert.deepEqual(
    info.exports.map((e) => [e.name, e.kind, e.index]),
    [
      ['memory', 'memory', 0],
      ['seven', 'global', 1],
      ['proxy_abi_version_0_2_1', 'function', 3],
      ['proxy_abi_version_0_2_0', 'function', 4],
      ['proxy_on_context_create', 'function', 5],
      ['proxy_abi_version_0_2', 'function', 6],
    ],
  );
  assert.deepEqual(info.abiVersions, ['0.2.1', '0.2.0']);
  assert.deepEqual(info.memories, [{ min: 2, max: 16, shared: false, memory64: false, index: 0, import: null }]);

  // Agrees with V8's own view of the module.
  const mod = new wasm.Module(bytes);
  assert.deepEqual(
    info.imports.map((i) => [i.module, i.name, i.kind]),
    wasm.Module.imports(mod).map((i) => [i.module, i.name, i.kind]),
  );
  assert.deepEqual(
    info.exports.map((e) => [e.name, e.kind]),
    wasm.Module.exports(mod).map((e) => [e.name, e.kind]),
  );
});

test('inspect lists imported memories first, with shared and unbounded limits', () => {
  const m = new ModuleBuilder();
  m.importMemory('env', 'memory', 1, 256, true);
  const info = inspectModule(m.build());
  assert.deepEqual(info.imports, [{ module: 'env', name: 'memory', kind: 'memory', memory: { min: 1, max: 256, shared: true, memory64: false } }]);
  assert.deepEqual(info.memories, [{ min: 1, max: 256, shared: true, memory64: false, index: 0, import: { module: 'env', name: 'memory' } }]);

  const n = new ModuleBuilder();
  n.memory(3);
  assert.deepEqual(inspectModule(n.build()).memories, [{ min: 3, max: null, shared: false, memory64: false, index: 0, import: null }]);
  // memory64 limits are u64
  const m64 = Uint8Array.from([...HEADER, ...section(5, [1, 5, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])]);
  assert.deepEqual(inspectModule(m64).memories, [{ min: 1, max: 2 ** 35, shared: false, memory64: true, index: 0, import: null }]);
});

test('inspect of an empty module, and of multi-value and tag types', () => {
  assert.deepEqual(inspectModule(Uint8Array.from(HEADER)), { imports: [], exports: [], memories: [], abiVersions: [] });
  const m = new ModuleBuilder();
  m.importFunction('env', 'pair', [], [T.i32, T.i64]);
  const bytes = m.build();
  const imports = inspectModule(bytes).imports;
  assert.deepEqual(imports[0], { module: 'env', name: 'pair', kind: 'function', typeIndex: 0, params: [], results: ['i32', 'i64'] });
  // An import naming a type index the module does not define.
  const bad = Uint8Array.from([...HEADER, ...section(1, vec([[0x60, 0, 0]])), ...section(2, vec([[...str('env'), ...str('f'), KIND.func, 5]]))]);
  assert.throws(() => inspectModule(bad), (e: unknown) => e instanceof WasmLoadError && /uses type index 5, but the module defines 1 types/.test(e.message));
});

function expectInvalid(bytes: Uint8Array | number[], pattern: RegExp): void {
  const input = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  assert.throws(
    () => inspectModule(input),
    (e: unknown) => {
      assert.ok(e instanceof WasmLoadError, `expected WasmLoadError, got ${String(e)}`);
      assert.equal(e.code, 'WASM_INVALID_MODULE');
      assert.match(e.message, pattern);
      assert.match(e.message, /at byte offset \d+$/);
      return true;
    },
  );
}

test('malformed framing is refused with the reason and the byte offset', () => {
  expectInvalid([], /shorter than the 8-byte header at byte offset 0/);
  expectInvalid([0x00, 0x61, 0x73], /shorter than the 8-byte header/);
  expectInvalid([0x7f, 0x45, 0x4c, 0x46, 1, 0, 0, 0], /bad magic number .* at byte offset 0$/);
  expectInvalid([...HEADER.slice(0, 4), 2, 0, 0, 0], /unsupported version 2 at byte offset 4/);
  expectInvalid([...HEADER.slice(0, 4), 0x0d, 0, 1, 0], /a component, not a core module/);
  expectInvalid([...HEADER, 14, 0], /unknown section id 14 at byte offset 8$/);
  expectInvalid([...HEADER, 1, 10, 0], /type section size 10 runs past the end of the module \(1 bytes left\) at byte offset 8/);
  expectInvalid([...HEADER, 1, 0x80, 0x80], /unexpected end of type section size at byte offset 11/);
  expectInvalid([...HEADER, 1, 0xff, 0xff, 0xff, 0xff, 0x7f], /type section size does not fit in 32 bits at byte offset 9/);
  expectInvalid([...HEADER, ...section(3, [0]), ...section(1, [0])], /type section out of order \(after the function section\) at byte offset 11/);
  expectInvalid([...HEADER, ...section(1, [0]), ...section(1, [0])], /duplicate type section at byte offset 11/);
  expectInvalid([...HEADER, ...section(0, [5, 0x61])], /unexpected end of custom section name/);
  expectInvalid([...HEADER, ...section(7, [...u32(1), ...str('x'), 9, 0])], /invalid export kind 9 for "x" at byte offset 13/);
  expectInvalid([...HEADER, ...section(7, [...u32(1), 2, 0xc3, 0x28, 0, 0])], /export name is not valid UTF-8 at byte offset 12/);
  expectInvalid([...HEADER, ...section(7, [...u32(0), 0])], /export section has 1 unexpected trailing bytes at byte offset 11/);
  expectInvalid([...HEADER, ...section(5, [1, 5, 1])], /unexpected end of memory maximum at byte offset 13/);
  expectInvalid([...HEADER, ...section(5, [1, 9, 1])], /invalid memory limits flags 0x9 at byte offset 11/);
  expectInvalid([...HEADER, ...section(1, [1, 0x61, 0, 0])], /invalid type form 0x61 at byte offset 11/);
  expectInvalid([...HEADER, ...section(1, [1, 0x60, 1, 0x55, 0])], /invalid value type 0x55 at byte offset 13/);
});

test('every truncation of a valid module either parses (at a section boundary) or throws the typed error', () => {
  const bytes = proxyLikeModule();
  let refused = 0;
  for (let n = 0; n < bytes.length; n++) {
    try {
      inspectModule(bytes.subarray(0, n));
    } catch (e) {
      assert.ok(e instanceof WasmLoadError, `truncated at ${n}: ${String(e)}`);
      assert.equal(e.code, 'WASM_INVALID_MODULE');
      refused++;
    }
  }
  assert.ok(refused > bytes.length - 20, `${refused} of ${bytes.length} truncations refused`);
});

test('random corruption never escapes as anything but WasmLoadError', () => {
  const bytes = proxyLikeModule();
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    const b = Uint8Array.from(bytes);
    for (let k = 1 + rand(3); k > 0; k--) b[8 + rand(b.length - 8)] = rand(256);
    try {
      inspectModule(b);
    } catch (e) {
      assert.ok(e instanceof WasmLoadError, `corruption ${i}: ${String(e)}`);
    }
  }
});

test('a block-bodied module is inspected without decoding its code', () => {
  const m = new ModuleBuilder();
  m.func([], [], [op.block, EMPTY, 0xfb, 0xff, op.end], { export: 'gc_stuff' });
  assert.deepEqual(inspectModule(m.build()).exports, [{ name: 'gc_stuff', kind: 'function', index: 0 }]);
});
