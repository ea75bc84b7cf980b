// The proxy-wasm ABI's numbers and names (spec 0.2.0 / 0.2.1), in one place.
// Values are the spec's; docs/filter-abi.md explains what this host does with them.

export const enum WasmResult {
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
  /** Also "a fixed-capacity shared structure is full" (KV table, queue table or ring, metric table). */
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

export const enum MapType {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcInitialMetadata = 4,
  GrpcTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

export const enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcCallMessage = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  ForeignFunctionArguments = 8,
}

export const enum StreamType {
  HttpRequest = 0,
  HttpResponse = 1,
  Downstream = 2,
  Upstream = 3,
}

export const enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
}

export const enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

export type AbiVersion = '0.2.0' | '0.2.1';
export const SUPPORTED_ABI: readonly AbiVersion[] = ['0.2.0', '0.2.1'];

/** `env` imports every 0.2.x module may use. */
const COMMON_ENV = [
  'proxy_log',
  'proxy_set_effective_context',
  'proxy_done',
  'proxy_get_current_time_nanoseconds',
  'proxy_set_tick_period_milliseconds',
  'proxy_get_buffer_bytes',
  'proxy_set_buffer_bytes',
  'proxy_get_buffer_status',
  'proxy_get_header_map_size',
  'proxy_get_header_map_pairs',
  'proxy_set_header_map_pairs',
  'proxy_get_header_map_value',
  'proxy_add_header_map_value',
  'proxy_replace_header_map_value',
  'proxy_remove_header_map_value',
  'proxy_continue_stream',
  'proxy_close_stream',
  'proxy_get_status',
  'proxy_send_local_response',
  'proxy_http_call',
  'proxy_grpc_call',
  'proxy_grpc_stream',
  'proxy_grpc_send',
  'proxy_grpc_cancel',
  'proxy_grpc_close',
  'proxy_get_shared_data',
  'proxy_set_shared_data',
  'proxy_register_shared_queue',
  'proxy_resolve_shared_queue',
  'proxy_enqueue_shared_queue',
  'proxy_dequeue_shared_queue',
  'proxy_define_metric',
  'proxy_record_metric',
  'proxy_increment_metric',
  'proxy_get_metric',
  'proxy_get_property',
  'proxy_set_property',
  'proxy_call_foreign_function',
] as const;

/** The host functions each ABI version registers; importing anything else fails the load, as in Envoy. */
export const ENV_IMPORTS: Record<AbiVersion, ReadonlySet<string>> = {
  '0.2.0': new Set(COMMON_ENV),
  '0.2.1': new Set([...COMMON_ENV, 'proxy_get_log_level']),
};

/** WASI functions filters use, accepted under both module names (as proxy-wasm-cpp-host does). */
export const WASI_MODULES: ReadonlySet<string> = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);
export const WASI_IMPORTS: ReadonlySet<string> = new Set([
  'fd_write',
  'fd_read',
  'fd_close',
  'fd_seek',
  'fd_fdstat_get',
  'fd_prestat_get',
  'fd_prestat_dir_name',
  'clock_time_get',
  'clock_res_get',
  'random_get',
  'proc_exit',
  'environ_get',
  'environ_sizes_get',
  'args_get',
  'args_sizes_get',
  'sched_yield',
  'poll_oneoff',
]);
