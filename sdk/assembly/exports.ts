// The guest side of the ABI: every `proxy_on_*` callback of proxy-wasm 0.2.1,
// the version marker and the host's allocator. The build adds this module as
// a second entry file (sdk/assembly/entry.ts), so a filter does not have to
// re-export anything; `export * from "wasmesh-sdk/exports"` in a filter is
// harmless and makes it buildable with a plain `asc` command too.
//
// Only functions are exported here: AssemblyScript turns every export of an
// entry file into a Wasm export.

import { BufferType, PeerType } from "./enums";
import {
  allocateForHost, clearSizeHint, enterCallback, activate, setSizeHint,
} from "./internal";
import { readBufferBytes, readBufferString } from "./buffers";
import { getPropertyString } from "./properties";
import {
  RootContext, createRoot, createStream, findRoot, findStream, forgetContext, isLiveContext,
} from "./context";
import { deliverHttpCallResponse, takePendingCall } from "./http-call";
import { log } from "./log";
import "./abort";

/** ABI version marker: the host reads the name, never calls it. */
export function proxy_abi_version_0_2_1(): void {}

/**
 * Memory for data the host returns to the guest. A raw TLSF block the GC
 * does not own; the SDK frees it after copying (see internal.ts).
 */
export function proxy_on_memory_allocate(size: u32): usize {
  return allocateForHost(<usize>size);
}

// ---- lifecycle

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  enterCallback(contextId);
  if (parentContextId == 0) {
    if (findRoot(contextId) === null) rootFor(contextId);
    return;
  }
  let root = findRoot(parentContextId);
  if (root === null) root = rootFor(parentContextId);
  createStream(contextId, root);
}

function rootFor(contextId: u32): RootContext {
  const rootId = getPropertyString(["plugin_root_id"]);
  return createRoot(contextId, rootId !== null ? rootId : "");
}

/** A root known by id, created on the fly if the host skipped context_create. */
function ensureRoot(contextId: u32): RootContext {
  const root = findRoot(contextId);
  return root !== null ? root : rootFor(contextId);
}

export function proxy_on_vm_start(rootContextId: u32, vmConfigSize: u32): bool {
  enterCallback(rootContextId);
  log.refreshLevel();
  const root = ensureRoot(rootContextId);
  return root.onVmStart(readBufferString(BufferType.VmConfiguration, vmConfigSize));
}

export function proxy_on_configure(rootContextId: u32, pluginConfigSize: u32): bool {
  enterCallback(rootContextId);
  log.refreshLevel();
  const root = ensureRoot(rootContextId);
  const config = readBufferString(BufferType.PluginConfiguration, pluginConfigSize);
  root.configuration = config;
  const ok = root.onConfigure(config);
  collectNow(); // parsing a config leaves garbage behind; start serving with a clean heap
  return ok;
}

export function proxy_on_tick(rootContextId: u32): void {
  enterCallback(rootContextId);
  const root = findRoot(rootContextId);
  if (root !== null) root.onTick();
  collectIfGrown();
}

export function proxy_on_queue_ready(rootContextId: u32, queueId: u32): void {
  enterCallback(rootContextId);
  const root = findRoot(rootContextId);
  if (root !== null) root.onQueueReady(queueId);
  collectIfGrown();
}

export function proxy_on_foreign_function(rootContextId: u32, functionId: u32, argsSize: u32): void {
  enterCallback(rootContextId);
  const root = findRoot(rootContextId);
  if (root !== null) root.onForeignFunction(functionId, readBufferBytes(BufferType.ForeignFunctionArguments, argsSize));
}

export function proxy_on_done(contextId: u32): bool {
  enterCallback(contextId);
  const ctx = findStream(contextId);
  if (ctx !== null) {
    ctx.onDone();
    return true;
  }
  const root = findRoot(contextId);
  return root !== null ? root.onDone() : true;
}

export function proxy_on_log(contextId: u32): void {
  enterCallback(contextId);
  const ctx = findStream(contextId);
  if (ctx !== null) ctx.onLog();
}

export function proxy_on_delete(contextId: u32): void {
  enterCallback(contextId);
  const ctx = findStream(contextId);
  if (ctx !== null) {
    ctx.onDelete();
  } else {
    const root = findRoot(contextId);
    if (root !== null) root.onDelete();
  }
  forgetContext(contextId);
  streamEnded();
}

