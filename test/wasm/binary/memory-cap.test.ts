import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { WasmLoadError } from '../../../runtime/core/errors';
import { FUEL_EXPORT, inspectModule, instrumentModule } from '../../../runtime/wasm/binary';
import { HEADER, i32c, instantiate, ModuleBuilder, op, section, T, wasm, type WasmGlobal, type WasmMemory } from '../../support/wasm-builder';

type Fn = (...args: number[]) => number;

function growModule(min: number, max?: number): Uint8Array {
  const m = new ModuleBuilder();
  m.memory(min, max, false, 'memory');
  m.func([T.i32], [T.i32], [op.local_get, 0, op.memory_grow, 0], { export: 'grow' });
  m.func([], [T.i32], [op.memory_size, 0], { export: 'size' });
  return m.build();
}

function load(bytes: Uint8Array, imports = {}): { grow: Fn; size: Fn; memory: WasmMemory } {
  const x = instantiate(bytes, imports);
  (x[FUEL_EXPORT] as WasmGlobal).value = 1000;
  return x as unknown as { grow: Fn; size: Fn; memory: WasmMemory };
}

test('a memory without a maximum gets the cap as its maximum; memory.grow past it returns -1', () => {
  const x = load(instrumentModule(growModule(1), { maxMemoryPages: 4 }));
  assert.equal(x.grow(2), 1);
  assert.equal(x.grow(2), -1, 'growing to 5 pages fails inside the guest');
  assert.equal(x.grow(1), 3);
  assert.equal(x.size(), 4);
  assert.equal(x.grow(1), -1);
  assert.throws(() => x.memory.grow(1), RangeError, 'the host cannot grow it either');
  assert.equal(x.memory.buffer.byteLength, 4 * 65536);
});

test('a larger declared maximum is lowered to the cap; a smaller one is kept byte for byte', () => {
  const lowered = instrumentModule(growModule(1, 100), { maxMemoryPages: 3 });
  assert.deepEqual(inspectModule(lowered).memories.map((m) => [m.min, m.max]), [[1, 3]]);
  assert.equal(load(lowered).grow(3), -1);

  const original = growModule(2, 3);
  const kept = instrumentModule(original, { maxMemoryPages: 10 });
  assert.deepEqual(inspectModule(kept).memories.map((m) => [m.min, m.max]), [[2, 3]]);
  const memSection = Buffer.from(section(5, [1, 1, 2, 3]));
  assert.ok(Buffer.from(kept).indexOf(memSection) > 0, 'memory section copied unchanged');
  const x = load(kept);
  assert.equal(x.grow(1), 2);
  assert.equal(x.grow(1), -1);
});

test('a cap above the 4 GiB limit of a 32-bit memory is clamped to 65536 pages', () => {
  const out = instrumentModule(growModule(1), { maxMemoryPages: 1_000_000 });
  assert.deepEqual(inspectModule(out).memories.map((m) => [m.min, m.max]), [[1, 65536]]);
  assert.ok(wasm.validate(out));
});

test('an initial size already over the cap is refused with WASM_MEMORY_TOO_LARGE', () => {
  assert.throws(
    () => instrumentModule(growModule(20, 30), { maxMemoryPages: 16 }),
    (e: unknown) =>
      e instanceof WasmLoadError && e.code === 'WASM_MEMORY_TOO_LARGE' && e.message === 'memory 0 needs 20 pages (1.25 MiB) initially, more than the limit of 16 pages (1 MiB)',
  );
  const m = new ModuleBuilder();
  m.importMemory('env', 'memory', 64);
  assert.throws(
    () => instrumentModule(m.build(), { maxMemoryPages: 16 }),
    (e: unknown) => e instanceof WasmLoadError && e.code === 'WASM_MEMORY_TOO_LARGE' && /^imported memory "env"\."memory" needs 64 pages/.test(e.message),
  );
  // Exactly at the cap is fine.
  assert.ok(wasm.validate(instrumentModule(growModule(16), { maxMemoryPages: 16 })));
});

test('imported memories are capped: the host must supply one whose maximum fits', () => {
  const m = new ModuleBuilder();
  m.importFunction('env', 'log', [T.i32], []);
  m.importMemory('env', 'memory', 1);
  m.importGlobal('env', 'g', T.i32, false);
  m.func([T.i32], [T.i32], [op.local_get, 0, op.memory_grow, 0], { export: 'grow' });
  m.func([], [T.i32], [...i32c(0), op.i32_load, 2, 0, op.global_get, 0, op.i32_add], { export: 'peek' });
  const bytes = instrumentModule(m.build(), { maxMemoryPages: 8 });
  const [imported] = inspectModule(bytes).memories;
  assert.deepEqual([imported.min, imported.max, imported.import], [1, 8, { module: 'env', name: 'memory' }]);
  const env = (memory: WasmMemory) => ({ env: { log: () => undefined, memory, g: new wasm.Global({ value: 'i32' }, 5) } });
  assert.throws(() => instantiate(bytes, env(new wasm.Memory({ initial: 1 }))), wasm.LinkError, 'an unbounded memory no longer links');
  assert.throws(() => instantiate(bytes, env(new wasm.Memory({ initial: 1, maximum: 9 }))), wasm.LinkError);
  const memory = new wasm.Memory({ initial: 1, maximum: 8 });
  new Uint32Array(memory.buffer)[0] = 37;
  const x = instantiate(bytes, env(memory)) as Record<string, unknown>;
  (x[FUEL_EXPORT] as WasmGlobal).value = 100;
  assert.equal((x.peek as Fn)(), 42);
  assert.equal((x.grow as Fn)(7), 1);
  assert.equal((x.grow as Fn)(1), -1);
});

test('shared memories keep the shared flag and are capped', () => {
  const m = new ModuleBuilder();
  m.importMemory('env', 'shared', 1, 1000, true);
  m.memory(2, 500, true);
  const out = instrumentModule(m.build(), { maxMemoryPages: 50 });
  assert.deepEqual(
    inspectModule(out).memories.map((x) => [x.min, x.max, x.shared]),
    [
      [1, 50, true],
      [2, 50, true],
    ],
  );
});

test('memory64 limits are rewritten as u64', () => {
  // (memory i64 1): flags 0x04, no max
  const bytes = Uint8Array.from([...HEADER, ...section(5, [1, 0x04, 1])]);
  const out = instrumentModule(bytes, { maxMemoryPages: 300 });
  assert.deepEqual(inspectModule(out).memories, [{ min: 1, max: 300, shared: false, memory64: true, index: 0, import: null }]);
});
