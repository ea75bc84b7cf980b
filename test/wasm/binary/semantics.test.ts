// The instrumented module must validate and compute exactly what the original
// does, across every instruction family the decoder has to step over.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FUEL_EXPORT, instrumentModule } from '../../../runtime/wasm/binary';
import { EMPTY, f32, f64, fc, fd, fe, i32c, i64c, instantiate, ModuleBuilder, op, T, u32, wasm, type Bytes, type WasmGlobal } from '../../support/wasm-builder';

type Fn = (...args: number[]) => unknown;

/** Instantiates both versions, calls each export on each input, and compares results and traps. */
function sameBehaviour(bytes: Uint8Array, calls: [name: string, args: number[]][], imports: () => Record<string, Record<string, unknown>> = () => ({})): number {
  new wasm.Module(bytes); // the original is valid (throws CompileError with V8's reason otherwise)
  const inst = instrumentModule(bytes, { maxMemoryPages: 64 });
  new wasm.Module(inst);
  const a = instantiate(bytes, imports());
  const b = instantiate(inst, imports());
  const fuel = b[FUEL_EXPORT] as WasmGlobal;
  fuel.value = 10_000_000;
  const outcome = (x: Record<string, unknown>, name: string, args: number[]): unknown => {
    try {
      return { ok: (x[name] as Fn)(...args) };
    } catch (e) {
      return { trap: (e as Error).message };
    }
  };
  for (const [name, args] of calls) assert.deepEqual(outcome(b, name, args), outcome(a, name, args), `${name}(${args.join(', ')})`);
  assert.ok((fuel.value as number) >= 0);
  return 10_000_000 - (fuel.value as number);
}

test('nested loops, br_table and if/else', () => {
  const m = new ModuleBuilder();
  // nested(n): for i < n { for j < n { acc += i ^ j } }
  m.func(
    [T.i32],
    [T.i32],
    [
      ...i32c(0), op.local_set, 1,
      op.block, EMPTY, op.loop, EMPTY,
      op.local_get, 1, op.local_get, 0, op.i32_ge_s, op.br_if, 1,
      ...i32c(0), op.local_set, 2,
      op.block, EMPTY, op.loop, EMPTY,
      op.local_get, 2, op.local_get, 0, op.i32_ge_s, op.br_if, 1,
      op.local_get, 3, op.local_get, 1, op.local_get, 2, op.i32_xor, op.i32_add, op.local_set, 3,
      op.local_get, 2, ...i32c(1), op.i32_add, op.local_set, 2,
      op.br, 0,
      op.end, op.end,
      op.local_get, 1, ...i32c(1), op.i32_add, op.local_set, 1,
      op.br, 0,
      op.end, op.end,
      op.local_get, 3,
    ],
    { locals: [T.i32, T.i32, T.i32], export: 'nested' },
  );
  // classify(x): br_table over 4 cases, default 99; case bodies inside a loop that runs once
  m.func(
    [T.i32],
    [T.i32],
    [
      op.block, EMPTY, op.block, EMPTY, op.block, EMPTY, op.block, EMPTY, op.block, EMPTY,
      op.local_get, 0, op.br_table, ...u32(4), 0, 1, 2, 3, 4,
      op.end, ...i32c(10), op.return,
      op.end, ...i32c(20), op.return,
      op.end, op.loop, T.i32, ...i32c(30), op.end, op.return,
      op.end, op.local_get, 0, op.if, T.i32, ...i32c(40), op.else, ...i32c(41), op.end, op.return,
      op.end, ...i32c(99),
    ],
    { export: 'classify' },
  );
  const spent = sameBehaviour(m.build(), [
    ['nested', [0]], ['nested', [1]], ['nested', [7]], ['nested', [30]],
    ['classify', [0]], ['classify', [1]], ['classify', [2]], ['classify', [3]], ['classify', [4]], ['classify', [-1]],
  ]);
  // nested(n): 1 entry + (n+1) outer headers + n*(n+1) inner headers
  const nested = (n: number): number => 1 + (n + 1) + n * (n + 1);
  assert.equal(spent, nested(0) + nested(1) + nested(7) + nested(30) + 6 + 1);
});

