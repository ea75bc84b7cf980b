// A real compiler's output: an optimized AssemblyScript module (loops,
// recursion, SIMD, bulk memory, the stub allocator) must still validate after
// instrumentation, compute the same results, and have its endless loop stopped.
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { FUEL_EXPORT, FUEL_SETTER_EXPORT, GROW_FAILED_EXPORT, inspectModule, instrumentModule, isFuelExhausted } from '../../../runtime/wasm/binary';
import { instantiate, wasm, type WasmGlobal } from '../../support/wasm-builder';

const SOURCE = `
export function sum(n: i32): i32 { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }
export function fib(n: i32): i32 { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
export function spin(): void { while (true) {} }
export function sieve(n: i32): i32 {
  const a = new Uint8Array(n + 1);
  let count = 0;
  for (let i = 2; i <= n; i++) {
    if (a[i] == 0) { count++; for (let j = i * 2; j <= n; j += i) a[j] = 1; }
  }
  return count;
}
export function simd(x: i32): i32 {
  let v = i32x4.splat(x);
  v = i32x4.add(v, i32x4(1, 2, 3, 4));
  v = v128.shuffle<i32>(v, v, 3, 2, 1, 0);
  return i32x4.extract_lane(v, 0) * 3 + i32x4.extract_lane(v, 3);
}
export function bulk(x: i32): i32 {
  const p = heap.alloc(256);
  memory.fill(p, <u8>x, 128);
  memory.copy(p + 128, p, 128);
  return load<u8>(p + 200) + load<u8>(p + 5);
}
export function text(n: i32): i32 {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(65 + (i % 26));
  return s.charCodeAt(n - 1) + s.length;
}
export function grow(pages: i32): i32 { return memory.grow(pages); }
`;

let original: Uint8Array;

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-asc-'));
  try {
    fs.writeFileSync(path.join(dir, 'filter.ts'), SOURCE);
    const asc = require.resolve('assemblyscript/bin/asc.js');
    await promisify(execFile)(process.execPath, [asc, 'filter.ts', '-o', 'filter.wasm', '--optimize', '--runtime', 'stub', '--enable', 'simd'], { cwd: dir });
    original = fs.readFileSync(path.join(dir, 'filter.wasm'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

type Fn = (...args: number[]) => number;
const imports = () => ({ env: { abort: () => { throw new Error('abort'); } } });

test('the AssemblyScript module validates after instrumentation and computes the same results', () => {
  const out = instrumentModule(original, { maxMemoryPages: 32 });
  assert.ok(wasm.validate(out));
  const a = instantiate(original, imports());
  const b = instantiate(out, imports());
  const fuel = b[FUEL_EXPORT] as WasmGlobal;
  const calls: [string, number[]][] = [['sum', [0]], ['sum', [1000]], ['fib', [20]], ['sieve', [10_000]], ['simd', [7]], ['simd', [-3]], ['bulk', [9]], ['text', [300]]];
  for (const [name, args] of calls) {
    fuel.value = 50_000_000;
    assert.equal((b[name] as Fn)(...args), (a[name] as Fn)(...args), `${name}(${args})`);
    assert.ok((fuel.value as number) >= 0 && (fuel.value as number) < 50_000_000, `${name} was metered`);
  }
  // fib(20) makes 21891 calls, each charged at entry (unless the optimizer inlined some).
  fuel.value = 1_000_000;
  (b.fib as Fn)(20);
  assert.ok(1_000_000 - (fuel.value as number) > 5000);
});

test('while (true) {} in AssemblyScript traps with the budget exhausted', () => {
  const x = instantiate(instrumentModule(original, { maxMemoryPages: 32 }), imports());
  const fuel = x[FUEL_EXPORT] as WasmGlobal;
  fuel.value = 1_000_000;
  assert.throws(() => (x.spin as Fn)(), wasm.RuntimeError);
  assert.ok(isFuelExhausted(fuel.value));
  // The instance is still usable with a fresh budget (the host decides whether it should be).
  fuel.value = 1000;
  assert.equal((x.sum as Fn)(10), 45);
});

test('the AssemblyScript memory is capped: growing past the limit returns -1', () => {
  const info = inspectModule(original);
  assert.deepEqual(info.memories.map((m) => m.max), [null]);
  const out = instrumentModule(original, { maxMemoryPages: 8 });
  assert.deepEqual(inspectModule(out).memories.map((m) => m.max), [8]);
  const x = instantiate(out, imports());
  (x[FUEL_EXPORT] as WasmGlobal).value = 1000;
  const flag = x[GROW_FAILED_EXPORT] as WasmGlobal;
  const initial = info.memories[0].min;
  assert.equal((x.grow as Fn)(8 - initial), initial);
  assert.equal(flag.value, 0);
  assert.equal((x.grow as Fn)(1), -1);
  assert.equal(flag.value, 1);
});

test('an allocation past the cap traps with the grow flag set, though memory is not at the cap', () => {
  // The stub allocator asks memory.grow for double the memory, failing that for what it needs, failing that traps.
  const x = instantiate(instrumentModule(original, { maxMemoryPages: 50 }), imports());
  const setFuel = x[FUEL_SETTER_EXPORT] as Fn;
  const flag = x[GROW_FAILED_EXPORT] as WasmGlobal;
  const pages = (): number => (x.memory as { buffer: ArrayBuffer }).buffer.byteLength / 65536;
  // Each sieve(1e6) allocates ~16 pages, never freed: 1 -> 16 -> 32 -> ~46 pages.
  for (let i = 0; i < 3; i++) {
    setFuel(50_000_000);
    assert.equal((x.sieve as Fn)(1_000_000), 78498);
  }
  const at = pages();
  assert.ok(at > 40 && at < 50, `${at} pages`);
  assert.equal(flag.value, 0, 'the third grew by what it needed after doubling (to 64) failed: recovered, so clear');
  setFuel(50_000_000);
  assert.throws(() => (x.sieve as Fn)(1_000_000), wasm.RuntimeError);
  assert.equal(flag.value, 1, 'both grows failed, then the allocator trapped');
  assert.equal(pages(), at, `${50 - at} pages short of the cap: the size alone does not show it`);
  // A genuine trap or an exhausted budget leaves it alone.
  const y = instantiate(instrumentModule(original, { maxMemoryPages: 64 }), imports());
  (y[FUEL_SETTER_EXPORT] as Fn)(1000);
  assert.throws(() => (y.spin as Fn)(), wasm.RuntimeError);
  assert.ok(isFuelExhausted((y[FUEL_EXPORT] as WasmGlobal).value));
  assert.equal((y[GROW_FAILED_EXPORT] as WasmGlobal).value, 0);
});
