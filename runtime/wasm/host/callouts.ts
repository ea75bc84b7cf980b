// HTTP calls to named clusters, and the gRPC functions this host does not
// implement (they return UNIMPLEMENTED; docs/filter-abi.md lists them).
import { WasmResult } from '../abi';
import { readPairs } from '../header-pairs';
import type { PluginVm } from '../vm';

export function calloutImports(vm: PluginVm): Record<string, Function> {
  const mem = vm.mem;
  const unimplemented = (): number => WasmResult.Unimplemented;
  return {
    proxy_http_call(
      upPtr: number,
      upLen: number,
      hPtr: number,
      hLen: number,
      bPtr: number,
      bLen: number,
      tPtr: number,
      tLen: number,
      timeoutMs: number,
      retToken: number,
    ): number {
      if (!mem.inBounds(upPtr, upLen) || !mem.inBounds(hPtr, hLen) || !mem.inBounds(bPtr, bLen) || !mem.inBounds(tPtr, tLen)) {
        return WasmResult.InvalidMemoryAccess;
      }
      const headers = readPairs(mem.view(), hPtr, hLen);
      if (headers === null) return WasmResult.ParseFailure;
      const token = vm.httpCall(mem.string(upPtr, upLen), headers, mem.copy(bPtr, bLen), timeoutMs >>> 0);
      if (token < 0) return -token;
      mem.setU32(retToken, token);
      return WasmResult.Ok;
    },
    proxy_grpc_call: unimplemented,
    proxy_grpc_stream: unimplemented,
    proxy_grpc_send: unimplemented,
    proxy_grpc_cancel: unimplemented,
    proxy_grpc_close: unimplemented,
  };
}