test('multi-value block types by type index, including a loop with params and an index needing a 2-byte s33', () => {
  const m = new ModuleBuilder();
  for (let i = 0; i < 70; i++) m.type(new Array(i).fill(T.f32), [T.f64]); // push the interesting types past index 63
  const swap = m.type([T.i32, T.i32], [T.i32, T.i32]);
  const step = m.type([T.i32], [T.i32]);
  assert.ok(swap >= 64 && step >= 64);
  const s33 = (n: number): Bytes => (n < 64 ? [n] : [(n & 0x7f) | 0x80, n >> 7]);
  // swap(a, b) -> (b, a) through a (i32 i32) -> (i32 i32) block
  m.func([T.i32, T.i32], [T.i32, T.i32], [op.local_get, 0, op.local_get, 1, op.block, ...s33(swap), op.local_set, 2, op.local_set, 3, op.local_get, 2, op.local_get, 3, op.end], { locals: [T.i32, T.i32], export: 'swap' });
  // countdown(n): a loop whose param carries the counter; returns iterations via local 1
  m.func(
    [T.i32],
    [T.i32],
    [
      op.local_get, 0,
      op.loop, ...s33(step),
      op.local_get, 1, ...i32c(1), op.i32_add, op.local_set, 1,
      ...i32c(1), op.i32_sub, op.local_tee, 2, op.local_get, 2, op.i32_const, 0, op.i32_gt_s, op.br_if, 0,
      op.end,
      op.drop, op.local_get, 1,
    ],
    { locals: [T.i32, T.i32], export: 'countdown' },
  );
  const spent = sameBehaviour(m.build(), [['swap', [1, 2]], ['swap', [-5, 7]], ['countdown', [1]], ['countdown', [25]]]);
  assert.equal(spent, 1 + 1 + (1 + 1) + (1 + 25));
});

test('constants and immediates full of 0x03 bytes are not mistaken for loops', () => {
  const m = new ModuleBuilder();
  m.memory(1);
  const threes = new Array(16).fill(0x03);
  const body: Bytes = [
    ...i32c(3), ...i32c(0x0303), op.i32_add,
    ...i64c(0x0303030303030303n), op.i32_wrap_i64, op.i32_add,
    op.f64_const, ...f64(1.0000000000000007), op.i32_trunc_f64_s, op.i32_add, // 03 00 00 00 00 00 f0 3f
    op.f32_const, ...f32(3), op.drop,
    ...i32c(3), op.i32_load, 2, 3, op.i32_add, // memarg offset 3
    ...fd(0x0c, ...threes), ...fd(0x1b, 3), op.i32_add, // v128.const, i32x4.extract_lane 3
    ...fd(0x0c, ...threes), ...fd(0x0c, ...threes), ...fd(0x0d, ...threes), ...fd(0x16, 3), op.i32_add, // i8x16.shuffle lanes 3
  ];
  m.func([], [T.i32], body, { export: 'k' });
  m.func(
    [T.i32],
    [T.i32],
    [
      op.block, EMPTY, op.block, EMPTY, op.block, EMPTY, op.block, EMPTY,
      op.local_get, 0, op.br_table, 3, 3, 3, 3, 3,
      op.end, op.end, op.end, op.end,
      ...i32c(3),
    ],
    { export: 't' },
  );
  const spent = sameBehaviour(m.build(), [['k', []], ['t', [0]], ['t', [9]]]);
  assert.equal(spent, 3, 'only the three function entries are metered');
});

test('SIMD: v128.const, shuffle, lanes, splat loads and load/store lane', () => {
  const m = new ModuleBuilder();
  m.memory(1);
  m.func(
    [T.i32],
    [T.i32],
    [
      // local1 = v128.const(...) + splat(x)
      ...fd(0x0c, 3, 3, 3, 3, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0), op.local_get, 0, ...fd(0x11), ...fd(0xae), op.local_set, 1,
      // store shuffle(local1, local1) at 3 + offset 3
      ...i32c(3), op.local_get, 1, op.local_get, 1, ...fd(0x0d, 3, 2, 1, 0, 19, 18, 17, 16, 3, 3, 3, 3, 31, 30, 29, 28), ...fd(0x0b, 4, 3),
      // acc = extract_lane 3 of v128.load32_splat(6)
      ...i32c(6), ...fd(0x09, 2, 0), ...fd(0x1b, 3),
      // local2 = v128.load8_lane offset=3 lane=3 into local1; store32_lane lane 3 at 40+3; read it back
      ...i32c(6), op.local_get, 1, ...fd(0x54, 0, 3, 3), op.local_set, 2,
      ...i32c(40), op.local_get, 2, ...fd(0x5a, 2, 3, 3),
      ...i32c(40), op.i32_load, 2, 3, op.i32_add,
      op.local_get, 2, ...fd(0x16, 3), op.i32_add, // i8x16.extract_lane_u 3
      ...i32c(0), ...fd(0x5d, 3, 3), ...fd(0x1d, 0), op.i32_wrap_i64, op.i32_add, // v128.load64_zero, i64x2.extract_lane 0
      op.local_get, 1, op.local_get, 0, ...fd(0x1c, 2), ...fd(0xa1), ...fd(0xa4), op.i32_add, // replace_lane, i32x4.neg, bitmask
      ...fd(0x0c, ...new Array(16).fill(0x03)), ...fd(0x62), ...fd(0x63), op.i32_add, // i8x16.popcnt, all_true
      op.local_get, 1, op.local_get, 1, ...fd(0xba), ...fd(0x1b, 1), op.i32_add, // i32x4.dot_i16x8_s
      op.local_get, 0, op.f64_convert_i32_s, ...fd(0x14), ...fd(0xef), ...fd(0x21, 1), ...fc(2), op.i32_add, // f64x2.splat, sqrt, extract_lane, trunc_sat
    ],
    { locals: [T.v128, T.v128], export: 'simd' },
  );
  sameBehaviour(m.build(), [['simd', [0]], ['simd', [5]], ['simd', [-1000]], ['simd', [0x7fffffff]]]);
});

