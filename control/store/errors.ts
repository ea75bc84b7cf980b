// Typed errors of the control-plane store. Callers switch on `code`, never on message text.

import { WasmeshError } from '../../runtime/core/errors';

export type StoreErrorCode =
  /** Another live process (or this one) holds the data dir's lock. */
  | 'STORE_LOCKED'
  /** A committed version file (or the lock or token file) cannot be read back as written. */
  | 'STORE_CORRUPT'
  /** The version asked for does not exist (never did, or dropped by retention). */
  | 'STORE_NOT_FOUND'
  /** The store was closed. */
  | 'STORE_CLOSED'
  /** A caller passed a bad argument (version, limit, retention, content). */
  | 'STORE_INVALID_ARGUMENT'
  /** DATA_DIR/token is readable by group or others. */
  | 'STORE_TOKEN_INSECURE';

export class StoreError extends WasmeshError {
  override readonly code: StoreErrorCode;
  /** The file concerned, when there is one. */
  readonly path: string | undefined;
  /** STORE_LOCKED: the pid recorded in the lock file. */
  readonly holderPid: number | undefined;
  constructor(message: string, code: StoreErrorCode, extra: { path?: string; holderPid?: number } = {}) {
    super(message, code);
    this.name = 'StoreError';
    this.code = code;
    this.path = extra.path;
    this.holderPid = extra.holderPid;
  }
}
