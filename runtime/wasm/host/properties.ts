// proxy_get_property / proxy_set_property. set_property writes filter state
// that later filters of the same stream read back under the same path.
import { WasmResult } from '../abi';
import { encodeProperty, getProperty, splitPath } from '../properties';
import type { PluginVm } from '../vm';

export function propertyImports(vm: PluginVm): Record<string, Function> {
  const mem = vm.mem;
  return {
    proxy_get_property(pPtr: number, pLen: number, retPtr: number, retSize: number): number {
      if (!mem.inBounds(pPtr, pLen)) return WasmResult.InvalidMemoryAccess;
      const v = getProperty(vm, vm.effective?.stream ?? null, mem.cachedAscii(pPtr, pLen));
      if (v === undefined) return WasmResult.NotFound;
      const ok = typeof v === 'string' ? mem.giveString(v, retPtr, retSize) : mem.give(encodeProperty(v), retPtr, retSize);
      return ok ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_property(pPtr: number, pLen: number, vPtr: number, vLen: number): number {
      if (!mem.inBounds(pPtr, pLen) || !mem.inBounds(vPtr, vLen)) return WasmResult.InvalidMemoryAccess;
      const f = vm.effective;
      if (f === null) return WasmResult.NotFound;
      // Stored under the NUL-joined form, so "a.b" and "a\0b" name the same property.
      f.stream.state.set(splitPath(mem.string(pPtr, pLen)).join('\0'), mem.copy(vPtr, vLen));
      return WasmResult.Ok;
    },
  };
}
