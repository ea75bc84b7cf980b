// Filter-defined metrics. Names are prefixed with the filter's name so two
// filters cannot collide; /stats/prometheus exports them.
import { WasmResult } from '../abi';
import type { PluginVm } from '../vm';

export function metricImports(vm: PluginVm): Record<string, Function> {
  const mem = vm.mem;
  const out = { value: 0n };
  return {
    proxy_define_metric(type: number, nPtr: number, nLen: number, retId: number): number {
      if (!mem.inBounds(nPtr, nLen)) return WasmResult.InvalidMemoryAccess;
      if (type > 2) return WasmResult.BadArgument;
      const id = vm.env.metrics.define(type, `${vm.spec.name}.${mem.string(nPtr, nLen)}`);
      if (id < 0) return -id;
      mem.setU32(retId, id);
      return WasmResult.Ok;
    },
    proxy_increment_metric(id: number, delta: bigint): number {
      return vm.env.metrics.increment(id, delta);
    },
    proxy_record_metric(id: number, value: bigint): number {
      return vm.env.metrics.record(id, value);
    },
    proxy_get_metric(id: number, retPtr: number): number {
      const r = vm.env.metrics.get(id, out);
      if (r === WasmResult.Ok) mem.setU64(retPtr, BigInt.asUintN(64, out.value));
      return r;
    },
  };
}
