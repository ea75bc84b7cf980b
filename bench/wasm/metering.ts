// Cost of fuel metering: ns per call of small exported functions, original vs
// instrumented, and instrumented with the budget set from JS before every
// call (what the host does per callback), both ways: writing the fuel
// global's .value, and calling the module's __wasmesh_set_fuel (what the host
// does). Also the cost of the rewrite itself on a ~230 KB module.
//
//   node dist/bench/wasm/metering.js [--ms 1000]
//
// --ms is roughly the measuring time per row (all four variants); the whole
// run stays under 15 s with the default.
import { FUEL_EXPORT, FUEL_SETTER_EXPORT, instrumentModule, MAX_FUEL } from '../../runtime/wasm/binary';
import { EMPTY, f64, i32c, instantiate, ModuleBuilder, op, T, type Bytes, type WasmGlobal } from '../../test/support/wasm-builder';

type Fn = (x: number) => number;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

function benchModule(): Uint8Array {
  const m = new ModuleBuilder();
  m.func([T.i32], [T.i32], [op.local_get, 0, ...i32c(1), op.i32_add], { export: 'noop' });
  // loop(n): n iterations of acc += i * 3
  m.func(
    [T.i32],
    [T.i32],
    [
      op.block, EMPTY, op.loop, EMPTY,
      op.local_get, 0, op.i32_eqz, op.br_if, 1,
      op.local_get, 1, op.local_get, 0, ...i32c(3), op.i32_mul, op.i32_add, op.local_set, 1,
      op.local_get, 0, ...i32c(1), op.i32_sub, op.local_set, 0,
      op.br, 0,
      op.end, op.end,
      op.local_get, 1,
    ],
    { locals: [T.i32], export: 'loop' },
  );
  // fib(n), naive recursion: call-heavy, no loops
  m.func(
    [T.i32],
    [T.i32],
    [
      op.local_get, 0, ...i32c(2), op.i32_lt_s,
      op.if, T.i32, op.local_get, 0,
      op.else, op.local_get, 0, ...i32c(1), op.i32_sub, op.call, 2, op.local_get, 0, ...i32c(2), op.i32_sub, op.call, 2, op.i32_add,
      op.end,
    ],
    { export: 'fib' },
  );
  return m.build();
}

/** A ~230 KB module of loop-heavy functions, for the rewrite's own speed. */
function bigModule(): Uint8Array {
  const m = new ModuleBuilder();
  m.memory(1);
  const body: Bytes = [];
  for (let k = 0; k < 8; k++) {
    body.push(op.block, EMPTY, op.loop, EMPTY, op.local_get, 0, op.i32_eqz, op.br_if, 1, op.local_get, 0, ...i32c(1), op.i32_sub, op.local_set, 0);
    body.push(...i32c(1000 + k), op.i32_load, 2, 16, op.local_get, 1, op.i32_add, op.local_set, 1, op.f64_const, ...f64(k), op.drop, op.br, 0, op.end, op.end);
  }
  body.push(op.local_get, 1);
  for (let i = 0; i < 700; i++) m.func([T.i32], [T.i32], body, { locals: [T.i32], export: `f${i}` });
  return m.build();
}

/** How the budget is set before each call: not at all, fuel.value = budget, or setFuel(budget). */
type SetBy = 'none' | 'value' | 'setter';

/** n calls of f(x), setting the budget before each as `set` says; returns a sink. */
type Loop = (f: Fn, g: WasmGlobal, setFuel: (budget: number) => void, x: number, n: number, budget: number) => number;

// Each measured loop is compiled from source afresh, so every call site in it
// sees a single target and V8's feedback is not shared (and polluted) across
// functions and variants: the usual trick of JS micro-benchmark harnesses.
function makeLoop(set: SetBy): Loop {
  const before = set === 'value' ? 'g.value = budget; ' : set === 'setter' ? 'setFuel(budget); ' : '';
  const body = `let s = 0; for (let i = 0; i < n; i++) { ${before}s += f(x); } return s;`;
  return new Function('f', 'g', 'setFuel', 'x', 'n', 'budget', body) as Loop;
}

interface Variant {
  f: Fn;
  set: SetBy;
  /** Runs before each timed batch, untimed. */
  prepare?: () => void;
}

let sink = 0;

/**
 * ns per call for each variant: a warm-up (long enough for V8 to tier the
 * wasm functions up to TurboFan), then 9 rounds that interleave the variants
 * so drift hits them alike; the median round of each is reported.
 */
