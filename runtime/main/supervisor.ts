// A thin parent process for the proxy. uWS aborts the whole process if a
// worker thread ever exits holding sockets (exit code 134); the supervisor
// restarts the proxy within a second when that happens, and the new process
// binds at once because every listener uses SO_REUSEPORT. Signals pass through.
import { fork, type ChildProcess } from 'node:child_process';

const RESTART_DELAY_MS = 200;
/**
 * A proxy allocates little that survives a request, so a small young
 * generation costs no measurable throughput (bench/RESULTS.md) and keeps the
 * peak RSS of a sidecar ~7 MB lower than V8's default 16 MB semi-space.
 */
const PROXY_V8_FLAGS = ['--max-semi-space-size=1'];

export function supervise(entry: string, args: string[]): void {
  let restarts = 0;
  let child: ChildProcess | null = null;
  let stopping = false;
  let lastStart = 0;

  const start = () => {
    lastStart = Date.now();
    child = fork(entry, args, { stdio: 'inherit', execArgv: [...process.execArgv, ...PROXY_V8_FLAGS], env: { ...process.env, WASMESH_SUPERVISED: '1', WASMESH_SUPERVISOR_RESTARTS: String(restarts) } });
    child.on('exit', (code, signal) => {
      child = null;
      if (stopping) return process.exit(code ?? 0);
      // Exit code 1 at start-up is a config or bind error: restarting cannot fix it.
      if (code === 1 && Date.now() - lastStart < 5_000) return process.exit(1);
      if (code === 0) return process.exit(0);
      restarts++;
      process.stderr.write(`wasmesh supervisor: proxy exited (${signal ?? `code ${code}`}); restart #${restarts} in ${RESTART_DELAY_MS} ms\n`);
      setTimeout(start, RESTART_DELAY_MS);
    });
  };

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      stopping = true;
      if (child) child.kill(sig);
      else process.exit(0);
    });
  }
  process.on('SIGHUP', () => child?.kill('SIGHUP'));
  start();
}
