// One uWS app bound to one listener address in one worker. The app outlives
// config generations: a reload that keeps the address swaps `runtime` and the
// socket stays open, so no connection is dropped.
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { uws } from '../core/uws';
import { log } from '../log/logger';
import { Exchange } from './exchange';
import type { ListenerRuntime } from './context';

const MAX_POOLED = 4096;

export class ListenerHost {
  runtime: ListenerRuntime;
  private readonly app: TemplatedApp;
  private socket: us_listen_socket | null = null;
  private readonly pool: Exchange[] = [];
  private readonly releaseB = (ex: Exchange): void => {
    if (this.pool.length < MAX_POOLED) this.pool.push(ex);
  };

  constructor(runtime: ListenerRuntime) {
    this.runtime = runtime;
    this.app = uws.App();
    this.app.any('/*', (res, req) => {
      const ex = this.pool.pop() ?? new Exchange(this.releaseB);
      try {
        ex.begin(this.runtime, res, req);
      } catch (e) {
        // A bug must cost one request, never the worker (a dying worker aborts the process).
        log('error', `listener ${this.runtime.name}: request handler threw: ${(e as Error).stack}`);
        try {
          res.cork(() => res.writeStatus('500 Internal Server Error').writeHeader('x-wasmesh-reason', 'INTERNAL').end('internal error\n', true));
        } catch {
          /* already responded or aborted */
        }
      }
    });
  }

  /** Binds with SO_REUSEPORT (uWS's default), so every worker and a restarted process can share the port. */
  listen(cb: (err: string | null) => void): void {
    const a = this.runtime.config.address;
    this.app.listen(a.host, a.port, (s) => {
      if (!s) return cb(`cannot listen on ${a.host}:${a.port}`);
      this.socket = s;
      cb(null);
    });
  }

  /** Stop accepting; existing connections go on. */
  stopListening(): void {
    if (this.socket !== null) {
      uws.us_listen_socket_close(this.socket);
      this.socket = null;
    }
  }

  /** Close the listen socket and every connection. */
  close(): void {
    this.stopListening();
    // close() exists in this uWS build but is missing from its typings.
    (this.app as TemplatedApp & { close(): void }).close();
  }
}
