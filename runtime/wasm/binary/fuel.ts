// The execution budget. The instrumented module has one extra mutable i32
// global, exported as FUEL_EXPORT; every function entry and every loop header
// decrements it by one and traps with `unreachable` once it drops below zero.
// Every unbounded execution in wasm passes through a loop header (the only
// backward branch target) or a function entry (recursion, tail calls), so a
// budget of N bounds a callback to N such events, each followed by at most one
// function body's worth of straight-line code.
//
// Why i32 rather than i64: the host writes the budget before every callback,
// and an i64 global's .value is a BigInt in JS (an allocation and a slow
// conversion per call); an i32 is a plain small integer. 2^31 - 1 checks is far
// more than any sane per-callback budget (each check is at least a few ns), and
// the check itself is no cheaper in i64.
//
// The host sets the budget through the appended function FUEL_SETTER_EXPORT
// rather than the global's .value: a call into wasm with an i32 argument is
// several times cheaper than a WebAssembly.Global write from JS. It has no
// fuel check of its own. The global stays exported: the host reads it after
// a trap to tell exhaustion from a genuine trap.
import { sleb32, uleb } from './leb';

/** Name of the exported fuel global. */
export const FUEL_EXPORT = '__wasmesh_fuel';
/** Name of the exported fuel setter, (i32) -> (): sets the fuel global to its argument. */
export const FUEL_SETTER_EXPORT = '__wasmesh_set_fuel';
/** Its value type. */
export const FUEL_TYPE = 'i32';
/** The largest budget the host may set. */
export const MAX_FUEL = 0x7fffffff;
/** Initial value: the budget of the start function, which runs inside instantiation before the host can set one. */
export const DEFAULT_INITIAL_FUEL = 100_000_000;

/**
 * After a trap: a value below zero means the budget ran out (the check traps
 * exactly when the decrement takes it from 0 to -1), anything else is a
 * genuine trap. Accepts a BigInt too, for callers that read globals generically.
 */
export function isFuelExhausted(value: number | bigint): boolean {
  return value < 0;
}

/**
 * global.get f; i32.const 1; i32.sub; global.set f;
 * global.get f; i32.const 0; i32.lt_s; if; unreachable; end
 * Stack-neutral, so it is valid at a loop header whatever the loop's params.
 */
export function fuelCheck(globalIndex: number): Uint8Array {
  const g = Array.from(uleb(globalIndex));
  return Uint8Array.from([
    0x23, ...g, // global.get f
    0x41, 0x01, 0x6b, // i32.const 1; i32.sub
    0x24, ...g, // global.set f
    0x23, ...g, // global.get f
    0x41, 0x00, 0x48, // i32.const 0; i32.lt_s
    0x04, 0x40, 0x00, 0x0b, // if (empty) unreachable end
  ]);
}

/** A global section entry: (global (mut i32) (i32.const initial)). */
export function fuelGlobalEntry(initial: number): Uint8Array {
  const c = sleb32(initial);
  const out = new Uint8Array(4 + c.length);
  out.set([0x7f, 0x01, 0x41]);
  out.set(c, 3);
  out[3 + c.length] = 0x0b;
  return out;
}

/** The setter's body (no locals): local.get 0; global.set f; end. */
export function fuelSetterBody(globalIndex: number): Uint8Array {
  return Uint8Array.from([0x00, 0x20, 0x00, 0x24, ...uleb(globalIndex), 0x0b]);
}
