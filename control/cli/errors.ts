// The operator CLI's errors, with stable codes (the runtime/core/errors.ts
// pattern): callers and tests switch on `code`, never on message text.
import { WasmeshError } from '../../runtime/core/errors';

export type CliErrorCode =
  /** Bad command line: exit 2. */
  | 'CLI_USAGE'
  /** Neither --token nor WASMESH_TOKEN. */
  | 'CLI_NO_TOKEN'
  /** The control plane cannot be reached (refused, DNS, timeout). */
  | 'CLI_UNREACHABLE'
  /** The control plane answered something that is not the API's JSON. */
  | 'CLI_BAD_RESPONSE'
  /** A -f argument cannot be read, or holds no YAML files. */
  | 'CLI_FILES'
  /** The files are invalid (mesh or filter modules); `problems` lists every one. Nothing was applied. */
  | 'CLI_INVALID';

export class CliError extends WasmeshError {
  constructor(message: string, code: CliErrorCode, readonly problems: readonly string[] = []) {
    super(message, code);
    this.name = 'CliError';
  }

  get exitCode(): number {
    return this.code === 'CLI_USAGE' ? 2 : 1;
  }
}

/** The codes of docs/control-plane.md; `STORE_*` are the store's own. */
export type ControlApiErrorCode = 'UNAUTHORIZED' | 'BAD_REQUEST' | 'CONFIG_INVALID' | 'NOT_FOUND' | 'TOO_LARGE' | 'INTERNAL' | `STORE_${string}`;

/** An error answer of the control plane's API: `{error: {code, message, problems}}`, code as sent. */
export class ControlApiError extends WasmeshError {
  constructor(message: string, code: ControlApiErrorCode, readonly status: number, readonly problems: readonly string[] = []) {
    super(message, code);
    this.name = 'ControlApiError';
  }
}
