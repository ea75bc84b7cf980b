// Runs a listener's filters over one stream, Envoy style: request callbacks in
// order, response callbacks in reverse. A Stop status from a headers callback
// pauses iteration (and holds the body) until the filter continues the stream.
// Body chunks pass filter by filter; StopIterationAndBuffer keeps them at that
// filter, up to its maxBufferedBody, until it continues. A filter that throws
// fails the stream with flag WF instead of taking the worker down.
import { Flag } from '../core/flags';
import { log } from '../log/logger';
import { DataStatus, HeadersStatus, type BodyChunk, type FilterStream, type HttpFilter, type HttpFilterFactory } from './types';

/** Where filtered headers and bodies go: the stream's core (the Exchange). */
export interface ChainSink {
  /** False once the stream ended or its response was abandoned (retry, local reply). */
  readonly chainOpen: boolean;
  requestHeadersDone(): void;
  requestData(data: Buffer, endOfStream: boolean): void;
  responseHeadersDone(): void;
  responseData(data: Buffer, endOfStream: boolean): void;
  /** A filter buffered more than its limit. */
  bodyOverflow(response: boolean, filter: string, limit: number): void;
}

const EMPTY = Buffer.alloc(0);
const NO_FILTER: HttpFilter = {};

/** One direction's iteration state. */
class Side {
  /** Next filter for headers (request: counts up; response: counts down). */
  next = 0;
  headersDone = false;
  /** Body that arrived while headers iteration was stopped. */
  readonly held: Buffer[] = [];
  heldEnd = false;
  /** The headers carried end_of_stream. */
  headersEnd = false;
  /** Body kept at each filter by StopIterationAndBuffer. */
  readonly kept: (Buffer | null)[] = [];
  /** The end of the body reached a filter that stopped; it travels on with continue. */
  endAt = -1;

  reset(n: number, start: number): void {
    this.next = start;
    this.headersDone = false;
    if (this.held.length > 0) this.held.length = 0;
    this.heldEnd = false;
    this.headersEnd = false;
    // Resizing an array is a runtime call: grow once, then only clear what was used.
    const kept = this.kept;
    while (kept.length < n) kept.push(null);
    if (this.anyKept) kept.fill(null);
    this.anyKept = false;
    this.endAt = -1;
  }
  /** Some filter kept body since the last reset. */
  anyKept = false;
}

export class FilterChain {
  private readonly filters: HttpFilter[] = [];
  /** Filters of the current stream (the array may be longer). */
  private count = 0;
  private factories: readonly HttpFilterFactory[] = [];
  private stream: FilterStream | null = null;
  private sink: ChainSink | null = null;
  private readonly req = new Side();
  private readonly res = new Side();
  private readonly chunk: BodyChunk = { data: EMPTY };

  start(factories: readonly HttpFilterFactory[], stream: FilterStream, sink: ChainSink): void {
    this.factories = factories;
    this.stream = stream;
    this.sink = sink;
    this.responseStarted = false;
    const n = factories.length;
    this.req.reset(n, 0);
    this.res.reset(n, n - 1);
    const fs = this.filters;
    for (let i = 0; i < n; i++) {
      const f = factories[i]!.create(stream);
      if (i < fs.length) fs[i] = f;
      else fs.push(f);
    }
    this.count = n;
  }

  get length(): number {
    return this.count;
  }

  /** The response side starts over (a retried attempt's response is coming). */
  resetResponse(): void {
    this.res.reset(this.count, this.count - 1);
  }

  // === request ===

  requestHeaders(endOfStream: boolean): void {
    this.req.heldEnd = endOfStream;
    this.req.headersEnd = endOfStream;
    this.iterateRequestHeaders(endOfStream);
  }

  private iterateRequestHeaders(endOfStream: boolean): void {
    const fs = this.filters;
    const side = this.req;
    const sink = this.sink!;
    while (side.next < this.count) {
      const i = side.next++;
      const f = fs[i]!;
      if (f.onRequestHeaders === undefined) continue;
      let st: HeadersStatus;
      try {
        st = f.onRequestHeaders(endOfStream);
      } catch (e) {
        return this.fail(i, e);
      }
      if (!sink.chainOpen) return;
      if (st !== HeadersStatus.Continue && st !== HeadersStatus.ContinueAndEndStream) return;
    }
    side.headersDone = true;
    sink.requestHeadersDone();
    this.releaseHeld(side, false);
  }

  requestData(chunk: Buffer, endOfStream: boolean): void {
    const side = this.req;
    if (!side.headersDone || side.endAt >= 0) {
      side.held.push(Buffer.from(chunk));
      side.heldEnd = endOfStream;
      return;
    }
    this.runBody(side, false, chunk, endOfStream, 0);
  }

  continueRequest(): void {
    const side = this.req;
    if (!side.headersDone) return this.iterateRequestHeaders(side.headersEnd);
    this.resumeBody(side, false);
  }

  // === response ===

  /**
   * A filter answered the request itself: the reply passes the response
   * callbacks of the filters before it (they saw the request, so a rate
   * limiter can still add its headers to an authz 403). The replying filter
   * itself is skipped: it built the reply. False when no earlier filter
   * exists or the response side already started; the caller then sends the
   * reply as it is.
   */
  replyLocally(): boolean {
    const sender = this.req.next - 1;
    if (this.responseStarted || sender <= 0) return false;
    this.res.reset(this.count, sender - 1);
    this.responseHeaders(true);
    return true;
  }
  private responseStarted = false;

