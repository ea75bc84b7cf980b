// Runs a listener's filters over one stream, Envoy style: request callbacks in
// order, response callbacks in reverse order. A filter that returns a Stop
// status pauses iteration until it calls continueRequest(). A filter that
// throws fails the stream with flag WF instead of taking the worker down.
import { Flag } from '../core/flags';
import { log } from '../log/logger';
import { HeadersStatus, type FilterStream, type HttpFilter, type HttpFilterFactory } from './types';

export class FilterChain {
  private readonly filters: HttpFilter[] = [];
  private factories: readonly HttpFilterFactory[] = [];
  private stream: FilterStream | null = null;
  private next = 0;
  private responseCallbacks = false;

  start(factories: readonly HttpFilterFactory[], stream: FilterStream): void {
    this.factories = factories;
    this.stream = stream;
    this.next = 0;
    this.responseCallbacks = false;
    for (let i = 0; i < factories.length; i++) {
      const f = factories[i]!.create(stream);
      if (f.onResponseHeaders) this.responseCallbacks = true;
      this.filters.push(f);
    }
  }

  hasResponseFilters(): boolean {
    return this.responseCallbacks;
  }

  /** Runs request-header callbacks from where iteration stopped. True when every filter continued. */
  runRequestHeaders(endOfStream: boolean): boolean {
    const fs = this.filters;
    while (this.next < fs.length) {
      const i = this.next++;
      const cb = fs[i]!.onRequestHeaders;
      if (cb === undefined) continue;
      let st: HeadersStatus;
      try {
        st = cb.call(fs[i], endOfStream);
      } catch (e) {
        this.fail(i, e);
        return false;
      }
      if (st !== HeadersStatus.Continue && st !== HeadersStatus.ContinueAndEndStream) return false;
    }
    return true;
  }

  /** Response-header callbacks, last filter first. Stopping on the response side arrives with body filtering. */
  runResponseHeaders(endOfStream: boolean): void {
    const fs = this.filters;
    for (let i = fs.length - 1; i >= 0; i--) {
      const cb = fs[i]!.onResponseHeaders;
      if (cb === undefined) continue;
      try {
        cb.call(fs[i], endOfStream);
      } catch (e) {
        this.fail(i, e);
        return;
      }
    }
  }

  /** onLog then onDestroy on every filter; the chain is then empty and reusable. */
  finish(): void {
    const fs = this.filters;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i]!;
      try {
        f.onLog?.();
        f.onDestroy?.();
      } catch (e) {
        log('warn', `filter "${this.factories[i]?.name}" threw in onLog/onDestroy: ${(e as Error).message}`);
      }
    }
    fs.length = 0;
    this.stream = null;
  }

  private fail(index: number, e: unknown): void {
    const name = this.factories[index]?.name ?? '?';
    log('error', `filter "${name}" threw: ${(e as Error)?.stack ?? String(e)}`);
    this.stream?.sendLocalReply(503, '', null, Flag.WasmFailure, `filter "${name}" failed`);
  }
}
