// Replacements for the three functions AssemblyScript would otherwise import
// from "env" (`abort`, `trace`, `seed`), which a proxy-wasm host does not
// provide. The build maps them with
//   --use abort=__wasmesh_abort --use trace=__wasmesh_trace --use seed=__wasmesh_seed

import { proxy_get_current_time_nanoseconds, proxy_log } from "./imports";
import { LogLevel } from "./enums";
import { RET_U64 } from "./internal";

function hostLog(level: LogLevel, message: string): void {
  const b = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(b), b.byteLength);
}

/**
 * `abort()` (failed assertion, `throw`, out-of-bounds access...): logs the
 * message and location at CRITICAL, then traps. The host fails the callback
 * (fail-closed) and the VM must not be used again.
 */
// @ts-ignore: decorator
@global
export function __wasmesh_abort(
  message: string | null = null,
  fileName: string | null = null,
  line: u32 = 0,
  column: u32 = 0,
): void {
  let text = "wasm abort: " + (message !== null ? message : "(no message)");
  if (fileName !== null) {
    text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  }
  hostLog(LogLevel.Critical, text);
  unreachable();
}

/** `trace(msg, n, a0...a4)`: logged at DEBUG with its numeric arguments. */
// @ts-ignore: decorator
@global
export function __wasmesh_trace(
  message: string,
  n: i32 = 0,
  a0: f64 = 0,
  a1: f64 = 0,
  a2: f64 = 0,
  a3: f64 = 0,
  a4: f64 = 0,
): void {
  let text = "trace: " + message;
  if (n > 0) text += " " + a0.toString();
  if (n > 1) text += ", " + a1.toString();
  if (n > 2) text += ", " + a2.toString();
  if (n > 3) text += ", " + a3.toString();
  if (n > 4) text += ", " + a4.toString();
  hostLog(LogLevel.Debug, text);
}

/** Seed for `Math.random`: the host clock in nanoseconds. */
// @ts-ignore: decorator
@global
export function __wasmesh_seed(): f64 {
  store<u64>(RET_U64, 0);
  proxy_get_current_time_nanoseconds(RET_U64);
  const t = load<u64>(RET_U64);
  return t != 0 ? <f64>t : 42.0;
}
