// wasmesh-sdk: write proxy-wasm (ABI 0.2.1) HTTP filters in AssemblyScript.
//
//   import { RootContext, HttpContext, Action, registerRoot, log } from "wasmesh-sdk";
//
// See sdk/README.md for a guide. The ABI callbacks live in "wasmesh-sdk/exports"
// and are added to the module by the build.

export {
  Action, HeadersStatus, DataStatus, TrailersStatus, Status, statusName, LogLevel,
  BufferType, MapType, StreamType, MetricType, PeerType, GrpcStatus,
} from "./enums";
export { RootContext, HttpContext, HttpMessage, HttpRequest, HttpResponse, registerRoot } from "./context";
export { HeaderMap, HeaderPair, encodeHeaderPairs, decodeHeaderPairs, decodeHeaderBuffer } from "./headers";
export { Body } from "./buffers";
export {
  getProperty, getPropertyString, getPropertyInt, getPropertyBool, setProperty, setPropertyString,
  encodePropertyPath,
} from "./properties";
export { Metric, Counter, Gauge, Histogram } from "./metrics";
export { HttpCallHandler, httpCall, pendingHttpCalls } from "./http-call";
export { SharedData, SharedValue, SharedQueue } from "./shared";
export { setTickPeriod, currentTimeNanos, currentTimeMillis } from "./timer";
export { log } from "./log";
export {
  JsonType, JsonValue, JsonNull, JsonBool, JsonNumber, JsonString, JsonArray, JsonObject,
  JsonParseResult, parseJson, parseConfig, jsonQuote, jsonTypeName, JSON_MAX_DEPTH,
} from "./json";
export { base64url } from "./base64";
export { route, stream, crypto, callForeignFunction, ForeignResult } from "./wasmesh";
export { currentContext, effectiveContext } from "./internal";