function measure(variants: Variant[], g: WasmGlobal, setFuel: (budget: number) => void, x: number, ms: number): number[] {
  const ROUNDS = 9;
  const loops = variants.map((v) => makeLoop(v.set));
  const batch = (i: number, n: number): number => {
    variants[i].prepare?.();
    const t0 = process.hrtime.bigint();
    sink += loops[i](variants[i].f, g, setFuel, x, n, BUDGET);
    return Number(process.hrtime.bigint() - t0);
  };
  let n = 64;
  while (batch(0, n) < 1e6) n *= 2; // batches of about 1 ms
  const batchMs = batch(0, n) / 1e6;
  const warm = Math.ceil(ms / 2 / variants.length / batchMs);
  const perRound = Math.max(1, Math.round(ms / 2 / variants.length / ROUNDS / batchMs));
  variants.forEach((_, i) => {
    for (let k = 0; k < warm; k++) batch(i, n);
  });
  const samples = variants.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) {
    variants.forEach((_, i) => {
      let total = 0;
      for (let k = 0; k < perRound; k++) total += batch(i, n);
      samples[i].push(total / perRound / n);
    });
  }
  return samples.map((s) => s.sort((p, q) => p - q)[ROUNDS >> 1]);
}

const BUDGET = 10_000_000;

function main(): void {
  const ms = arg('--ms', 1000);
  const original = benchModule();
  const metered = instrumentModule(original, { maxMemoryPages: 16 });
  const a = instantiate(original);
  const b = instantiate(metered);
  const fuel = b[FUEL_EXPORT] as WasmGlobal;
  const setFuel = b[FUEL_SETTER_EXPORT] as (budget: number) => void;

  // units: fuel checks executed per call (function entries + loop header passes).
  const cases: [label: string, name: string, x: number, units: number][] = [
    ['noop(x) = x + 1', 'noop', 41, 1],
    ['loop of 100 iterations', 'loop', 100, 1 + 101],
    ['fib(15), 1973 calls', 'fib', 15, 1973],
  ];
  console.log(`wasm metering, ${process.version}, median of 9 interleaved rounds after warm-up, ~${ms} ms per row\n`);
  console.log('function                 checks   original    metered   + fuel.value =   + set_fuel()   per check   .value write   set_fuel()');
  for (const [label, name, x, units] of cases) {
    const fa = a[name] as Fn;
    const fb = b[name] as Fn;
    if (fa(x) !== fb(x)) throw new Error(`${name}: results differ`);
    const [tOrig, tMeter, tValue, tSetter] = measure(
      [
        { f: fa, set: 'none' },
        { f: fb, set: 'none', prepare: () => (fuel.value = MAX_FUEL) }, // the checks only
        { f: fb, set: 'value' },
        { f: fb, set: 'setter' },
      ],
      fuel,
      setFuel,
      x,
      ms,
    );
    const perCheck = (tMeter - tOrig) / units;
    console.log(
      `${label.padEnd(24)} ${String(units).padStart(6)} ${ns(tOrig).padStart(10)} ${ns(tMeter).padStart(10)} ${ns(tValue).padStart(16)} ${ns(tSetter).padStart(14)} ${ns(perCheck).padStart(11)} ${ns(tValue - tMeter).padStart(14)} ${ns(tSetter - tMeter).padStart(12)}`,
    );
  }
  const [tNoopValue, tNoopSetter, tNoop] = measure(
    [
      { f: a.noop as Fn, set: 'value' },
      { f: a.noop as Fn, set: 'setter' },
      { f: a.noop as Fn, set: 'none' },
    ],
    fuel,
    setFuel,
    1,
    ms / 2,
  );
  console.log(`\nsetting the budget from JS alone (measured around the original noop): fuel.value = n ${ns(tNoopValue - tNoop)}, ${FUEL_SETTER_EXPORT}(n) ${ns(tNoopSetter - tNoop)}`);
  if (sink === 0.5) console.log(sink); // keeps the calls observable

  const big = bigModule();
  for (let i = 0; i < 10; i++) instrumentModule(big, { maxMemoryPages: 16 });
  let best = Infinity;
  for (let i = 0; i < 30; i++) {
    const t0 = process.hrtime.bigint();
    instrumentModule(big, { maxMemoryPages: 16 });
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`instrumentModule on ${(big.length / 1024).toFixed(0)} KB: ${best.toFixed(2)} ms (best of 30), ${(big.length / 1048576 / (best / 1000)).toFixed(0)} MB/s`);
}

function ns(v: number): string {
  return `${v.toFixed(1)} ns`;
}

main();
