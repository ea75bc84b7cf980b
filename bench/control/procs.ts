// Every process the benchmark starts, and their cleanup: each child runs in
// its own process group; on normal exit, on an error, on SIGINT/SIGTERM/SIGHUP
// and on the global deadline every group still alive gets SIGTERM, then
// SIGKILL after a grace period (or SIGKILL at once from the synchronous
// 'exit' handler).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The last bytes of its output (only when captured; otherwise the output goes to `logFile`). */
  tail(): string;
  logFile: string | null;
  exited: Promise<number | null>;
  alive(): boolean;
}

const children = new Set<Child>();
const TAIL = 64 * 1024;

/** `node ARGS...`: output captured in memory (`logFile` null) or appended to `logFile`. */
export function spawnNode(name: string, args: string[], logFile: string | null = null): Child {
  let out = '';
  let proc: ChildProcess;
  if (logFile === null) {
    proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (d: Buffer) => {
      out += d.toString();
      if (out.length > 2 * TAIL) out = out.slice(-TAIL);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
  } else {
    const fd = fs.openSync(logFile, 'a');
    proc = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], detached: true });
    fs.closeSync(fd);
  }
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const c: Child = {
    name,
    proc,
    pid: proc.pid ?? -1,
    logFile,
    tail: () => (logFile === null ? out.slice(-TAIL) : readTail(logFile)),
    exited,
    alive: () => proc.exitCode === null && proc.signalCode === null,
  };
  children.add(c);
  void exited.then(() => children.delete(c));
  return c;
}

function readTail(file: string): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-4096);
  } catch {
    return '';
  }
}

function signalGroup(c: Child, sig: NodeJS.Signals): void {
  if (c.pid <= 0 || !c.alive()) return;
  try {
    process.kill(-c.pid, sig);
  } catch {
    try {
      c.proc.kill(sig);
    } catch {
      /* gone */
    }
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
export async function stopChild(c: Child, graceMs = 5_000): Promise<void> {
  if (!c.alive()) return;
  signalGroup(c, 'SIGTERM');
  const t = setTimeout(() => signalGroup(c, 'SIGKILL'), graceMs);
  await c.exited;
  clearTimeout(t);
}

/** Stops many at once (SIGTERM to all, SIGKILL to the stragglers after `graceMs`). */
export async function stopChildren(list: Child[], graceMs = 5_000): Promise<void> {
  await Promise.all(list.map((c) => stopChild(c, graceMs)));
}

/** Every child still running. */
export function stopAll(graceMs = 3_000): Promise<void> {
  return stopChildren([...children], graceMs);
}

function killAllNow(): void {
  for (const c of children) signalGroup(c, 'SIGKILL');
}

let installed = false;

/**
 * Cleanup on every way out. `onAbort` runs first on a signal, an uncaught
 * error or the deadline (e.g. to close sockets); the process then exits
 * with `code`.
 */
export function installCleanup(deadlineMs: number, onAbort: () => Promise<void> | void = () => undefined): { clear(): void } {
  if (installed) throw new Error('installCleanup twice');
  installed = true;
  let aborting = false;
  const abort = async (why: string, code: number) => {
    if (aborting) return;
    aborting = true;
    process.stderr.write(`[bench] ${why}: stopping every process started\n`);
    try {
      await Promise.race([Promise.resolve(onAbort()), new Promise((r) => setTimeout(r, 2_000))]);
    } catch {
      /* cleanup goes on */
    }
    await stopAll(3_000);
    process.exit(code);
  };
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void abort(`${sig}`, 128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)));
  process.on('uncaughtException', (e) => {
    process.stderr.write(`[bench] uncaught: ${e.stack ?? e}\n`);
    void abort('uncaught exception', 1);
  });
  process.on('unhandledRejection', (e) => {
    process.stderr.write(`[bench] unhandled rejection: ${(e as Error)?.stack ?? e}\n`);
    void abort('unhandled rejection', 1);
  });
  const timer = setTimeout(() => void abort(`deadline of ${Math.round(deadlineMs / 1000)} s reached`, 1), deadlineMs);
  timer.unref();
  return { clear: () => clearTimeout(timer) };
}
