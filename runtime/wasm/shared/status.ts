// The proxy-wasm status numbers these structures return are the ABI's own
// (runtime/wasm/abi.ts): one enum for the host functions and the stores they
// call. INTERNAL_FAILURE here means "a fixed-capacity structure is full": no
// other path of these calls returns it, so callers can tell it from bad input.
export { WasmResult } from '../abi';

/** Readable name of a status, for logs and test messages. */
export function wasmResultName(r: number): string {
  const names = ['OK', 'NOT_FOUND', 'BAD_ARGUMENT', 'SERIALIZATION_FAILURE', 'PARSE_FAILURE', 'BAD_EXPRESSION', 'INVALID_MEMORY_ACCESS', 'EMPTY', 'CAS_MISMATCH', 'RESULT_MISMATCH', 'INTERNAL_FAILURE', 'BROKEN_CONNECTION', 'UNIMPLEMENTED'];
  return names[r] ?? `UNKNOWN(${r})`;
}
