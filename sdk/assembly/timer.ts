// Clock and timer.

import { proxy_get_current_time_nanoseconds, proxy_set_tick_period_milliseconds } from "./imports";
import { Status } from "./enums";
import { RET_U64 } from "./internal";

/**
 * Calls the root context's `onTick()` every `periodMs` milliseconds; 0 stops
 * the timer. Call it from a root-context callback (`onConfigure`, `onVmStart`,
 * `onTick`): the timer belongs to the effective root context.
 */
export function setTickPeriod(periodMs: u32): Status {
  return <Status>proxy_set_tick_period_milliseconds(periodMs);
}

/**
 * The host's wall clock in nanoseconds since the epoch. (Use this, not
 * `Date.now()`, which would import a function no proxy provides.)
 */
export function currentTimeNanos(): u64 {
  store<u64>(RET_U64, 0);
  proxy_get_current_time_nanoseconds(RET_U64);
  return load<u64>(RET_U64);
}

/** `currentTimeNanos()` in milliseconds. */
export function currentTimeMillis(): u64 {
  return currentTimeNanos() / 1_000_000;
}
