// The memory.grow failure flag: every guest memory.grow is followed by a call
// to an appended hook that sets __wasmesh_grow_failed to 1 when the grow
// returned -1 and to 0 when it succeeded, leaving the result as it was. Grows
// by the host do not count.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { WasmLoadError } from '../../../runtime/core/errors';
import { FUEL_EXPORT, FUEL_SETTER_EXPORT, GROW_FAILED_EXPORT, instrumentModule } from '../../../runtime/wasm/binary';
import { Reader } from '../../../runtime/wasm/binary/reader';
import { readSections, SEC_FUNCTION, SEC_TYPE } from '../../../runtime/wasm/binary/sections';
import { readTypeSection } from '../../../runtime/wasm/binary/types';
import { EMPTY, HEADER, i32c, i64c, instantiate, ModuleBuilder, op, section, T, vec, wasm, type Bytes, type WasmGlobal, type WasmMemory } from '../../support/wasm-builder';

type Fn = (...args: number[]) => number;

/** Types as 'i32->i32' strings, in index order. */
function typesOf(bytes: Uint8Array): string[] {
  const s = readSections(bytes).find((x) => x.id === SEC_TYPE);
  if (s === undefined) return [];
  return readTypeSection(new Reader(bytes, s.payload, s.end)).map((t) => (t === null ? 'gc' : `${t.params.join(',')}->${t.results.join(',')}`));
}

/** The function section's type indices. */
function funcTypesOf(bytes: Uint8Array): number[] {
  const s = readSections(bytes).find((x) => x.id === SEC_FUNCTION);
  if (s === undefined) return [];
  const r = new Reader(bytes, s.payload, s.end);
  const n = r.u32('count');
  return Array.from({ length: n }, () => r.u32('type'));
}

/** (memory 1 max) and grows of every shape: one site, two sites, a site in a loop, one in dead code. */
function growModule(max: number): Uint8Array {
  const m = new ModuleBuilder();
  m.memory(1, max, false, 'memory');
  m.func([T.i32], [T.i32], [op.local_get, 0, op.memory_grow, 0], { export: 'grow' });
  m.func([T.i32, T.i32], [T.i32], [op.local_get, 0, op.memory_grow, 0, op.local_get, 1, op.memory_grow, 0, op.i32_add], { export: 'two' });
  // fill(step): grow by `step` until it fails; returns the number of grows tried.
  m.func(
    [T.i32],
    [T.i32],
    [
      op.block, EMPTY, op.loop, EMPTY,
      op.local_get, 1, ...i32c(1), op.i32_add, op.local_set, 1,
      op.local_get, 0, op.memory_grow, 0, ...i32c(-1), op.i32_eq, op.br_if, 1,
      op.br, 0,
      op.end, op.end,
      op.local_get, 1,
    ],
    { locals: [T.i32], export: 'fill' },
  );
  // A grow inside an if with a result, inside a loop that runs once.
  m.func([T.i32], [T.i32], [op.loop, T.i32, op.local_get, 0, op.if, T.i32, op.local_get, 0, op.memory_grow, 0, op.else, ...i32c(7), op.end, op.end], { export: 'nested' });
  m.func([], [], [op.unreachable, op.memory_grow, 0, op.drop], { export: 'dead' });
  m.func([], [T.i32], [op.memory_size, 0], { export: 'size' });
  return m.build();
}

function load(bytes: Uint8Array): { x: Record<string, Fn>; flag: WasmGlobal; memory: WasmMemory } {
  const x = instantiate(bytes);
  (x[FUEL_EXPORT] as WasmGlobal).value = 1_000_000;
  return { x: x as Record<string, Fn>, flag: x[GROW_FAILED_EXPORT] as WasmGlobal, memory: x.memory as WasmMemory };
}

test('a grow past the cap still returns -1 and sets the flag; successful grows leave it 0', () => {
  const { x, flag } = load(instrumentModule(growModule(100), { maxMemoryPages: 8 }));
  assert.equal(flag.value, 0);
  assert.equal(x.grow(2), 1);
  assert.equal(x.grow(0), 3);
  assert.equal(x.size(), 3);
  assert.equal(flag.value, 0, 'successful grows do not set it');
  assert.equal(x.grow(6), -1, 'the result is unchanged');
  assert.equal(flag.value, 1);
  assert.equal(x.size(), 3);
  assert.equal(flag.value, 1, 'calls without a grow leave it as it is');
  assert.equal(x.grow(5), 3, 'a later successful grow works');
  assert.equal(flag.value, 0, 'and clears it: the flag is the outcome of the last guest grow');
  assert.equal(x.grow(-1), -1, '0xffffffff pages');
  assert.equal(flag.value, 1);
});

