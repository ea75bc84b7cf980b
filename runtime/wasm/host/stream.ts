// Stream control: continue, close, local replies, and the effective context.
import { StreamType, WasmResult } from '../abi';
import { readPairs } from '../header-pairs';
import type { PluginVm } from '../vm';

export function streamImports(vm: PluginVm): Record<string, Function> {
  const mem = vm.mem;
  return {
    proxy_set_effective_context(ctx: number): number {
      if (ctx === vm.rootContextId) {
        vm.effective = null;
        return WasmResult.Ok;
      }
      const f = vm.streams.get(ctx);
      if (f === undefined) return WasmResult.BadArgument;
      vm.effective = f;
      return WasmResult.Ok;
    },
    proxy_done(): number {
      return WasmResult.Ok;
    },
    proxy_continue_stream(type: number): number {
      const f = vm.effective;
      if (f === null) return WasmResult.NotFound;
      if (type !== StreamType.HttpRequest && type !== StreamType.HttpResponse) return WasmResult.BadArgument;
      f.continueStream(type === StreamType.HttpResponse);
      return WasmResult.Ok;
    },
    proxy_close_stream(type: number): number {
      const f = vm.effective;
      if (f === null) return WasmResult.NotFound;
      if (type !== StreamType.HttpRequest && type !== StreamType.HttpResponse) return WasmResult.BadArgument;
      // HTTP/1 has no stream reset short of closing the connection: end it with a local reply.
      f.localReply(503, Buffer.alloc(0), [], `closed by filter "${vm.spec.name}"`);
      return WasmResult.Ok;
    },
    proxy_get_status(retCode: number, retPtr: number, retSize: number): number {
      mem.setU32(retCode, 0);
      return mem.giveString('', retPtr, retSize) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_send_local_response(
      status: number,
      dPtr: number,
      dLen: number,
      bPtr: number,
      bLen: number,
      hPtr: number,
      hLen: number,
      _grpcStatus: number,
    ): number {
      const f = vm.effective;
      if (f === null) return WasmResult.NotFound;
      if (!mem.inBounds(dPtr, dLen) || !mem.inBounds(bPtr, bLen) || !mem.inBounds(hPtr, hLen)) return WasmResult.InvalidMemoryAccess;
      if (status < 200 || status > 599) return WasmResult.BadArgument;
      const headers = readPairs(mem.view(), hPtr, hLen);
      if (headers === null) return WasmResult.ParseFailure;
      // Envoy replaces whitespace in details so they stay one token in logs.
      f.localReply(status, mem.copy(bPtr, bLen), headers, mem.string(dPtr, dLen).replace(/\s+/g, '_'));
      return WasmResult.Ok;
    },
  };
}
