// The memory.grow failure flag. An allocator whose memory.grow fails at the
// cap usually traps right away (unreachable, or an out-of-bounds access on a
// null block), and nothing in the trap says why. So the instrumented module
// has a second mutable i32 global, exported as GROW_FAILED_EXPORT, and every
// memory.grow instruction is followed by a call to an appended hook function
// that records whether the result is -1 and returns the result unchanged:
// `memory.grow m` becomes `memory.grow m; call $grow_hook`, with no new local
// and the same stack effect. Only the guest's own instructions count; a grow
// by the host (WebAssembly.Memory#grow) does not touch it.
//
// The flag is the outcome of the most recent guest memory.grow: 1 if it
// failed, 0 if it succeeded. Not sticky on purpose: AssemblyScript's TLSF
// and stub allocators first ask for double the memory they need and, when
// that fails near the cap, for just what they need. A sticky flag would stay
// 1 after such a recovered failure and make any later, unrelated trap look
// like out-of-memory; this way a trap right after a failed grow is told apart.
//
// A 64-bit memory's memory.grow takes and returns an i64, so it gets its own
// hook, (i64) -> i64, appended only when the module has such a memory.
import { uleb } from './leb';

/** Name of the exported flag global: 1 if the last guest memory.grow returned -1, else 0. */
export const GROW_FAILED_EXPORT = '__wasmesh_grow_failed';

/** The flag's global section entry: (global (mut i32) (i32.const 0)). */
export const GROW_FLAG_GLOBAL_ENTRY = Uint8Array.from([0x7f, 0x01, 0x41, 0x00, 0x0b]);

/**
 * The hook's body (no locals), branch-free:
 * local.get 0; (i32|i64).const -1; (i32|i64).eq; global.set flag; local.get 0; end
 */
export function growHookBody(flagIndex: number, is64: boolean): Uint8Array {
  return Uint8Array.from([
    0x00, // no locals
    0x20, 0x00, // local.get 0
    is64 ? 0x42 : 0x41, 0x7f, // i64/i32.const -1
    is64 ? 0x51 : 0x46, // i64/i32.eq
    0x24, ...uleb(flagIndex), // global.set flag
    0x20, 0x00, // local.get 0
    0x0b, // end
  ]);
}