test('an allocator that asks for double, fails, then gets what it needs ends with the flag clear', () => {
  // The AssemblyScript TLSF/stub pattern: if (memory.grow(wanted) < 0) if (memory.grow(needed) < 0) unreachable();
  const m = new ModuleBuilder();
  m.memory(1, undefined, false, 'memory');
  m.func(
    [T.i32, T.i32],
    [],
    [
      op.local_get, 0, op.memory_grow, 0, ...i32c(0), op.i32_lt_s,
      op.if, EMPTY, op.local_get, 1, op.memory_grow, 0, ...i32c(0), op.i32_lt_s, op.if, EMPTY, op.unreachable, op.end, op.end,
    ],
    { export: 'alloc' },
  );
  const { x, flag } = load(instrumentModule(m.build(), { maxMemoryPages: 8 }));
  x.alloc(4, 2); // 5 pages
  assert.equal(flag.value, 0);
  x.alloc(5, 2); // 10 would be over the cap; 7 fits
  assert.equal(flag.value, 0, 'recovered: a later unrelated trap is not out-of-memory');
  assert.throws(() => x.alloc(7, 2), wasm.RuntimeError);
  assert.equal(flag.value, 1, 'both failed: the trap follows a failed grow');
});

test('every grow site is hooked: two in one function, one in a loop, one in nested blocks; results match the original', () => {
  // The original declares the cap itself, so both versions fail at the same point.
  const original = growModule(8);
  const inst = instrumentModule(original, { maxMemoryPages: 8 });
  // [name, args, flag after]; one instance of each runs them all in order.
  const calls: [string, number[], number][] = [
    ['two', [1, 1], 0], // 1 -> 2 -> 3 pages
    ['two', [10, 1], 0], // the first fails, the second succeeds (4 pages): the last grow succeeded
    ['two', [1, 10], 1], // 5 pages, then a failure
    ['nested', [0], 0], // no grow
    ['nested', [1], 0], // 6 pages
    ['nested', [9], 1],
    ['fill', [1], 1], // 6 -> 7 -> 8, the third grow fails
  ];
  const a = instantiate(original) as Record<string, Fn>;
  const { x: b, flag } = load(inst);
  for (const [name, args, flagAfter] of calls) {
    flag.value = 0;
    assert.equal(b[name](...args), a[name](...args), `${name}(${args})`);
    assert.equal(flag.value, flagAfter, `flag after ${name}(${args})`);
  }
  assert.equal(b.size(), 8);
  // Dead code after unreachable validates with the hook call in it, and traps without touching the flag.
  flag.value = 0;
  assert.throws(() => b.dead(), wasm.RuntimeError);
  assert.equal(flag.value, 0);
});

test('a grow loop that runs until memory.grow fails stops with the flag set', () => {
  const { x, flag } = load(instrumentModule(growModule(1000), { maxMemoryPages: 16 }));
  assert.equal(x.fill(2), 8, '1 -> 15 pages in 7 grows, the 8th fails');
  assert.equal(flag.value, 1);
  assert.equal(x.size(), 15);
});

test('grows by the host do not touch the flag, whether they succeed or throw', () => {
  const { x, flag, memory } = load(instrumentModule(growModule(100), { maxMemoryPages: 4 }));
  assert.equal(memory.grow(1), 1);
  assert.throws(() => memory.grow(10), RangeError);
  assert.equal(flag.value, 0);
  assert.equal(x.grow(1), 2);
  assert.equal(flag.value, 0);
  assert.equal(x.grow(2), -1);
  assert.equal(flag.value, 1);
});

test('a failed grow in the start function is already flagged when instantiation returns', () => {
  const m = new ModuleBuilder();
  m.memory(1);
  m.start(m.func([], [], [...i32c(100), op.memory_grow, 0, op.drop]));
  const x = instantiate(instrumentModule(m.build(), { maxMemoryPages: 2 }));
  assert.equal((x[GROW_FAILED_EXPORT] as WasmGlobal).value, 1);
});

test('the hook and the setter are appended after the last function, the flag after the fuel global', () => {
  const bytes = instrumentModule(growModule(8), { maxMemoryPages: 8 });
  assert.deepEqual(
    wasm.Module.exports(new wasm.Module(bytes)).slice(-3),
    [
      { name: FUEL_EXPORT, kind: 'global' },
      { name: GROW_FAILED_EXPORT, kind: 'global' },
      { name: FUEL_SETTER_EXPORT, kind: 'function' },
    ],
  );
  // 6 functions of the module (0-5), then the hook (6) and the setter (7): the grow sites call 6.
  const hay = Buffer.from(bytes);
  assert.ok(hay.indexOf(Buffer.from([op.local_get, 0, op.memory_grow, 0, op.call, 6, op.end])) > 0);
  assert.equal(funcTypesOf(bytes).length, 8);
});

