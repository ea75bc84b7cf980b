// The ABI's enumerations, with TypeScript-style names.

/**
 * What a stream callback tells the host to do next.
 *
 * | callback            | `Continue` | `Pause`                                   |
 * |---------------------|------------|-------------------------------------------|
 * | on*Headers          | Continue   | StopIteration (1)                         |
 * | on*Body             | Continue   | StopIterationAndBuffer (1): the host keeps buffering the body and calls again with the larger size |
 * | on*Trailers         | Continue   | StopIteration (1)                         |
 *
 * A paused stream resumes with `continueRequest()` / `continueResponse()`.
 * For any other Envoy status, return it cast: `HeadersStatus.StopAllIterationAndWatermark as Action`;
 * the SDK passes the number through unchanged.
 */
export enum Action {
  Continue = 0,
  Pause = 1,
}

/** Envoy's FilterHeadersStatus, the exact values the headers callbacks may return. */
export enum HeadersStatus {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

/** Envoy's FilterDataStatus, the exact values the body callbacks may return. */
export enum DataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

/** Envoy's FilterTrailersStatus. */
export enum TrailersStatus {
  Continue = 0,
  StopIteration = 1,
}

/** `proxy_status_t`, the result of every host call. */
export enum Status {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

/** The name of a status, for log messages. */
export function statusName(status: Status): string {
  switch (status) {
    case Status.Ok: return "Ok";
    case Status.NotFound: return "NotFound";
    case Status.BadArgument: return "BadArgument";
    case Status.SerializationFailure: return "SerializationFailure";
    case Status.ParseFailure: return "ParseFailure";
    case Status.BadExpression: return "BadExpression";
    case Status.InvalidMemoryAccess: return "InvalidMemoryAccess";
    case Status.Empty: return "Empty";
    case Status.CasMismatch: return "CasMismatch";
    case Status.ResultMismatch: return "ResultMismatch";
    case Status.InternalFailure: return "InternalFailure";
    case Status.BrokenConnection: return "BrokenConnection";
    case Status.Unimplemented: return "Unimplemented";
    default: return "Status(" + (<u32>status).toString() + ")";
  }
}

export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
}

export enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  ForeignFunctionArguments = 8,
}

export enum MapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcInitialMetadata = 4,
  GrpcTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

export enum StreamType {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
}

export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

export enum PeerType {
  Unknown = 0,
  Local = 1,
  Remote = 2,
}

/** gRPC status codes for `sendLocalResponse`; `None` (-1) sends no grpc-status. */
export enum GrpcStatus {
  None = -1,
  Ok = 0,
  Cancelled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}