test('bulk memory, saturating truncation and sign extension', () => {
  const m = new ModuleBuilder();
  m.memory(1);
  const seg = m.data(null, [3, 3, 3, 3, 9, 8, 7]);
  m.func(
    [T.i32],
    [T.i32],
    [
      ...i32c(0), op.local_get, 0, ...i32c(100), ...fc(11, 0), // memory.fill
      ...i32c(100), ...i32c(0), ...i32c(50), ...fc(10, 0, 0), // memory.copy
      ...i32c(200), ...i32c(0), ...i32c(7), ...fc(8, seg, 0), // memory.init
      ...i32c(120), op.i32_load8_u, 0, 0, ...i32c(204), op.i32_load8_u, 0, 0, op.i32_add,
      ...i32c(0), op.i32_load, 2, ...u32(200), op.i32_add,
      op.f64_const, ...f64(1e20), ...fc(2), op.i32_add, // i32.trunc_sat_f64_s
      op.f64_const, ...f64(-1), ...fc(3), op.i32_add, // i32.trunc_sat_f64_u
      op.local_get, 0, op.i32_extend8_s, op.i32_add,
      op.local_get, 0, op.i64_extend_i32_s, op.i64_extend32_s, op.i32_wrap_i64, op.i32_add,
    ],
    { export: 'bulk' },
  );
  m.func([], [], fc(9, seg), { export: 'drop' }); // data.drop
  sameBehaviour(m.build(), [['bulk', [7]], ['bulk', [300]], ['drop', []], ['bulk', [1]], ['bulk', [0]]]);
});

test('reference types: ref.null/is_null/func, typed select, table.get/set/grow/size/fill/copy/init, elem.drop', () => {
  const m = new ModuleBuilder();
  m.table(4, 12);
  const a = m.func([], [T.i32], i32c(111));
  const b = m.func([], [T.i32], i32c(222));
  m.elem(0, [a, b]);
  const passive = m.passiveElem([b, a]);
  const sig = m.type([], [T.i32]);
  m.func(
    [T.i32],
    [T.i32],
    [
      ...fc(16, 0), // table.size
      op.ref_null, T.funcref, ...i32c(1), ...fc(15, 0), op.i32_add, // table.grow
      ...i32c(2), op.ref_func, b, op.table_set, 0,
      ...i32c(2), op.table_get, 0, op.ref_is_null, op.i32_add,
      ...i32c(2), op.call_indirect, ...u32(sig), 0, op.i32_add,
      ...i32c(3), op.ref_func, a, ...i32c(1), ...fc(17, 0), // table.fill
      ...i32c(3), op.call_indirect, ...u32(sig), 0, op.i32_add,
      ...i32c(5), ...i32c(6), op.local_get, 0, op.select_t, 1, T.i32, op.i32_add,
      ...i32c(0), ...i32c(2), ...i32c(2), ...fc(14, 0, 0), // table.copy
      op.local_get, 0, op.call_indirect, ...u32(sig), 0, op.i32_add,
    ],
    { export: 'refs' },
  );
  m.func([], [], [...i32c(0), ...i32c(0), ...i32c(2), ...fc(12, passive, 0), ...fc(13, passive)], { export: 'reinit' }); // table.init, elem.drop
  sameBehaviour(m.build(), [['refs', [0]], ['refs', [1]], ['refs', [2]], ['refs', [3]], ['reinit', []], ['refs', [1]], ['reinit', []], ['refs', [9]]]);
});