  responseHeaders(endOfStream: boolean): void {
    this.responseStarted = true;
    this.res.heldEnd = endOfStream;
    this.res.headersEnd = endOfStream;
    this.iterateResponseHeaders(endOfStream);
  }

  private iterateResponseHeaders(endOfStream: boolean): void {
    const fs = this.filters;
    const side = this.res;
    const sink = this.sink!;
    while (side.next >= 0) {
      const i = side.next--;
      const f = fs[i]!;
      if (f.onResponseHeaders === undefined) continue;
      let st: HeadersStatus;
      try {
        st = f.onResponseHeaders(endOfStream);
      } catch (e) {
        return this.fail(i, e);
      }
      if (!sink.chainOpen) return;
      if (st !== HeadersStatus.Continue && st !== HeadersStatus.ContinueAndEndStream) return;
    }
    side.headersDone = true;
    sink.responseHeadersDone();
    this.releaseHeld(side, true);
  }

  responseData(chunk: Buffer, endOfStream: boolean): void {
    const side = this.res;
    if (!side.headersDone || side.endAt >= 0) {
      side.held.push(Buffer.from(chunk));
      side.heldEnd = endOfStream;
      return;
    }
    this.runBody(side, true, chunk, endOfStream, this.count - 1);
  }

  continueResponse(): void {
    const side = this.res;
    if (!side.headersDone) return this.iterateResponseHeaders(side.headersEnd);
    this.resumeBody(side, true);
  }

  // === bodies ===

  /** Body that waited for headers iteration goes through the body callbacks now. */
  private releaseHeld(side: Side, response: boolean): void {
    const held = side.held;
    // Nothing arrived yet, or the headers carried end_of_stream (no body at all).
    if (held.length === 0 && (!side.heldEnd || side.headersEnd)) return;
    const data = held.length === 1 ? held[0]! : Buffer.concat(held);
    held.length = 0;
    const end = side.heldEnd;
    this.runBody(side, response, data, end, response ? this.count - 1 : 0);
  }

  /** Runs `data` through the body callbacks from filter `from` on, then hands it to the sink. */
  private runBody(side: Side, response: boolean, data: Buffer, end: boolean, from: number): void {
    const fs = this.filters;
    const sink = this.sink!;
    const step = response ? -1 : 1;
    for (let i = from; i >= 0 && i < this.count; i += step) {
      const f = fs[i]!;
      const cb = response ? f.onResponseBody : f.onRequestBody;
      if (cb === undefined) continue;
      const kept = side.kept[i];
      if (kept !== null && kept !== undefined) {
        data = data.length === 0 ? kept : Buffer.concat([kept, data]);
        side.kept[i] = null;
      }
      const chunk = this.chunk;
      chunk.data = data;
      let st: DataStatus;
      try {
        st = cb.call(f, chunk, end);
      } catch (e) {
        return this.fail(i, e);
      }
      data = chunk.data;
      chunk.data = EMPTY;
      if (!sink.chainOpen) return;
      if (st === DataStatus.Continue) continue;
      if (st === DataStatus.StopIterationNoBuffer) data = EMPTY;
      else {
        const limit = this.factories[i]!.maxBufferedBody;
        if (data.length > limit) return sink.bodyOverflow(response, this.factories[i]!.name, limit);
        // The chunk may be a lent buffer (upstream reads): keep a copy.
        side.kept[i] = data.length === 0 ? null : Buffer.from(data);
        side.anyKept = true;
      }
      if (end) side.endAt = i;
      return;
    }
    if (response) sink.responseData(data, end);
    else sink.requestData(data, end);
  }

  /** A filter continued a stopped body: what it kept travels on from the next filter. */
  private resumeBody(side: Side, response: boolean): void {
    const step = response ? -1 : 1;
    let at = side.endAt;
    if (at < 0) {
      for (let i = response ? this.count - 1 : 0; i >= 0 && i < this.count; i += step) {
        if (side.kept[i] !== null && side.kept[i] !== undefined) {
          at = i;
          break;
        }
      }
    }
    if (at < 0) return;
    const data = side.kept[at] ?? EMPTY;
    side.kept[at] = null;
    const end = side.endAt === at;
    side.endAt = -1;
    this.runBody(side, response, data, end, at + step);
    if (side.endAt < 0 && side.held.length > 0 && this.sink!.chainOpen) this.releaseHeld(side, response);
  }

  /** onLog then onDestroy on every filter; the chain is then empty and reusable. */
  finish(): void {
    const fs = this.filters;
    for (let i = 0; i < this.count; i++) {
      const f = fs[i]!;
      try {
        f.onLog?.();
        f.onDestroy?.();
      } catch (e) {
        log('warn', `filter "${this.factories[i]?.name}" threw in onLog/onDestroy: ${(e as Error).message}`);
      }
    }
    // Keep the array's size (resizing is a runtime call); drop the references.
    for (let i = 0; i < this.count; i++) fs[i] = NO_FILTER;
    this.count = 0;
    this.stream = null;
    this.sink = null;
  }

  private fail(index: number, e: unknown): void {
    const name = this.factories[index]?.name ?? '?';
    log('error', `filter "${name}" threw: ${(e as Error)?.stack ?? String(e)}`);
    this.stream?.sendLocalReply(503, '', null, Flag.WasmFailure, `filter "${name}" failed`);
  }
}
