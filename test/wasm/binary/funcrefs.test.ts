// Function indices past the module's own functions name, after
// instrumentation, the appended grow hook and fuel setter. An invalid module
// must not become a valid one that reaches them (the setter in a table is a
// budget refill through call_indirect), so every place that holds a function
// index is range-checked.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { WasmLoadError } from '../../../runtime/core/errors';
import { instrumentModule } from '../../../runtime/wasm/binary';
import { HEADER, i32c, ModuleBuilder, op, section, T, u32, vec, wasm, type Bytes } from '../../support/wasm-builder';

function refused(bytes: Uint8Array, message: RegExp): void {
  assert.equal(wasm.validate(bytes), false, 'V8 refuses the original too');
  assert.throws(
    () => instrumentModule(bytes, { maxMemoryPages: 1 }),
    (e: unknown) => {
      assert.ok(e instanceof WasmLoadError, String(e));
      assert.equal(e.code, 'WASM_INVALID_MODULE');
      assert.match(e.message, message);
      return true;
    },
  );
}

function instrumentsValid(bytes: Uint8Array): void {
  assert.ok(wasm.validate(bytes), 'the original is valid');
  assert.ok(wasm.validate(instrumentModule(bytes, { maxMemoryPages: 1 })), 'and so is the instrumented module');
}

test('call, return_call and ref.func past the module own functions are refused', () => {
  // call 2 (the grow hook after instrumentation), return_call 2, ref.func 3 (the fuel setter)
  for (const instr of [[op.call, 2, op.drop], [op.return_call, 2], [op.ref_func, 3, op.drop]]) {
    const m = new ModuleBuilder();
    m.func([T.i32], [T.i32], [op.local_get, 0]);
    m.func([T.i32], [T.i32], [op.local_get, 0, ...instr, op.local_get, 0]);
    refused(m.build(), /function index [23] out of range \(the module has 2 functions\) in function 1 at byte offset \d+/);
  }
  // A multi-byte index that is in range is fine.
  const m = new ModuleBuilder();
  for (let i = 0; i < 200; i++) m.func([], [], []);
  m.func([], [], [op.call, ...u32(199)], { export: 'last' });
  instrumentsValid(m.build());
});

/** table 0 of 4 funcrefs, function 0: () -> i32, and the given element section entries. */
function withElements(entries: Bytes[]): Uint8Array {
  return Uint8Array.from([
    ...HEADER,
    ...section(1, vec([[0x60, 0, 1, T.i32]])),
    ...section(3, vec([[0]])),
    ...section(4, vec([[T.funcref, 0, 4]])),
    ...section(9, vec(entries)),
    ...section(10, vec([[4, 0, ...i32c(1), op.end]])),
  ]);
}

const OFFSET = [...i32c(0), op.end];
const refFunc = (f: number): Bytes => [op.ref_func, ...u32(f), op.end];
const REF_NULL = [op.ref_null, T.funcref, op.end];
/** The eight element segment encodings, each naming function f. */
const ELEMENT_FORMS: ((f: number) => Bytes)[] = [
  (f) => [0x00, ...OFFSET, ...vec([u32(f)])],
  (f) => [0x01, 0x00, ...vec([u32(f)])],
  (f) => [0x02, 0x00, ...OFFSET, 0x00, ...vec([u32(f)])],
  (f) => [0x03, 0x00, ...vec([u32(f)])],
  (f) => [0x04, ...OFFSET, ...vec([REF_NULL, refFunc(f)])],
  (f) => [0x05, T.funcref, ...vec([refFunc(f), REF_NULL])],
  (f) => [0x06, 0x00, ...OFFSET, T.funcref, ...vec([refFunc(f)])],
  (f) => [0x07, T.funcref, ...vec([refFunc(f)])],
];

test('element segments of every encoding are read; one naming an appended function is refused', () => {
  instrumentsValid(withElements(ELEMENT_FORMS.map((form) => form(0))));
  ELEMENT_FORMS.forEach((form, flags) => {
    // Index 2 is the fuel setter after instrumentation (1 is the grow hook).
    const expr = flags >= 4;
    refused(withElements([form(2)]), expr ? /function index 2 out of range \(the module has 1 functions\) in element expression/ : /function index 2 out of range \(the module has 1 functions\) in an element segment/);
  });
});

test('an export, a global initialiser or the start section naming an appended function is refused', () => {
  const m = new ModuleBuilder();
  m.func([], [], []);
  m.export('setter', 0, 2);
  refused(m.build(), /export "setter" names function 2, but the module has 1 functions/);

  const g = new ModuleBuilder();
  g.func([], [], []);
  g.global(T.funcref, false, [op.ref_func, 1]);
  refused(g.build(), /function index 1 out of range \(the module has 1 functions\) in global initialiser/);

  const s = new ModuleBuilder();
  s.func([], [], []);
  s.start(1);
  refused(s.build(), /function index 1 out of range \(the module has 1 functions\) in the start section/);
});

test('table initialisers (typed function references) are checked too', () => {
  // (table 1 funcref (ref.func N)): 0x40 0x00 reftype limits expr. Not in Node 20's V8, so only our side is checked.
  const module = (f: number): Uint8Array =>
    Uint8Array.from([
      ...HEADER,
      ...section(1, vec([[0x60, 0, 0]])),
      ...section(3, vec([[0]])),
      ...section(4, vec([[0x40, 0x00, T.funcref, 0, 1, ...refFunc(f)]])),
      ...section(10, vec([[2, 0, op.end]])),
    ]);
  assert.ok(instrumentModule(module(0), { maxMemoryPages: 1 }).length > 0);
  assert.throws(() => instrumentModule(module(1), { maxMemoryPages: 1 }), /function index 1 out of range \(the module has 1 functions\) in table initialiser/);
});

test('a function or function import whose type index is past the module types is refused, not given an appended type', () => {
  const fn = Uint8Array.from([...HEADER, ...section(1, vec([[0x60, 0, 0]])), ...section(3, vec([[1]])), ...section(10, vec([[2, 0, op.end]]))]);
  refused(fn, /function 0 uses type index 1, but the module defines 1 types/);
  const imp = Uint8Array.from([...HEADER, ...section(1, vec([[0x60, 0, 0]])), ...section(2, vec([[1, 0x65, 1, 0x66, 0x00, 1]]))]);
  refused(imp, /import "e"\."f" uses type index 1, but the module defines 1 types/);
});
