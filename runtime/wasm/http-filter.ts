// A Wasm filter's per-stream side: one proxy-wasm HTTP context. It turns the
// chain's callbacks into guest calls and the guest's return codes and
// deferred actions (local reply, continue) into what the chain expects.
import { DataStatus, HeadersStatus, type BodyChunk, type FilterStream, type HttpFilter } from '../filter/types';
import type { PluginVm } from './vm';

export interface FailureHandler {
  /** A callback of `f` failed (its VM is dead); returns the status the chain gets. */
  onStreamFailure(f: WasmHttpFilter, phase: Phase): number;
}

export const enum Phase {
  RequestHeaders,
  RequestBody,
  ResponseHeaders,
  ResponseBody,
}

const enum Deferred {
  None = 0,
  ContinueRequest = 1,
  ContinueResponse = 2,
}

/** Number of pseudo-headers the host presents in each map (see host/headers.ts). */
const REQUEST_PSEUDO = 4;

export class WasmHttpFilter implements HttpFilter {
  id = 0;
  stream!: FilterStream;
  /** The body chunk of the body callback in progress. */
  body: BodyChunk | null = null;
  /** Set after a failOpen failure: the filter no longer sees this stream. */
  bypass = false;
  private inCall = false;
  private deferred = Deferred.None;
  private replyStatus = 0;
  private replyBody: Buffer | null = null;
  private replyHeaders: [string, string][] | null = null;
  private replyDetails = '';
  private replyFlag = '';
  /** Flag chosen with wasmesh.set_flag for the next local reply; "" = none, null = the default LR. */
  flag: string | null = null;
  private created = false;

  constructor(
    public vm: PluginVm,
    private readonly failures: FailureHandler,
    private readonly release: (f: WasmHttpFilter) => void,
  ) {}

  /** The failure policy "reload" already gave this stream its second chance. */
  reloaded = false;
  /** end_of_stream of the request headers, for a replay on a fresh VM. */
  requestEnd = false;

  /** Binds to a VM and creates the HTTP context; `fresh` is false when re-binding the same stream after a reload. */
  attach(vm: PluginVm, stream: FilterStream, fresh = true): void {
    if (this.created) this.vm.streams.delete(this.id);
    this.vm = vm;
    this.stream = stream;
    this.bypass = false;
    this.created = false;
    this.flag = null;
    if (fresh) this.reloaded = false;
    if (vm.dead) return;
    this.id = vm.newContextId();
    vm.streams.set(this.id, this);
    const create = vm.x.proxy_on_context_create;
    if (create !== undefined) {
      vm.effective = this;
      vm.invoke2(create, this.id, vm.rootContextId);
    }
    this.created = true;
  }

  onRequestHeaders(endOfStream: boolean): HeadersStatus {
    const fn = this.vm.x.proxy_on_request_headers;
    if (this.bypass || fn === undefined) return HeadersStatus.Continue;
    this.requestEnd = endOfStream;
    const n = this.stream.requestHeaders.size + REQUEST_PSEUDO - (this.stream.requestHeaders.get('host') === undefined ? 0 : 1);
    return this.headersResult(this.call3(fn, n, endOfStream ? 1 : 0), Phase.RequestHeaders);
  }

  onResponseHeaders(endOfStream: boolean): HeadersStatus {
    const fn = this.vm.x.proxy_on_response_headers;
    if (this.bypass || fn === undefined) return HeadersStatus.Continue;
    const h = this.stream.responseHeaders;
    return this.headersResult(this.call3(fn, (h === null ? 0 : h.size) + 1, endOfStream ? 1 : 0), Phase.ResponseHeaders);
  }

  onRequestBody(body: BodyChunk, endOfStream: boolean): DataStatus {
    const fn = this.vm.x.proxy_on_request_body;
    if (this.bypass || fn === undefined) return DataStatus.Continue;
    this.body = body;
    const r = this.call3(fn, body.data.byteLength, endOfStream ? 1 : 0);
    this.body = null;
    return this.dataResult(r, Phase.RequestBody);
  }

