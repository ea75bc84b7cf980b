// proxy_log, the log level, the clock and the tick period.
import { WasmResult } from '../abi';
import type { PluginVm } from '../vm';

export function logImports(vm: PluginVm, withLogLevel: boolean): Record<string, Function> {
  const mem = vm.mem;
  const fns: Record<string, Function> = {
    proxy_log(level: number, ptr: number, len: number): number {
      if (!mem.inBounds(ptr, len)) return WasmResult.InvalidMemoryAccess;
      if (level < vm.spec.logLevel && (vm.startupLog === null || level < 3)) return WasmResult.Ok;
      const msg = mem.string(ptr, len);
      if (vm.startupLog !== null && level >= 3 && vm.startupLog.length < 5) vm.startupLog.push(msg);
      if (level >= vm.spec.logLevel) vm.env.log(level, vm.spec.name, msg);
      return WasmResult.Ok;
    },
    proxy_get_current_time_nanoseconds(retPtr: number): number {
      mem.setEpochNanos(retPtr, vm.env.now());
      return WasmResult.Ok;
    },
    proxy_set_tick_period_milliseconds(ms: number): number {
      vm.setTickPeriod(ms >>> 0);
      return WasmResult.Ok;
    },
  };
  if (withLogLevel) {
    fns.proxy_get_log_level = (retPtr: number): number => {
      mem.setU32(retPtr, vm.spec.logLevel);
      return WasmResult.Ok;
    };
  }
  return fns;
}
