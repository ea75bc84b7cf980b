// The few WASI functions proxy-wasm filters import (toolchains pull them in
// for printing, clocks and randomness). stdout is logged at INFO, stderr at
// ERROR, as the spec says. No file system: other fd calls report EBADF.
import { randomFillSync } from 'node:crypto';
import { LogLevel } from '../abi';
import type { PluginVm } from '../vm';

const ESUCCESS = 0;
const EBADF = 8;
const ENOSYS = 52;

/** proc_exit unwinds the guest; the VM treats it as a trap. */
export class ProcExit extends Error {
  constructor(readonly exitCode: number) {
    super(`proc_exit(${exitCode})`);
  }
}

export function wasiImports(vm: PluginVm): Record<string, Function> {
  const mem = vm.mem;
  return {
    fd_write(fd: number, iovs: number, iovsLen: number, retWritten: number): number {
      if (fd !== 1 && fd !== 2) return EBADF;
      let text = '';
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const p = mem.u32(iovs + i * 8);
        const n = mem.u32(iovs + i * 8 + 4);
        if (!mem.inBounds(p, n)) return EBADF;
        text += mem.string(p, n);
        total += n;
      }
      const trimmed = text.replace(/\n$/, '');
      if (trimmed !== '') vm.env.log(fd === 1 ? LogLevel.Info : LogLevel.Error, vm.spec.name, trimmed);
      mem.setU32(retWritten, total);
      return ESUCCESS;
    },
    fd_read: (): number => EBADF,
    fd_close: (): number => EBADF,
    fd_seek: (): number => EBADF,
    fd_fdstat_get: (): number => EBADF,
    fd_prestat_get: (): number => EBADF,
    fd_prestat_dir_name: (): number => EBADF,
    clock_time_get(_id: number, _precision: bigint, retPtr: number): number {
      mem.setEpochNanos(retPtr, vm.env.now());
      return ESUCCESS;
    },
    clock_res_get(_id: number, retPtr: number): number {
      mem.setU64(retPtr, 1000n);
      return ESUCCESS;
    },
    random_get(ptr: number, len: number): number {
      if (!mem.inBounds(ptr, len)) return EBADF;
      randomFillSync(mem.view(), ptr, len);
      return ESUCCESS;
    },
    proc_exit(code: number): never {
      throw new ProcExit(code);
    },
    environ_sizes_get(retCount: number, retSize: number): number {
      mem.setU32(retCount, 0);
      mem.setU32(retSize, 0);
      return ESUCCESS;
    },
    environ_get: (): number => ESUCCESS,
    args_sizes_get(retCount: number, retSize: number): number {
      mem.setU32(retCount, 0);
      mem.setU32(retSize, 0);
      return ESUCCESS;
    },
    args_get: (): number => ESUCCESS,
    sched_yield: (): number => ESUCCESS,
    poll_oneoff: (): number => ENOSYS,
  };
}