test('an existing (i32) -> i32 type is reused for the hook; only the missing setter type is appended', () => {
  const original = growModule(8);
  const before = typesOf(original);
  assert.ok(before.includes('i32->i32'));
  const out = instrumentModule(original, { maxMemoryPages: 8 });
  assert.deepEqual(typesOf(out), [...before, 'i32->']);
  const f = funcTypesOf(out);
  assert.deepEqual(f.slice(-2), [before.indexOf('i32->i32'), before.length]);
  assert.ok(wasm.validate(out));

  // With both types present the type section is copied byte for byte.
  const m = new ModuleBuilder();
  m.func([T.i32], [], [], { export: 'sink' });
  m.func([T.i32], [T.i32], [op.local_get, 0]);
  const both = m.build();
  const typeSection = Buffer.from(section(SEC_TYPE, vec([[0x60, 1, T.i32, 0], [0x60, 1, T.i32, 1, T.i32]])));
  assert.ok(Buffer.from(both).indexOf(typeSection) === 8);
  const out2 = instrumentModule(both, { maxMemoryPages: 1 });
  assert.equal(Buffer.from(out2).indexOf(typeSection), 8);
  assert.deepEqual(funcTypesOf(out2), [0, 1, 1, 0]);
  assert.ok(wasm.validate(out2));
});

test('a matching type inside a recursion group is not reused: it is a different type', () => {
  // (rec (type (func (param i32) (result i32)))), then one function of that type.
  const bytes = Uint8Array.from([
    ...HEADER,
    ...section(1, vec([[0x4e, 1, 0x60, 1, T.i32, 1, T.i32]])),
    ...section(3, vec([[0]])),
    ...section(10, vec([[4, 0, op.local_get, 0, op.end]])),
  ]);
  const out = instrumentModule(bytes, { maxMemoryPages: 1 });
  assert.deepEqual(typesOf(out), ['i32->i32', 'i32->i32', 'i32->']);
  assert.deepEqual(funcTypesOf(out), [0, 1, 2]);
});

test('a module with no types, functions or memory still gets the flag, the setter and a valid hook', () => {
  const bytes = Uint8Array.from(HEADER);
  const out = instrumentModule(bytes, { maxMemoryPages: 1 });
  assert.deepEqual(typesOf(out), ['i32->i32', 'i32->']);
  const x = instantiate(out);
  assert.equal((x[GROW_FAILED_EXPORT] as WasmGlobal).value, 0);
  (x[FUEL_SETTER_EXPORT] as Fn)(42);
  assert.equal((x[FUEL_EXPORT] as WasmGlobal).value, 42);
});

test('a module that already exports the flag or the setter name is refused', () => {
  for (const name of [GROW_FAILED_EXPORT, FUEL_SETTER_EXPORT]) {
    const m = new ModuleBuilder();
    m.func([T.i32], [T.i32], [op.local_get, 0], { export: name });
    assert.throws(
      () => instrumentModule(m.build(), { maxMemoryPages: 1 }),
      (e: unknown) => e instanceof WasmLoadError && e.code === 'WASM_INVALID_MODULE' && e.message.includes(`already exports "${name}"`),
    );
  }
});