  onResponseBody(body: BodyChunk, endOfStream: boolean): DataStatus {
    const fn = this.vm.x.proxy_on_response_body;
    if (this.bypass || fn === undefined) return DataStatus.Continue;
    this.body = body;
    const r = this.call3(fn, body.data.byteLength, endOfStream ? 1 : 0);
    this.body = null;
    return this.dataResult(r, Phase.ResponseBody);
  }

  onLog(): void {
    const fn = this.vm.x.proxy_on_log;
    if (!this.created || this.vm.dead || fn === undefined) return;
    this.vm.effective = this;
    this.vm.invoke1(fn, this.id);
  }

  onDestroy(): void {
    const vm = this.vm;
    if (this.created && !vm.dead) {
      vm.effective = this;
      // proxy_on_done returning false asks to outlive the stream until proxy_done(); there is nothing left to do for it here.
      if (vm.x.proxy_on_done !== undefined) vm.invoke1(vm.x.proxy_on_done, this.id);
      if (vm.x.proxy_on_delete !== undefined) vm.invoke1(vm.x.proxy_on_delete, this.id);
    }
    vm.streams.delete(this.id);
    if (vm.effective === this) vm.effective = null;
    this.created = false;
    vm.maybeClose();
    this.release(this);
  }

  private call3(fn: (a: number, b: number, c: number) => number, b: number, c: number): number {
    const vm = this.vm;
    if (vm.dead) return -1;
    vm.effective = this;
    this.inCall = true;
    this.deferred = Deferred.None;
    const r = vm.invoke3(fn, this.id, b, c);
    this.inCall = false;
    return r;
  }

  private headersResult(r: number, phase: Phase): HeadersStatus {
    if (this.vm.dead) return this.failures.onStreamFailure(this, phase);
    if (this.replyStatus !== 0) return this.flushReply();
    switch (r) {
      case HeadersStatus.Continue:
      case HeadersStatus.ContinueAndEndStream:
        return HeadersStatus.Continue;
      default:
        // The filter asked to continue before it returned Stop: honour the request now.
        if (this.deferred !== Deferred.None) return HeadersStatus.Continue;
        // As in Envoy, a plain StopIteration also holds the body (StopAllIteration).
        return HeadersStatus.StopAllIterationAndBuffer;
    }
  }

  private dataResult(r: number, phase: Phase): DataStatus {
    if (this.vm.dead) return this.failures.onStreamFailure(this, phase);
    if (this.replyStatus !== 0) {
      this.flushReply();
      return DataStatus.StopIterationNoBuffer;
    }
    if (r === DataStatus.Continue || this.deferred !== Deferred.None) return DataStatus.Continue;
    if (r === DataStatus.StopIterationNoBuffer) return DataStatus.StopIterationNoBuffer;
    return DataStatus.StopIterationAndBuffer;
  }

  // --- actions from host functions ---

  /** proxy_continue_stream: deferred while the guest is inside a callback of this stream. */
  continueStream(response: boolean): void {
    if (this.inCall) {
      this.deferred = response ? Deferred.ContinueResponse : Deferred.ContinueRequest;
      return;
    }
    if (response) this.stream.continueResponse();
    else this.stream.continueRequest();
  }

  /** proxy_send_local_response: as in Envoy, sent when the callback returns. */
  localReply(status: number, body: Buffer, headers: [string, string][], details: string): void {
    this.replyStatus = status;
    this.replyBody = body;
    this.replyHeaders = headers;
    this.replyDetails = details;
    this.replyFlag = this.flag ?? 'LR';
    if (!this.inCall) this.flushReply();
  }

  private flushReply(): HeadersStatus {
    const status = this.replyStatus;
    this.replyStatus = 0;
    const body = this.replyBody ?? Buffer.alloc(0);
    const headers = this.replyHeaders;
    this.replyBody = null;
    this.replyHeaders = null;
    const flag = this.replyFlag;
    this.flag = null;
    this.stream.sendLocalReply(status, body, headers !== null && headers.length > 0 ? headers : null, flag, this.replyDetails || `filter "${this.vm.spec.name}" replied ${status}`);
    return HeadersStatus.StopIteration;
  }
}
