// Errors of the control plane's API, with stable codes the CLI switches on.
import { WasmeshError } from '../../runtime/core/errors';

export type ControlErrorCode = 'UNAUTHORIZED' | 'BAD_REQUEST' | 'CONFIG_INVALID' | 'NOT_FOUND' | 'TOO_LARGE' | 'INTERNAL';

const STATUS: Record<ControlErrorCode, number> = {
  UNAUTHORIZED: 401,
  BAD_REQUEST: 400,
  CONFIG_INVALID: 400,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
  INTERNAL: 500,
};

export class ControlError extends WasmeshError {
  constructor(message: string, code: ControlErrorCode, readonly problems: readonly string[] = []) {
    super(message, code);
    this.name = 'ControlError';
  }

  get status(): number {
    return STATUS[this.code as ControlErrorCode] ?? 500;
  }
}
