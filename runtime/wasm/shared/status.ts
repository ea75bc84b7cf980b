// proxy-wasm `proxy_status_t` (WasmResult) numbers, shared by every host
// function built on these structures. A const enum so the hot paths compare
// plain integer literals.

export const enum WasmResult {
  OK = 0,
  NOT_FOUND = 1,
  BAD_ARGUMENT = 2,
  SERIALIZATION_FAILURE = 3,
  PARSE_FAILURE = 4,
  BAD_EXPRESSION = 5,
  INVALID_MEMORY_ACCESS = 6,
  EMPTY = 7,
  CAS_MISMATCH = 8,
  RESULT_MISMATCH = 9,
  /**
   * Used here for "a fixed-capacity shared structure is full": the KV table,
   * the queue table, one queue's ring, the metric table. The ABI has no
   * dedicated code, and no other path of those calls returns 10, so callers
   * can tell "full" apart from bad input.
   */
  INTERNAL_FAILURE = 10,
  BROKEN_CONNECTION = 11,
  UNIMPLEMENTED = 12,
}

/** Readable name of a status, for logs and test messages. */
export function wasmResultName(r: number): string {
  const names = ['OK', 'NOT_FOUND', 'BAD_ARGUMENT', 'SERIALIZATION_FAILURE', 'PARSE_FAILURE', 'BAD_EXPRESSION', 'INVALID_MEMORY_ACCESS', 'EMPTY', 'CAS_MISMATCH', 'RESULT_MISMATCH', 'INTERNAL_FAILURE', 'BROKEN_CONNECTION', 'UNIMPLEMENTED'];
  return names[r] ?? `UNKNOWN(${r})`;
}