test('threads: atomics on a shared memory', () => {
  const m = new ModuleBuilder();
  m.memory(1, 1, true);
  m.func(
    [T.i32],
    [T.i32],
    [
      ...i32c(8), op.local_get, 0, ...fe(0x17, 2, 0), // i32.atomic.store
      ...i32c(8), ...i32c(5), ...fe(0x1e, 2, 0), op.drop, // i32.atomic.rmw.add
      ...fe(0x03, 0), // atomic.fence
      ...i32c(8), ...i32c(5), ...i32c(6), ...fe(0x48, 2, 0), op.drop, // i32.atomic.rmw.cmpxchg
      ...i32c(8), ...fe(0x10, 2, 0), // i32.atomic.load
      ...i32c(8), ...i32c(0), ...fe(0x00, 2, 0), op.i32_add, // memory.atomic.notify
      ...i32c(16), ...i64c(7n), ...fe(0x26, 3, 0), op.i32_wrap_i64, op.i32_add, // i64.atomic.rmw.sub
    ],
    { export: 'atomics' },
  );
  sameBehaviour(m.build(), [['atomics', [0]], ['atomics', [1]], ['atomics', [42]]]);
});

test('exception handling: try/catch/catch_all/throw/rethrow/delegate, with loops inside', () => {
  const m = new ModuleBuilder();
  const tag = m.tag([T.i32]);
  m.func(
    [T.i32],
    [T.i32],
    [
      op.try, T.i32,
      op.local_get, 0, op.i32_eqz, op.if, EMPTY, ...i32c(42), op.throw, tag, op.end,
      op.try, T.i32,
      op.loop, EMPTY, op.local_get, 0, ...i32c(1), op.i32_sub, op.local_tee, 0, ...i32c(3), op.i32_gt_s, op.br_if, 0, op.end,
      op.local_get, 0, op.throw, tag,
      op.catch, tag, ...i32c(1), op.i32_add,
      op.end,
      op.catch, tag, ...i32c(100), op.i32_add,
      op.catch_all, ...i32c(-1),
      op.end,
    ],
    { export: 'ex' },
  );
  m.func(
    [T.i32],
    [T.i32],
    [
      op.try, T.i32,
      op.try, EMPTY, op.try, EMPTY, op.local_get, 0, op.throw, tag, op.delegate, 0, op.catch_all, op.rethrow, 0, op.end,
      ...i32c(0),
      op.catch, tag, ...i32c(1000), op.i32_add,
      op.end,
    ],
    { export: 're' },
  );
  sameBehaviour(m.build(), [['ex', [0]], ['ex', [2]], ['ex', [10]], ['re', [5]]]);
});

test('tail calls run in constant stack and are metered at each entry', () => {
  const m = new ModuleBuilder();
  m.func([T.i32, T.i32], [T.i32], [op.local_get, 0, op.i32_eqz, op.if, EMPTY, op.local_get, 1, op.return, op.end, op.local_get, 0, ...i32c(1), op.i32_sub, op.local_get, 1, ...i32c(2), op.i32_add, op.return_call, 0], { export: 'tail' });
  const spent = sameBehaviour(m.build(), [['tail', [100_000, 0]]]);
  assert.equal(spent, 100_001);
});

test('instrumenting a ~200 KB module takes a few milliseconds', () => {
  const m = new ModuleBuilder();
  m.memory(1);
  const body: Bytes = [];
  for (let k = 0; k < 8; k++) {
    body.push(op.block, EMPTY, op.loop, EMPTY, op.local_get, 0, op.i32_eqz, op.br_if, 1, op.local_get, 0, ...i32c(1), op.i32_sub, op.local_set, 0);
    body.push(...i32c(1000 + k), op.i32_load, 2, 16, op.local_get, 1, op.i32_add, op.local_set, 1, op.f64_const, ...f64(k), op.drop, op.br, 0, op.end, op.end);
  }
  body.push(op.local_get, 1);
  for (let i = 0; i < 700; i++) m.func([T.i32], [T.i32], body, { locals: [T.i32], export: `f${i}` });
  const bytes = m.build();
  assert.ok(bytes.length > 200_000, `${bytes.length} bytes`);
  for (let i = 0; i < 5; i++) instrumentModule(bytes, { maxMemoryPages: 4 }); // warm up the JIT
  // Best of several runs, so a loaded CI machine does not make this flaky; bench/wasm/metering.ts has the real number.
  let ms = Infinity;
  let out = bytes;
  for (let i = 0; i < 10; i++) {
    const t0 = process.hrtime.bigint();
    out = instrumentModule(bytes, { maxMemoryPages: 4 });
    ms = Math.min(ms, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  assert.ok(wasm.validate(out));
  assert.ok(ms < 15, `${ms.toFixed(2)} ms per 200 KB module`);
});