/** Runs a script in a child node with extra V8 flags; `bytes` arrives as the global `bytes`. */
function runWithFlags(flags: string[], bytes: Uint8Array, script: string): unknown {
  const code = `const bytes = Buffer.from(process.env.WASM_B64, 'base64'); const out = (() => { ${script} })(); process.stdout.write(JSON.stringify(out, (k, v) => typeof v === 'bigint' ? v.toString() + 'n' : v));`;
  const r = spawnSync(process.execPath, [...flags, '-e', code], { env: { ...process.env, WASM_B64: Buffer.from(bytes).toString('base64') }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('memory64: memory.grow returns an i64, so it gets an (i64) -> i64 hook of its own', () => {
  // (memory i64 1); grow(n: i64) -> i64; an existing (i64) -> i64 type is reused.
  const bytes = Uint8Array.from([
    ...HEADER,
    ...section(1, vec([[0x60, 1, T.i64, 1, T.i64]])),
    ...section(3, vec([[0], [0]])),
    ...section(5, [1, 0x04, 1]),
    ...section(7, vec([[4, ...Buffer.from('grow'), 0, 0], [6, ...Buffer.from('memory'), 2, 0]])),
    ...section(10, vec([[6, 0, op.local_get, 0, op.memory_grow, 0, op.end], [9, 0, op.local_get, 0, op.memory_grow, 0, ...i64c(0n), op.i64_add, op.end]])),
  ]);
  const out = instrumentModule(bytes, { maxMemoryPages: 4 });
  assert.deepEqual(typesOf(out), ['i64->i64', 'i32->i32', 'i32->']);
  // Functions 0, 1; the i32 hook (2), the setter (3), the i64 hook (4); both grow sites call 4.
  assert.deepEqual(funcTypesOf(out), [0, 0, 1, 2, 0]);
  assert.ok(Buffer.from(out).indexOf(Buffer.from([op.memory_grow, 0, op.call, 4])) > 0);
  const r = runWithFlags(
    ['--experimental-wasm-memory64'],
    out,
    `const x = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
     const f = () => x.${GROW_FAILED_EXPORT}.value;
     return [x.grow(2n), f(), x.grow(1n), f(), x.grow(1n), f()];`,
  );
  assert.deepEqual(r, ['1n', 0, '3n', 0, '-1n', 1]);
});

test('multi-memory: grows of memory 1 are hooked too, and a mix of 32- and 64-bit memories validates (binaryen)', async () => {
  // Node 20's V8 has no multi-memory; binaryen (the AssemblyScript optimizer) validates instead.
  const binaryen = ((await dynamicImport('binaryen')) as { default: Binaryen }).default;
  const validate = (b: Uint8Array, features: number): boolean => {
    const mod = binaryen.readBinaryWithFeatures(b, features);
    try {
      return mod.validate() !== 0;
    } finally {
      mod.dispose();
    }
  };
  const F = binaryen.Features;
  const m = new ModuleBuilder();
  m.memory(1, undefined, false, 'm0');
  m.memory(1, undefined, false, 'm1');
  m.func([T.i32], [T.i32], [op.local_get, 0, op.memory_grow, 1, op.local_get, 0, op.memory_grow, 0, op.i32_add], { export: 'g' });
  const bytes = m.build();
  const out = instrumentModule(bytes, { maxMemoryPages: 4 });
  const hay = Buffer.from(out);
  assert.ok(hay.indexOf(Buffer.from([op.memory_grow, 1, op.call, 1, op.local_get, 0, op.memory_grow, 0, op.call, 1])) > 0);
  const multi = F.MVP | F.MultiMemory | F.MutableGlobals;
  assert.ok(validate(bytes, multi) && validate(out, multi));
  assert.throws(() => instrumentModule(oneFunc([op.local_get, 0, op.memory_grow, 2]), { maxMemoryPages: 4 }), /memory index 2 out of range \(the module has 2 memories\)/);

  // memory 0 is 32-bit, memory 1 64-bit: each site calls the hook of its memory's index type.
  const mixed = Uint8Array.from([
    ...HEADER,
    ...section(1, vec([[0x60, 2, T.i32, T.i64, 1, T.i64]])),
    ...section(3, vec([[0]])),
    ...section(5, [2, 0x00, 1, 0x04, 1]),
    ...section(10, vec([[11, 0, op.local_get, 0, op.memory_grow, 0, op.drop, op.local_get, 1, op.memory_grow, 1, op.end]])),
  ]);
  const mixedOut = instrumentModule(mixed, { maxMemoryPages: 4 });
  // Function 0; the i32 hook (1), the setter (2), the i64 hook (3).
  assert.ok(Buffer.from(mixedOut).indexOf(Buffer.from([op.memory_grow, 0, op.call, 1, op.drop, op.local_get, 1, op.memory_grow, 1, op.call, 3])) > 0);
  const both = F.MVP | F.MultiMemory | F.Memory64 | F.MutableGlobals;
  assert.ok(validate(mixed, both) && validate(mixedOut, both));

  function oneFunc(body: Bytes): Uint8Array {
    const b = new ModuleBuilder();
    b.memory(1);
    b.memory(1);
    b.func([T.i32], [T.i32], body);
    return b.build();
  }
});

interface Binaryen {
  Features: { MVP: number; MultiMemory: number; Memory64: number; MutableGlobals: number };
  readBinaryWithFeatures(bytes: Uint8Array, features: number): { validate(): number; dispose(): void };
}

// binaryen is an ES module; TypeScript's CommonJS output would turn import() into require().
const dynamicImport = new Function('s', 'return import(s)') as (s: string) => Promise<unknown>;
