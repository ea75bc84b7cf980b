// Typed errors with stable codes, in the manner of undici: callers switch on
// `code`, never on message text. A Symbol.for brand keeps `isWasmeshError`
// working across duplicated copies of the package.

const kBrand = Symbol.for('wasmesh.error');

export class WasmeshError extends Error {
  readonly code: string;
  constructor(message: string, code = 'WASMESH_ERR') {
    super(message);
    this.name = 'WasmeshError';
    this.code = code;
    (this as unknown as Record<symbol, boolean>)[kBrand] = true;
  }
}

export function isWasmeshError(e: unknown): e is WasmeshError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[kBrand] === true;
}

export class ConfigError extends WasmeshError {
  /** Every problem found, each already prefixed with its path. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[], source?: string) {
    super(`${source ? source + ': ' : ''}invalid config (${problems.length} error${problems.length === 1 ? '' : 's'}):\n  ` + problems.join('\n  '), 'WASMESH_ERR_CONFIG');
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export class NativeModuleError extends WasmeshError {
  constructor(message: string) {
    super(message, 'WASMESH_ERR_NATIVE');
    this.name = 'NativeModuleError';
  }
}

/** Upstream failures; each maps to one response flag and status. */
export class UpstreamError extends WasmeshError {
  constructor(message: string, code: UpstreamErrorCode) {
    super(message, code);
    this.name = 'UpstreamError';
  }
}

export type UpstreamErrorCode =
  | 'UPSTREAM_CONNECT_TIMEOUT'
  | 'UPSTREAM_CONNECT_FAILURE'
  | 'UPSTREAM_RESET_BEFORE_HEADERS'
  | 'UPSTREAM_RESET_DURING_BODY'
  | 'UPSTREAM_MALFORMED_RESPONSE'
  | 'UPSTREAM_REQUEST_TIMEOUT'
  | 'UPSTREAM_OVERFLOW';

/** A filter module that cannot be loaded, linked or configured; the message names the filter. */
export class WasmLoadError extends WasmeshError {
  constructor(message: string, code: WasmLoadErrorCode) {
    super(message, code);
    this.name = 'WasmLoadError';
  }
}

export type WasmLoadErrorCode =
  | 'WASM_INVALID_MODULE'
  | 'WASM_NO_ABI_MARKER'
  | 'WASM_UNKNOWN_ABI'
  | 'WASM_UNKNOWN_IMPORT'
  | 'WASM_MEMORY_TOO_LARGE'
  | 'WASM_START_TRAP'
  | 'WASM_VM_START_FAILED'
  | 'WASM_CONFIGURE_FAILED'
  | 'WASM_BAD_CONFIG'
  | 'WASM_NOT_FOUND'
  | 'WASM_HASH_MISMATCH';

/** A trap, an exhausted execution budget or a host-side fault inside a filter callback. */
export class WasmTrapError extends WasmeshError {
  constructor(message: string, code: 'WASM_TRAP' | 'WASM_BUDGET_EXHAUSTED' | 'WASM_OUT_OF_MEMORY') {
    super(message, code);
    this.name = 'WasmTrapError';
  }
}
