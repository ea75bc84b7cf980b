import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { WasmLoadError } from '../../../runtime/core/errors';
import { FUEL_EXPORT, FUEL_SETTER_EXPORT, GROW_FAILED_EXPORT, instrumentModule, isFuelExhausted, MAX_FUEL } from '../../../runtime/wasm/binary';
import { EMPTY, i32c, instantiate, ModuleBuilder, op, T, wasm, type WasmGlobal } from '../../support/wasm-builder';

type Fn = (...args: number[]) => unknown;

function meter(bytes: Uint8Array, imports = {}): { x: Record<string, unknown>; fuel: WasmGlobal } {
  const x = instantiate(instrumentModule(bytes, { maxMemoryPages: 16 }), imports);
  return { x, fuel: x[FUEL_EXPORT] as WasmGlobal };
}

/** Runs fn with the given budget; reports its result or whether it trapped, and the fuel left. */
function run(m: { x: Record<string, unknown>; fuel: WasmGlobal }, budget: number, name: string, ...args: number[]): { result?: unknown; trap?: Error; fuel: number } {
  m.fuel.value = budget;
  try {
    const result = (m.x[name] as Fn)(...args);
    return { result, fuel: m.fuel.value as number };
  } catch (e) {
    return { trap: e as Error, fuel: m.fuel.value as number };
  }
}

// sum(n) = n + (n-1) + ... + 1, as a block/loop with br_if exit.
const SUM_BODY = [
  op.block, EMPTY,
  op.loop, EMPTY,
  op.local_get, 0, op.i32_eqz, op.br_if, 1,
  op.local_get, 1, op.local_get, 0, op.i32_add, op.local_set, 1,
  op.local_get, 0, ...i32c(1), op.i32_sub, op.local_set, 0,
  op.br, 0,
  op.end,
  op.end,
  op.local_get, 1,
];

function basicModule(): Uint8Array {
  const m = new ModuleBuilder();
  m.func([T.i32], [T.i32], SUM_BODY, { locals: [T.i32], export: 'sum' });
  m.func([], [], [op.loop, EMPTY, op.br, 0, op.end], { export: 'spin' });
  // rec(n) = n == 0 ? 0 : rec(n - 1) + 1, no loop anywhere
  m.func([T.i32], [T.i32], [op.local_get, 0, op.i32_eqz, op.if, T.i32, ...i32c(0), op.else, op.local_get, 0, ...i32c(1), op.i32_sub, op.call, 2, ...i32c(1), op.i32_add, op.end], { export: 'rec' });
  m.func([], [], [op.call, 3], { export: 'forever' });
  m.func([T.i32], [T.i32], [...i32c(100), op.local_get, 0, op.i32_div_s], { export: 'div' });
  return m.build();
}

test('an infinite loop traps with the budget exhausted (fuel < 0)', () => {
  const m = meter(basicModule());
  const r = run(m, 100_000, 'spin');
  assert.ok(r.trap instanceof wasm.RuntimeError, String(r.trap));
  assert.equal(r.fuel, -1);
  assert.ok(isFuelExhausted(r.fuel));
});

test('a bounded loop completes and is charged one unit per entry and per loop iteration', () => {
  const m = meter(basicModule());
  const r = run(m, 1000, 'sum', 100);
  assert.equal(r.result, 5050);
  // 1 function entry + 101 passes through the loop header (100 iterations and the exit test)
  assert.equal(r.fuel, 1000 - 102);
  assert.deepEqual(run(m, 102, 'sum', 100), { result: 5050, fuel: 0 });
  const short = run(m, 101, 'sum', 100);
  assert.ok(short.trap !== undefined && short.fuel === -1);
});

test('recursion without loops is stopped by the function-entry check, before the stack runs out', () => {
  const m = meter(basicModule());
  assert.deepEqual(run(m, 2000, 'rec', 1000), { result: 1000, fuel: 2000 - 1001 });
  const r = run(m, 500, 'rec', 1000);
  assert.ok(r.trap instanceof wasm.RuntimeError);
  assert.equal(r.fuel, -1);
  const f = run(m, 5000, 'forever');
  assert.ok(f.trap instanceof wasm.RuntimeError, `expected a trap, not ${String(f.trap)}`);
  assert.ok(isFuelExhausted(f.fuel));
});

