// The instruction decoder against V8: the opcodes it knows, what it refuses,
// and differential fuzzing (whatever V8 accepts must instrument into a module
// V8 accepts).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { WasmLoadError } from '../../../runtime/core/errors';
import { instrumentModule } from '../../../runtime/wasm/binary';
import { EMPTY, f64, fc, fd, HEADER, i32c, ModuleBuilder, op, section, T, u32, vec, wasm, type Bytes } from '../../support/wasm-builder';

/** A module with one of everything an immediate can name (function, type, table, memory, global, tag, data, elem, local, label). */
function probeModule(instr: Bytes): Uint8Array {
  const m = new ModuleBuilder();
  m.table(1);
  m.memory(1, 1, true);
  m.tag([T.i32]);
  m.global(T.i32, true, i32c(0));
  // Zeros after the probe decode as `unreachable`, whatever the probe's immediate length.
  m.func([], [], [op.unreachable, ...instr, ...new Array(24).fill(0)], { locals: [T.i32], export: 'f' });
  m.passiveElem([0]);
  m.data(null, [0]);
  return m.build();
}

function accepts(bytes: Uint8Array): { v8: boolean; ours: boolean; instrumentedValid: boolean } {
  const v8 = wasm.validate(bytes);
  let ours = true;
  let instrumentedValid = false;
  try {
    instrumentedValid = wasm.validate(instrumentModule(bytes, { maxMemoryPages: 1 }));
  } catch (e) {
    assert.ok(e instanceof WasmLoadError, String(e));
    assert.match(e.message, /unknown opcode/);
    ours = false;
  }
  return { v8, ours, instrumentedValid };
}

// Known to the decoder (Wasm 3.0 / finished proposals) but not enabled in Node 20's V8.
const NEWER_THAN_V8: Record<string, Set<number>> = {
  one: new Set([0x0a, 0x14, 0x15, 0xd4, 0xd5, 0xd6]), // throw_ref, call_ref, return_call_ref, ref.as_non_null, br_on_null, br_on_non_null
  fc: new Set(),
  fd: new Set(Array.from({ length: 0x14 }, (_, i) => 0x100 + i)), // relaxed SIMD
  fe: new Set(),
};

function compareWithV8(family: string, ops: number[], encode: (op: number) => Bytes): void {
  const disagree: string[] = [];
  for (const o of ops) {
    const r = accepts(probeModule(encode(o)));
    if (r.v8 && !r.ours) disagree.push(`${family} 0x${o.toString(16)}: V8 accepts it, the decoder refuses it`);
    if (r.ours && !r.v8 && !NEWER_THAN_V8[family].has(o)) disagree.push(`${family} 0x${o.toString(16)}: the decoder accepts it, V8 does not`);
    if (r.v8 && r.ours && !r.instrumentedValid) disagree.push(`${family} 0x${o.toString(16)}: the instrumented module is invalid`);
  }
  assert.deepEqual(disagree, []);
}

test('one-byte opcodes: the decoder knows exactly what V8 knows', () => {
  // Structured instructions need their partners and are covered by the semantics tests.
  const structural = new Set([0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x18, 0x19, 0x1c, 0x1f, 0xfc, 0xfd, 0xfe]);
  const ops = Array.from({ length: 256 }, (_, i) => i).filter((o) => !structural.has(o));
  compareWithV8('one', ops, (o) => (o === 0xd0 ? [0xd0, T.funcref] : [o]));
});

test('0xFC (saturating truncation, bulk memory, tables), 0xFD (SIMD) and 0xFE (threads) match V8', () => {
  compareWithV8('fc', Array.from({ length: 40 }, (_, i) => i), (o) => fc(o));
  compareWithV8('fd', Array.from({ length: 0x130 }, (_, i) => i), (o) => fd(o));
  compareWithV8('fe', Array.from({ length: 0x80 }, (_, i) => i), (o) => [0xfe, ...u32(o)]);
});

