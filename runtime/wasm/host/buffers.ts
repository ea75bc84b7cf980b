// Buffer host functions: bodies (the chunk of the body callback in progress,
// including what the chain buffered for this filter), the plugin and VM
// configuration, and the body of an HTTP call's response.
import { BufferType, WasmResult } from '../abi';
import type { PluginVm } from '../vm';

const EMPTY = Buffer.alloc(0);

export function bufferImports(vm: PluginVm): Record<string, Function> {
  const mem = vm.mem;

  function buffer(type: number): Buffer | null {
    switch (type) {
      case BufferType.HttpRequestBody:
      case BufferType.HttpResponseBody:
        return vm.effective?.body?.data ?? null;
      case BufferType.HttpCallResponseBody:
        return vm.callout?.body ?? null;
      case BufferType.PluginConfiguration:
        return Buffer.from(vm.spec.configuration.buffer, vm.spec.configuration.byteOffset, vm.spec.configuration.byteLength);
      case BufferType.VmConfiguration:
        return EMPTY;
      default:
        return null;
    }
  }

  return {
    proxy_get_buffer_bytes(type: number, start: number, max: number, retPtr: number, retSize: number): number {
      const b = buffer(type);
      if (b === null) return WasmResult.NotFound;
      if (start > b.byteLength) return WasmResult.BadArgument;
      const end = Math.min(b.byteLength, start + max);
      return mem.give(b.subarray(start, end), retPtr, retSize) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_get_buffer_status(type: number, retLen: number, retFlags: number): number {
      const b = buffer(type);
      if (b === null) return WasmResult.NotFound;
      mem.setU32(retLen, b.byteLength);
      mem.setU32(retFlags, 0);
      return WasmResult.Ok;
    },
    proxy_set_buffer_bytes(type: number, start: number, size: number, ptr: number, len: number): number {
      if (type !== BufferType.HttpRequestBody && type !== BufferType.HttpResponseBody) return WasmResult.BadArgument;
      const chunk = vm.effective?.body;
      if (chunk === null || chunk === undefined) return WasmResult.NotFound;
      if (!mem.inBounds(ptr, len)) return WasmResult.InvalidMemoryAccess;
      const data = mem.peek(ptr, len);
      const cur = chunk.data;
      // Envoy's semantics: start 0 replaces the first `size` bytes; start at or past the end appends.
      if (start === 0) chunk.data = Buffer.concat([data, cur.subarray(Math.min(size, cur.byteLength))]);
      else if (start >= cur.byteLength) chunk.data = Buffer.concat([cur, data]);
      else return WasmResult.BadArgument;
      return WasmResult.Ok;
    },
  };
}
