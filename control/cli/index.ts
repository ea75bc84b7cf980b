// The operator CLI of the control plane: `wasmesh apply|delete|get|status|
// history|rollback` (REST client, docs/control-plane.md) and the offline
// `wasmesh validate -f`. Errors print as one message plus every problem, and
// set the exit code (1, or 2 for a bad command line).
import { apply, APPLY_USAGE, del, DELETE_USAGE } from './apply';
import { CliError, ControlApiError } from './errors';
import { get, GET_USAGE, status, STATUS_USAGE } from './get';
import { history, HISTORY_USAGE, rollback, ROLLBACK_USAGE } from './history';
import { processIo, type Io } from './io';
import { validate, VALIDATE_USAGE } from './validate';

export { CliError, ControlApiError } from './errors';

type Command = (argv: readonly string[], io: Io) => Promise<void>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  apply: { run: apply, usage: APPLY_USAGE },
  delete: { run: del, usage: DELETE_USAGE },
  get: { run: get, usage: GET_USAGE },
  status: { run: status, usage: STATUS_USAGE },
  history: { run: history, usage: HISTORY_USAGE },
  rollback: { run: rollback, usage: ROLLBACK_USAGE },
  validate: { run: validate, usage: VALIDATE_USAGE },
};

export const CONTROL_COMMANDS = Object.keys(COMMANDS).filter((c) => c !== 'validate');

/** Runs one command; never throws for a CliError or ControlApiError (it prints and sets process.exitCode). */
export async function operatorCommand(name: string, argv: readonly string[], io: Io = processIo): Promise<void> {
  const cmd = COMMANDS[name];
  if (cmd === undefined) throw new Error(`not a control-plane command: ${name}`);
  if (argv.includes('-h') || argv.includes('--help')) {
    io.out(`usage: ${cmd.usage}\n`);
    return;
  }
  try {
    await cmd.run(argv, io);
  } catch (e) {
    process.exitCode = report(name, cmd.usage, e, io);
  }
}

/** Prints an error; returns the exit code. Unexpected errors (bugs) are rethrown with their stack. */
export function report(name: string, usage: string, e: unknown, io: Io): number {
  if (e instanceof CliError || e instanceof ControlApiError) {
    const problems = e.problems.length > 0 ? `\n  ${e.problems.join('\n  ')}` : '';
    io.err(`wasmesh ${name}: ${e.message}${problems}\n`);
    if (e instanceof CliError && e.code === 'CLI_USAGE') io.err(`usage: ${usage}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
  throw e;
}