/** A module whose single function body is `body` (locals none), to hit exact offsets. */
function oneBody(body: Bytes): { bytes: Uint8Array; bodyAt: number } {
  const head = [...HEADER, ...section(1, vec([[0x60, 0, 0]])), ...section(3, vec([[0]]))];
  const fn = [0, ...body]; // no locals
  const code = section(10, vec([[...u32(fn.length), ...fn]]));
  // offset of body[0] = after the code section header, count, body size and locals count
  const bodyAt = head.length + 2 + 1 + u32(fn.length).length + 1;
  return { bytes: Uint8Array.from([...head, ...code]), bodyAt };
}

function refuses(bytes: Uint8Array, message: RegExp | string): void {
  assert.throws(
    () => instrumentModule(bytes, { maxMemoryPages: 1 }),
    (e: unknown) => {
      assert.ok(e instanceof WasmLoadError, String(e));
      assert.equal(e.code, 'WASM_INVALID_MODULE');
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

test('unknown opcodes are refused, naming the opcode, the function and the byte offset', () => {
  let t = oneBody([op.nop, 0x27, op.end]);
  refuses(t.bytes, `invalid wasm module: unknown opcode 0x27 in function 0 at byte offset ${t.bodyAt + 1}`);
  t = oneBody([op.nop, op.nop, 0xfb, 0x00, op.end]); // GC prefix
  refuses(t.bytes, `invalid wasm module: unknown opcode 0xfb in function 0 at byte offset ${t.bodyAt + 2}`);
  t = oneBody([0xfd, 0x9a, 0x01, op.end]); // reserved SIMD opcode
  refuses(t.bytes, `invalid wasm module: unknown opcode 0xfd 0x9a in function 0 at byte offset ${t.bodyAt}`);
  t = oneBody([...fc(18), op.end]);
  refuses(t.bytes, `invalid wasm module: unknown opcode 0xfc 0x12 in function 0 at byte offset ${t.bodyAt}`);
  t = oneBody([0xfe, 0x04, op.end]);
  refuses(t.bytes, /unknown opcode 0xfe 0x04/);
});

test('malformed code is refused with the typed error', () => {
  refuses(oneBody([op.i32_const, 0x80]).bytes, /unexpected end of i32 constant at byte offset/);
  refuses(oneBody([op.block, 0x55, op.end, op.end]).bytes, /invalid block type 0x55/);
  refuses(oneBody([op.f64_const, 0, 0, 0]).bytes, /unexpected end of f64 constant \(8 bytes needed, 3 left\)/);
  refuses(oneBody([op.br_table, ...u32(1000), 0, op.end]).bytes, /br_table with 1000 targets exceeds the function body/);
  refuses(oneBody([op.i32_const, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, op.end]).bytes, /i32 constant is longer than 5 bytes/);
  refuses(oneBody([...fd(0x0c, 1, 2, 3), op.end]).bytes, /unexpected end of v128 immediate/);
  refuses(oneBody([op.select_t, 1, 0x42, op.end]).bytes, /invalid value type 0x42/);
  refuses(oneBody([0x1f, EMPTY, 1, 7, 0, op.end, op.end]).bytes, /invalid try_table catch kind 7/);
  // Body size past the end of the code section.
  const { bytes } = oneBody([op.end]);
  const bad = Uint8Array.from(bytes);
  bad[bad.length - 3] = 50; // the body size byte
  refuses(bad, /body of function 0 \(size 50\) runs past the code section/);
  // Locals with a bad type.
  const head = [...HEADER, ...section(1, vec([[0x60, 0, 0]])), ...section(3, vec([[0]]))];
  refuses(Uint8Array.from([...head, ...section(10, vec([[4, 1, 1, 0x40, op.end]]))]), /invalid value type 0x40/);
  refuses(Uint8Array.from([0, 0x61, 0x73, 0x6e, 1, 0, 0, 0]), 'invalid wasm module: bad magic number (not a wasm binary) at byte offset 0');
  // A global section whose count disagrees with its entries: the fuel index would be wrong.
  const globalEntry = [T.i32, 1, ...i32c(0), op.end];
  refuses(Uint8Array.from([...HEADER, ...section(6, [2, ...globalEntry])]), 'invalid wasm module: unexpected end of value type at byte offset 16');
  refuses(Uint8Array.from([...HEADER, ...section(6, [1, ...globalEntry, ...globalEntry])]), /global section has 5 unexpected trailing bytes at byte offset 16/);
  refuses(Uint8Array.from([...HEADER, ...section(6, [1, T.i32, 0, op.call, 0, op.end])]), /unsupported instruction 0x10 in global initialiser at byte offset 13/);
});

test('try_table (exnref EH) is decoded: its catch clauses are skipped and loops inside it are metered', () => {
  // Not runnable on Node 20; the inserted check must land right after the loop's block type.
  const body = [0x1f, EMPTY, 2, 0x00, 0, 0, 0x02, 1, op.loop, EMPTY, op.end, op.end, op.end];
  const { bytes, bodyAt } = oneBody(body);
  const out = instrumentModule(bytes, { maxMemoryPages: 1 });
  const check = [0x23, 0, 0x41, 1, 0x6b, 0x24, 0, 0x23, 0, 0x41, 0, 0x48, 0x04, 0x40, 0x00, 0x0b];
  const hay = Buffer.from(out);
  const atLoop = hay.indexOf(Buffer.from([...body.slice(0, 10), ...check]));
  assert.ok(atLoop > bodyAt, 'check after the loop header inside try_table');
  assert.equal(hay.indexOf(Buffer.from(check)), atLoop - check.length, 'and one at function entry just before it');
});

function richModule(): Uint8Array {
  const m = new ModuleBuilder();
  m.importFunction('env', 'log', [T.i32], []);
  m.memory(1, 2);
  m.table(2);
  m.global(T.i32, true, i32c(1));
  const data = m.data(null, [1, 2, 3]);
  m.func(
    [T.i32],
    [T.i32],
    [
      op.block, EMPTY, op.loop, EMPTY, op.local_get, 0, op.i32_eqz, op.br_if, 1,
      op.local_get, 0, ...i32c(1), op.i32_sub, op.local_set, 0, op.global_get, 0, op.call, 0, op.br, 0, op.end, op.end,
      ...i32c(0), ...i32c(0), ...i32c(3), ...fc(8, data, 0),
      ...fd(0x0c, ...new Array(16).fill(7)), ...fd(0x1b, 2),
      op.f64_const, ...f64(2.5), op.i32_trunc_f64_s, op.i32_add,
      ...i32c(4), op.i32_load, 2, 0, op.i32_add,
      op.local_get, 0, op.memory_grow, 0, op.i32_add, // gets a hook call
    ],
    { export: 'run' },
  );
  m.func([T.i32], [T.i32], [...i32c(7), op.local_get, 0, op.br_table, 2, 0, 0, 0], { export: 'bt' });
  m.elem(0, [1, 2]); // function indices: range-checked against the appended functions
  return m.build();
}

test('differential fuzzing: every corruption V8 accepts instruments into a module V8 accepts', () => {
  const base = richModule();
  new wasm.Module(base); // valid, or V8 says why
  let seed = 0xc0ffee;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed % n;
  };
  let validCorruptions = 0;
  for (let i = 0; i < 4000; i++) {
    const b = Uint8Array.from(base);
    for (let k = 1 + rand(2); k > 0; k--) b[8 + rand(b.length - 8)] = rand(4) === 0 ? rand(256) : b[8 + rand(b.length - 8)];
    const v8 = wasm.validate(b);
    let out: Uint8Array | null = null;
    try {
      out = instrumentModule(b, { maxMemoryPages: 65536 });
    } catch (e) {
      assert.ok(e instanceof WasmLoadError, `corruption ${i}: ${String(e)}`);
      assert.ok(!v8, `corruption ${i}: V8 accepts it but instrumenting failed: ${e.message}`);
    }
    if (v8) {
      validCorruptions++;
      assert.ok(out !== null && wasm.validate(out), `corruption ${i}: the instrumented module is invalid`);
    }
  }
  assert.ok(validCorruptions > 100, `only ${validCorruptions} corruptions were valid`);
});

test('every truncation of a module is refused with the typed error or parses at a section boundary', () => {
  const base = richModule();
  for (let n = 0; n < base.length; n++) {
    try {
      instrumentModule(base.subarray(0, n), { maxMemoryPages: 4 });
    } catch (e) {
      assert.ok(e instanceof WasmLoadError && e.code === 'WASM_INVALID_MODULE', `truncated at ${n}: ${String(e)}`);
    }
  }
});
