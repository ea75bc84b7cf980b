// Response flags, named as Envoy names them so operators can grep the same
// strings. Each locally generated response carries one in `x-wasmesh-reason`
// and in the access log's `flags` field.

export const Flag = {
  /** No healthy upstream endpoint. */
  NoHealthyUpstream: 'UH',
  /** The route named a cluster that does not exist. */
  ClusterNotFound: 'NC',
  /** Connection to the upstream failed. */
  UpstreamConnectionFailure: 'UF',
  /** Upstream connection reset / terminated. */
  UpstreamConnectionTermination: 'UC',
  /** Circuit breaker: pending queue or connection limit overflowed. */
  UpstreamOverflow: 'UO',
  /** Connect or request timeout. */
  UpstreamRequestTimeout: 'UT',
  /** Upstream sent a response we could not parse. */
  UpstreamProtocolError: 'UPE',
  /** No route matched (router filter). */
  NoRouteFound: 'NR',
  /** Response produced locally by a filter. */
  LocalReply: 'LR',
  /** Downstream went away before the response completed. */
  DownstreamConnectionTermination: 'DC',
  /** Request was rejected by a downstream protocol check. */
  DownstreamProtocolError: 'DPE',
  /** Fault filter injected a delay / an abort. */
  DelayInjected: 'DI',
  FaultInjected: 'FI',
  /** Rate limited. */
  RateLimited: 'RL',
  /** Denied by authorization. */
  Unauthorized: 'UAEX',
  /** A Wasm filter failed and its failure policy closed the stream. */
  WasmFailure: 'WF',
  /** Request body exceeded the buffer cap a filter asked for. */
  BodyTooLarge: 'BTL',
  /** The proxy is draining and will not take new work on this stream. */
  Draining: 'DR',
} as const;

export type Flag = (typeof Flag)[keyof typeof Flag];
