// Logging through the host (`proxy_log`), filtered in the guest by the host's
// log level so disabled levels cost one integer comparison, not a host call.

import { proxy_get_log_level, proxy_log } from "./imports";
import { LogLevel } from "./enums";
import { RET_SIZE } from "./internal";

/** -1 = not fetched yet. */
let cachedLevel: i32 = -1;

function currentLevel(): i32 {
  if (cachedLevel < 0) {
    store<u32>(RET_SIZE, 0);
    // A host without proxy_get_log_level support answers non-OK: then log
    // everything and let the host filter.
    cachedLevel = proxy_get_log_level(RET_SIZE) == 0 ? <i32>load<u32>(RET_SIZE) : LogLevel.Trace;
  }
  return cachedLevel;
}

function write(level: LogLevel, message: string): void {
  if (<i32>level < currentLevel()) return;
  const b = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(b), b.byteLength);
}

/**
 * Log through the proxy's logger.
 *
 * The host's level is fetched once with `proxy_get_log_level` and cached; the
 * cache is dropped at every `proxy_on_vm_start`/`proxy_on_configure`, or by
 * `log.refreshLevel()`. Build expensive messages only when `log.enabled(level)`.
 */
export namespace log {
  export function trace(message: string): void { write(LogLevel.Trace, message); }
  export function debug(message: string): void { write(LogLevel.Debug, message); }
  export function info(message: string): void { write(LogLevel.Info, message); }
  export function warn(message: string): void { write(LogLevel.Warn, message); }
  export function error(message: string): void { write(LogLevel.Error, message); }
  export function critical(message: string): void { write(LogLevel.Critical, message); }
  /** Logs at an explicit level. */
  export function at(level: LogLevel, message: string): void { write(level, message); }
  /** True when a message at `level` would be written. */
  export function enabled(level: LogLevel): bool { return <i32>level >= currentLevel(); }
  /** The host's log level (cached). */
  export function level(): LogLevel { return <LogLevel>currentLevel(); }
  /** Forgets the cached level; the next message asks the host again. */
  export function refreshLevel(): void { cachedLevel = -1; }
}