// ---- garbage collection
//
// Filters build with AssemblyScript's minimal runtime: its collector runs only
// when asked and does not scan the stack, so the SDK asks at the end of
// top-level callbacks, when nothing the guest still needs lives only in
// locals. It collects after every 64 finished streams, and after any callback
// that had to grow memory (so a burst of garbage is reclaimed at once). This
// costs far less per request than the incremental collector, which does work
// on every allocation; garbage made inside one callback is reclaimed after it.

let streamsSinceCollect: i32 = 0;
let pagesAtCollect: i32 = 0;

function collectIfGrown(): void {
  if (memory.size() > pagesAtCollect) collectNow();
}

function collectNow(): void {
  __collect();
  streamsSinceCollect = 0;
  pagesAtCollect = memory.size();
}

function streamEnded(): void {
  if (++streamsSinceCollect >= 64) collectNow();
  else collectIfGrown();
}

// ---- HTTP streams

export function proxy_on_request_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  enterCallback(contextId);
  const ctx = findStream(contextId);
  const action = ctx !== null ? <u32>ctx.onRequestHeaders(numHeaders, endOfStream != 0) : 0;
  collectIfGrown();
  return action;
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  enterCallback(contextId);
  const ctx = findStream(contextId);
  if (ctx === null) return 0;
  setSizeHint(BufferType.HttpRequestBody, contextId, bodySize);
  const action = ctx.onRequestBody(<usize>bodySize, endOfStream != 0);
  clearSizeHint();
  collectIfGrown();
  return <u32>action;
}

export function proxy_on_request_trailers(contextId: u32, numTrailers: u32): u32 {
  enterCallback(contextId);
  const ctx = findStream(contextId);
  return ctx !== null ? <u32>ctx.onRequestTrailers(numTrailers) : 0;
}

export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  enterCallback(contextId);
  const ctx = findStream(contextId);
  const action = ctx !== null ? <u32>ctx.onResponseHeaders(numHeaders, endOfStream != 0) : 0;
  collectIfGrown();
  return action;
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  enterCallback(contextId);
  const ctx = findStream(contextId);
  if (ctx === null) return 0;
  setSizeHint(BufferType.HttpResponseBody, contextId, bodySize);
  const action = ctx.onResponseBody(<usize>bodySize, endOfStream != 0);
  clearSizeHint();
  collectIfGrown();
  return <u32>action;
}

export function proxy_on_response_trailers(contextId: u32, numTrailers: u32): u32 {
  enterCallback(contextId);
  const ctx = findStream(contextId);
  return ctx !== null ? <u32>ctx.onResponseTrailers(numTrailers) : 0;
}

// ---- HTTP callouts

export function proxy_on_http_call_response(
  rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32,
): void {
  enterCallback(rootContextId);
  const handler = takePendingCall(token);
  if (handler === null) {
    log.warn("HTTP call response for unknown token " + token.toString());
    return;
  }
  if (isLiveContext(handler.contextId)) activate(handler.contextId);
  deliverHttpCallResponse(handler, numHeaders, bodySize);
  collectIfGrown();
}

// ---- L4 (network) filters: not supported by this SDK. The callbacks exist
// so the module loads in any host; they pass data through.

export function proxy_on_new_connection(contextId: u32): u32 {
  return 0;
}

export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  return 0;
}

export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: u32): u32 {
  return 0;
}

export function proxy_on_downstream_connection_close(contextId: u32, peer: PeerType): void {}

export function proxy_on_upstream_connection_close(contextId: u32, peer: PeerType): void {}

// ---- gRPC callouts: this SDK makes none, so these never fire.

export function proxy_on_grpc_receive_initial_metadata(contextId: u32, token: u32, numHeaders: u32): void {}

export function proxy_on_grpc_receive(contextId: u32, token: u32, messageSize: u32): void {}

export function proxy_on_grpc_receive_trailing_metadata(contextId: u32, token: u32, numTrailers: u32): void {}

export function proxy_on_grpc_close(contextId: u32, token: u32, statusCode: u32): void {}