test('a genuine trap leaves the fuel non-negative, so it is told apart from exhaustion', () => {
  const m = meter(basicModule());
  assert.deepEqual(run(m, 10, 'div', 5), { result: 20, fuel: 9 });
  const r = run(m, 10, 'div', 0);
  assert.ok(r.trap instanceof wasm.RuntimeError);
  assert.equal(r.fuel, 9);
  assert.ok(!isFuelExhausted(r.fuel));
  // With the budget already spent, the next call traps at entry.
  const again = run(m, 0, 'div', 5);
  assert.ok(again.trap !== undefined && again.fuel === -1);
  assert.equal(run(m, MAX_FUEL, 'sum', 10).fuel, MAX_FUEL - 12);
});

test('the fuel global is appended after the existing globals and exported; nothing else is renumbered', () => {
  const m = new ModuleBuilder();
  m.importGlobal('env', 'base', T.i32, false);
  const g = m.global(T.i32, true, i32c(5), 'counter');
  m.func([], [T.i32], [op.global_get, 0, op.global_get, g, op.i32_add, op.global_get, g, ...i32c(1), op.i32_add, op.global_set, g], { export: 'bump' });
  const bytes = instrumentModule(m.build(), { maxMemoryPages: 1 });
  const x = instantiate(bytes, { env: { base: new wasm.Global({ value: 'i32' }, 100) } });
  const fuel = x[FUEL_EXPORT] as WasmGlobal;
  fuel.value = 10;
  assert.equal((x.bump as Fn)(), 105);
  assert.equal((x.bump as Fn)(), 106);
  assert.equal((x.counter as WasmGlobal).value, 7);
  assert.equal(fuel.value, 8);
});

test('the start function runs on initialFuel, so an endless start is stopped at instantiation', () => {
  const m = new ModuleBuilder();
  const f = m.func([], [], [op.loop, EMPTY, op.br, 0, op.end]);
  m.start(f);
  const bytes = instrumentModule(m.build(), { maxMemoryPages: 1, initialFuel: 1000 });
  assert.throws(() => instantiate(bytes), wasm.RuntimeError);

  const n = new ModuleBuilder();
  n.func([], [], [...i32c(50), op.call, 1, op.drop]);
  n.func([T.i32], [T.i32], SUM_BODY, { locals: [T.i32] });
  n.start(0);
  const ok = instantiate(instrumentModule(n.build(), { maxMemoryPages: 1, initialFuel: 1000 }));
  assert.equal((ok[FUEL_EXPORT] as WasmGlobal).value, 1000 - 1 - 1 - 51);
});

test('global indices past the module own globals are refused: they would reach the fuel global', () => {
  const m = new ModuleBuilder();
  m.global(T.i32, true, i32c(0));
  // global.set 1 would, after instrumentation, refill the budget.
  m.func([], [], [...i32c(MAX_FUEL), op.global_set, 1], { export: 'refill' });
  assert.throws(
    () => instrumentModule(m.build(), { maxMemoryPages: 1 }),
    (e: unknown) => e instanceof WasmLoadError && e.code === 'WASM_INVALID_MODULE' && /global index 1 out of range \(the module has 1 globals\) in function 0 at byte offset \d+/.test(e.message),
  );
});

test('an export naming a global past the module own globals is refused too', () => {
  const m = new ModuleBuilder();
  m.global(T.i32, true, i32c(0));
  m.export('handle', 3, 1);
  assert.throws(() => instrumentModule(m.build(), { maxMemoryPages: 1 }), (e: unknown) => e instanceof WasmLoadError && /export "handle" names global 1, but the module has 1 globals/.test(e.message));
});

