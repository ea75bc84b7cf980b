// Shared data and shared queues, scoped by vm_id as in Envoy. The stores span
// every worker of the process (runtime/wasm/shared/).
import { WasmResult } from '../abi';
import type { PluginVm } from '../vm';

export function sharedImports(vm: PluginVm): Record<string, Function> {
  const mem = vm.mem;
  // Keys are scoped by vm_id: "vmId\0key", assembled in one scratch buffer.
  const scope = Buffer.from(`${vm.spec.vmId}\u0000`);
  let key = Buffer.alloc(scope.length + 256);
  scope.copy(key);
  const out = vm.env.sharedData.createResult();
  function scopedKey(ptr: number, len: number): number {
    if (key.length < scope.length + len) {
      key = Buffer.alloc(scope.length + len);
      scope.copy(key);
    }
    mem.view().copy(key, scope.length, ptr, ptr + len);
    return scope.length + len;
  }
  const deq = { status: WasmResult.Ok as WasmResult };
  return {
    proxy_get_shared_data(kPtr: number, kLen: number, retPtr: number, retSize: number, retCas: number): number {
      if (!mem.inBounds(kPtr, kLen)) return WasmResult.InvalidMemoryAccess;
      const r = vm.env.sharedData.get(key, scopedKey(kPtr, kLen), out);
      if (r !== WasmResult.Ok) return r;
      if (!mem.give(out.value.subarray(0, out.length), retPtr, retSize)) return WasmResult.InvalidMemoryAccess;
      mem.setU32(retCas, out.cas);
      return WasmResult.Ok;
    },
    proxy_set_shared_data(kPtr: number, kLen: number, vPtr: number, vLen: number, cas: number): number {
      if (!mem.inBounds(kPtr, kLen) || !mem.inBounds(vPtr, vLen)) return WasmResult.InvalidMemoryAccess;
      return vm.env.sharedData.set(key, scopedKey(kPtr, kLen), mem.peek(vPtr, vLen), cas >>> 0);
    },
    proxy_register_shared_queue(nPtr: number, nLen: number, retId: number): number {
      if (!mem.inBounds(nPtr, nLen)) return WasmResult.InvalidMemoryAccess;
      const id = vm.registerQueue(mem.string(nPtr, nLen));
      if (id < 0) return -id;
      mem.setU32(retId, id);
      return WasmResult.Ok;
    },
    proxy_resolve_shared_queue(vPtr: number, vLen: number, nPtr: number, nLen: number, retId: number): number {
      if (!mem.inBounds(vPtr, vLen) || !mem.inBounds(nPtr, nLen)) return WasmResult.InvalidMemoryAccess;
      const vmId = vLen === 0 ? vm.spec.vmId : mem.string(vPtr, vLen);
      const id = vm.env.queues.resolve(vmId, mem.string(nPtr, nLen));
      if (id < 0) return -id;
      mem.setU32(retId, id);
      return WasmResult.Ok;
    },
    proxy_enqueue_shared_queue(id: number, vPtr: number, vLen: number): number {
      if (!mem.inBounds(vPtr, vLen)) return WasmResult.InvalidMemoryAccess;
      return vm.env.queues.enqueue(id, mem.peek(vPtr, vLen));
    },
    proxy_dequeue_shared_queue(id: number, retPtr: number, retSize: number): number {
      const v = vm.env.queues.dequeue(id, deq);
      if (v === null) return deq.status;
      return mem.give(v, retPtr, retSize) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}