test('a module that already exports the fuel name is refused', () => {
  const m = new ModuleBuilder();
  m.global(T.i32, true, i32c(0), FUEL_EXPORT);
  assert.throws(() => instrumentModule(m.build(), { maxMemoryPages: 1 }), (e: unknown) => e instanceof WasmLoadError && /already exports "__wasmesh_fuel"/.test(e.message));
  const once = instrumentModule(basicModule(), { maxMemoryPages: 1 });
  assert.throws(() => instrumentModule(once, { maxMemoryPages: 1 }), WasmLoadError);
});

test('options are checked', () => {
  const bytes = basicModule();
  assert.throws(() => instrumentModule(bytes, { maxMemoryPages: -1 }), RangeError);
  assert.throws(() => instrumentModule(bytes, { maxMemoryPages: 1.5 }), RangeError);
  assert.throws(() => instrumentModule(bytes, { maxMemoryPages: 1, initialFuel: MAX_FUEL + 1 }), RangeError);
});

test('the fuel setter sets the budget, and is itself unmetered', () => {
  const m = meter(basicModule());
  const set = m.x[FUEL_SETTER_EXPORT] as Fn;
  assert.equal(set(1000), undefined);
  assert.equal(m.fuel.value, 1000, 'no check was charged for the setter call');
  assert.deepEqual(run(m, 1000, 'sum', 10), { result: 55, fuel: 1000 - 12 });
  // With the budget spent, or exhausted by a trap, the setter still runs (a metered function would trap at entry).
  m.fuel.value = 0;
  set(0);
  assert.equal(m.fuel.value, 0);
  assert.ok(run(m, 100, 'spin').trap !== undefined);
  assert.equal(m.fuel.value, -1);
  set(12);
  assert.equal(m.fuel.value, 12);
  assert.equal((m.x.sum as Fn)(10), 55);
  assert.equal(m.fuel.value, 0);
  set(MAX_FUEL);
  assert.equal(m.fuel.value, MAX_FUEL);
});

test('the grow hook is unmetered too: a grow costs only the checks of the function it is in', () => {
  const b = new ModuleBuilder();
  b.memory(1, 2);
  b.func([T.i32], [T.i32], [op.local_get, 0, op.memory_grow, 0, op.local_get, 0, op.memory_grow, 0, op.i32_add], { export: 'grow2' });
  const x = instantiate(instrumentModule(b.build(), { maxMemoryPages: 2 }));
  const fuel = x[FUEL_EXPORT] as WasmGlobal;
  (x[FUEL_SETTER_EXPORT] as Fn)(1);
  assert.equal((x.grow2 as Fn)(1), 1 + -1);
  assert.equal(fuel.value, 0, 'one check, at entry');
  assert.equal((x[GROW_FAILED_EXPORT] as WasmGlobal).value, 1);
});

test('sections other than type, import, function, memory, global, export and code are copied byte for byte, in order', () => {
  const m = new ModuleBuilder();
  m.custom('first', [1, 2, 3], 'start');
  m.table(2);
  const f = m.func([], [T.i32], i32c(9), { export: 'nine' });
  m.elem(0, [f]);
  m.memory(1);
  m.data(0, [1, 2, 3, 4]);
  m.custom('name', [0, 1, 2]);
  const bytes = m.build();
  const out = instrumentModule(bytes, { maxMemoryPages: 2 });
  const find = (hay: Uint8Array, needle: Uint8Array): number => Buffer.from(hay).indexOf(Buffer.from(needle));
  // The custom sections, table, element and data sections reappear verbatim.
  for (const chunk of [[0, 9, 5, ...Buffer.from('first'), 1, 2, 3], [11, 10, 1, 0, 0x41, 0, 0x0b, 4, 1, 2, 3, 4], [0, 8, 4, ...Buffer.from('name'), 0, 1, 2]]) {
    assert.ok(find(out, Uint8Array.from(chunk)) > 0, `missing ${chunk}`);
  }
  assert.equal(find(out, Uint8Array.from([0, 9, 5])), 8, 'the leading custom section stays first');
  assert.ok(wasm.validate(out));
  assert.equal((instantiate(out)[FUEL_EXPORT] as WasmGlobal).value, 100_000_000);
});
