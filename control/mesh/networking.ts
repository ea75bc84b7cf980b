// Istio networking.istio.io kinds: VirtualService, DestinationRule, Gateway.
// Field coverage: see README.md. Each reader returns the resource and, for
// the cross-reference pass, the Values where hosts and subsets are written.

import type { Fields, Value } from '../../runtime/config/validator';
import { readPercentage, readStringMap, stringMatch, unsupported } from './common';
import type {
  DestinationRuleResource, FaultPolicy, GatewayResource, HeaderOps, HttpMatch, HttpRoute, Metadata, RetryPolicy,
  RouteDestination, TrafficPolicy, VirtualServiceResource,
} from './types';

/** Where a destination is written, for "unknown service/subset" problems. */
export interface DestinationRef {
  host: string;
  subset: string | null;
  hostAt: Value;
  subsetAt: Value;
  /** The namespace of the VirtualService (set by parseMesh). */
  namespace?: string;
}

const REDIRECT_CODES = [301, 302, 303, 307, 308];

export function readVirtualService(spec: Value, metadata: Metadata, refs: DestinationRef[]): VirtualServiceResource | undefined {
  return spec.object((f) => {
    const hosts = f.required('hosts').list((h) => h.string({ nonEmpty: true }), { nonEmpty: true }) ?? [];
    const gateways = f.optional('gateways').list((g) => g.string({ nonEmpty: true })) ?? [];
    const http = f.optional('http').list((r) => readHttpRoute(r, refs)) ?? [];
    unsupported(f, ['tcp', 'tls'], 'not supported by wasmesh (HTTP routes only)');
    unsupported(f, ['exportTo'], 'not supported by wasmesh (every resource is visible to every proxy)');
    if (!f.optional('http').isSet) f.owner.report('"http" is required (wasmesh supports HTTP routes only)');
    return { kind: 'VirtualService' as const, metadata, hosts, gateways, http };
  });
}

function readHttpRoute(v: Value, refs: DestinationRef[]): HttpRoute | undefined {
  return v.object((f) => {
    const name = f.optional('name').string({ nonEmpty: true }) ?? null;
    const match = f.optional('match').list(readMatch) ?? [];
    const routeV = f.optional('route');
    const route = routeV.list((d) => readDestination(d, refs), { nonEmpty: true }) ?? [];
    const redirect = f.optional('redirect').object((r) => {
      const code = r.optional('redirectCode');
      const redirectCode = code.int() ?? 301;
      if (code.isSet && !REDIRECT_CODES.includes(redirectCode)) code.report(`must be one of ${REDIRECT_CODES.join(', ')}`);
      unsupported(r, ['derivePort']);
      return {
        uri: r.optional('uri').string({ nonEmpty: true }) ?? null,
        authority: r.optional('authority').string({ nonEmpty: true }) ?? null,
        port: r.optional('port').int({ min: 1, max: 65535 }) ?? null,
        scheme: r.optional('scheme').string({ nonEmpty: true }) ?? null,
        redirectCode,
      };
    }) ?? null;
    checkWeights(routeV, route);
    if (routeV.isSet === (redirect !== null)) {
      f.owner.report(routeV.isSet ? '"route" and "redirect" cannot both be set' : 'one of "route" or "redirect" is required');
    }
    const rewrite = f.optional('rewrite').object((r) => {
      unsupported(r, ['uriRegexRewrite']);
      return { uri: r.optional('uri').string() ?? null, authority: r.optional('authority').string({ nonEmpty: true }) ?? null };
    }) ?? null;
    const timeoutMs = f.optional('timeout').duration({ min: 1 }) ?? null;
    const retries = f.optional('retries').object(readRetries) ?? null;
    const fault = f.optional('fault').object(readFault) ?? null;
    const headers = f.optional('headers').object((h) => ({ request: readHeaderOps(h.optional('request')), response: readHeaderOps(h.optional('response')) })) ?? {
      request: null,
      response: null,
    };
    unsupported(f, ['mirror', 'mirrors', 'mirrorPercentage', 'mirror_percent', 'mirrorPercent', 'corsPolicy', 'delegate', 'directResponse']);
    return { name, match, route, redirect, rewrite, timeoutMs, retries, fault, headers };
  });
}

/** Istio requires the weights of a route to add up to 100; one destination may leave its weight out. */
function checkWeights(at: Value, route: RouteDestination[]): void {
  if (route.length === 0) return;
  if (route.length === 1) {
    const w = route[0]!.weight;
    if (w !== null && w !== 100) at.report(`the weights add up to ${w}, not 100`);
    return;
  }
  const missing = route.map((d, i) => (d.weight === null ? i : -1)).filter((i) => i >= 0);
  if (missing.length > 0) {
    at.report(`every destination needs a weight when there are several (missing at ${missing.map((i) => `[${i}]`).join(', ')})`);
    return;
  }
  const sum = route.reduce((a, d) => a + (d.weight ?? 0), 0);
  if (sum !== 100) at.report(`the weights add up to ${sum}, not 100 (${route.map((d) => d.weight).join(' + ')})`);
}

function readMatch(v: Value): HttpMatch | undefined {
  return v.object((f) => {
    f.optional('name').string();
    const uri = stringMatch(f.optional('uri')) ?? null;
    const method = f.optional('method').object((m) => {
      unsupported(m, ['prefix', 'regex'], 'not supported by wasmesh (methods match exactly)');
      return m.required('exact').string({ nonEmpty: true });
    }) ?? null;
    const authority = stringMatch(f.optional('authority')) ?? null;
    const headers = [...(f.optional('headers').map((h) => stringMatch(h)) ?? new Map())].map(([name, match]) => ({ name, match }));
    const queryParams = [...(f.optional('queryParams').map((h) => stringMatch(h)) ?? new Map())].map(([name, match]) => ({ name, match }));
    const icV = f.optional('ignoreUriCase');
    const ignoreUriCase = icV.bool() ?? false;
    if (ignoreUriCase && uri?.kind === 'regex') icV.report('cannot be used with a regex uri match');
    unsupported(f, ['withoutHeaders', 'port', 'sourceLabels', 'sourceNamespace', 'gateways', 'scheme', 'statPrefix']);
    return { uri, method, authority, headers, queryParams, ignoreUriCase };
  });
}

function readDestination(v: Value, refs: DestinationRef[]): RouteDestination | undefined {
  return v.object((f) => {
    const dest = f.required('destination').object((d) => {
      const hostAt = d.required('host');
      const host = hostAt.string({ nonEmpty: true });
      const subsetAt = d.optional('subset');
      const subset = subsetAt.string({ nonEmpty: true }) ?? null;
      const port = d.optional('port').object((p) => p.required('number').int({ min: 1, max: 65535 })) ?? null;
      if (host !== undefined) refs.push({ host, subset, hostAt, subsetAt });
      return { host: host ?? '', subset, port };
    });
    const weight = f.optional('weight').int({ min: 0, max: 100 }) ?? null;
    unsupported(f, ['headers'], 'not supported by wasmesh (per-destination header edits); use the route\'s "headers"');
    return dest === undefined ? undefined : { ...dest, weight };
  });
}

const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'connect-failure', 'reset-before-request', 'retriable-4xx', 'retriable-status-codes', 'refused-stream',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

function readRetries(f: Fields): RetryPolicy {
  const attempts = f.optional('attempts').int({ min: 0, max: 100 }) ?? 2;
  const perTryTimeoutMs = f.optional('perTryTimeout').duration({ min: 1 }) ?? null;
  const retryOnV = f.optional('retryOn');
  const retryOn = retryOnV.string({ nonEmpty: true }) ?? null;
  if (retryOn !== null) {
    for (const part of retryOn.split(',').map((s) => s.trim())) {
      if (!RETRY_ON.has(part) && !/^[1-5][0-9][0-9]$/.test(part)) {
        retryOnV.report(`unknown retry policy ${JSON.stringify(part)} (expected status codes or ${[...RETRY_ON].join(', ')})`);
      }
    }
  }
  unsupported(f, ['retryRemoteLocalities', 'backoff']);
  return { attempts, perTryTimeoutMs, retryOn };
}

function readFault(f: Fields): FaultPolicy {
  const delay = f.optional('delay').object((d) => {
    const fixedDelayMs = d.required('fixedDelay').duration({ min: 0 });
    const percentV = d.optional('percent');
    const pctV = d.optional('percentage');
    if (percentV.isSet && pctV.isSet) percentV.report('"percent" and "percentage" cannot both be set');
    const percentage = readPercentage(pctV) ?? percentV.int({ min: 0, max: 100 }) ?? 100;
    unsupported(d, ['exponentialDelay']);
    return fixedDelayMs === undefined ? undefined : { fixedDelayMs, percentage };
  }) ?? null;
  const abort = f.optional('abort').object((a) => {
    unsupported(a, ['grpcStatus', 'http2Error'], 'not supported by wasmesh (HTTP aborts only)');
    const httpStatus = a.required('httpStatus').int({ min: 200, max: 599 });
    const percentage = readPercentage(a.optional('percentage')) ?? 100;
    return httpStatus === undefined ? undefined : { httpStatus, percentage };
  }) ?? null;
  if (delay === null && abort === null) f.owner.report('expected "delay" and/or "abort"');
  return { delay, abort };
}

const PROTECTED_HEADER = /^(:|host$)/i;

function readHeaderOps(v: Value): HeaderOps | null {
  return v.object((f) => {
    const check = (m: Value): Record<string, string> => {
      const out = readStringMap(m) ?? {};
      for (const k of Object.keys(out)) if (PROTECTED_HEADER.test(k)) m.report(`header ${JSON.stringify(k)} cannot be edited (use "rewrite")`);
      return out;
    };
    const set = check(f.optional('set'));
    const add = check(f.optional('add'));
    const removeV = f.optional('remove');
    const remove = removeV.list((h) => {
      const name = h.string({ nonEmpty: true });
      if (name !== undefined && PROTECTED_HEADER.test(name)) return h.report(`header ${JSON.stringify(name)} cannot be removed`);
      return name;
    }) ?? [];
    return { set, add, remove };
  }) ?? null;
}

// ---- DestinationRule

export interface SubsetRef {
  /** The rule's host as written and where. */
  host: string;
  hostAt: Value;
  /** The namespace of the DestinationRule (set by parseMesh). */
  namespace?: string;
}

export function readDestinationRule(spec: Value, metadata: Metadata, hostRefs: SubsetRef[]): DestinationRuleResource | undefined {
  return spec.object((f) => {
    const hostAt = f.required('host');
    const host = hostAt.string({ nonEmpty: true });
    if (host !== undefined) hostRefs.push({ host, hostAt });
    const trafficPolicy = readTrafficPolicy(f.optional('trafficPolicy')) ?? null;
    const seen = new Set<string>();
    const subsets = f.optional('subsets').list((s) => s.object((sf) => {
      const nameV = sf.required('name');
      const name = nameV.string({ nonEmpty: true });
      if (name !== undefined) {
        if (seen.has(name)) nameV.report(`duplicate subset ${JSON.stringify(name)}`);
        seen.add(name);
      }
      const labels = readStringMap(sf.optional('labels')) ?? {};
      return { name: name ?? '', labels, trafficPolicy: readTrafficPolicy(sf.optional('trafficPolicy')) ?? null };
    })) ?? [];
    unsupported(f, ['exportTo', 'workloadSelector']);
    return { kind: 'DestinationRule' as const, metadata, host: host ?? '', trafficPolicy, subsets };
  });
}

function readTrafficPolicy(v: Value): TrafficPolicy | undefined {
  return v.object((f) => {
    const loadBalancer = f.optional('loadBalancer').object((lb): TrafficPolicy['loadBalancer'] | undefined => {
      const simpleV = lb.optional('simple');
      const hashV = lb.optional('consistentHash');
      unsupported(lb, ['localityLbSetting', 'warmupDurationSecs', 'warmup']);
      if (simpleV.isSet && hashV.isSet) {
        lb.owner.report('"simple" and "consistentHash" cannot both be set');
        return undefined;
      }
      if (simpleV.isSet) {
        const simple = simpleV.oneOf(['ROUND_ROBIN', 'LEAST_REQUEST', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'UNSPECIFIED'] as const, 'load balancer');
        if (simple === 'PASSTHROUGH') return simpleV.report('PASSTHROUGH is not supported by wasmesh (endpoints come from the mesh, not the request)');
        if (simple === undefined) return undefined;
        return { simple: simple === 'UNSPECIFIED' ? 'ROUND_ROBIN' : simple };
      }
      if (hashV.isSet) {
        const consistentHash = hashV.object((h) => {
          const forms: { kind: 'header' | 'cookie' | 'query' | 'source_ip'; name: string }[] = [];
          const header = h.optional('httpHeaderName').string({ nonEmpty: true });
          if (header !== undefined) forms.push({ kind: 'header', name: header });
          const cookie = h.optional('httpCookie').object((c) => {
            c.optional('ttl').duration({ min: 0 });
            c.optional('path').string();
            return c.required('name').string({ nonEmpty: true });
          });
          if (cookie !== undefined) forms.push({ kind: 'cookie', name: cookie });
          if (h.optional('useSourceIp').bool() === true) forms.push({ kind: 'source_ip', name: '' });
          const query = h.optional('httpQueryParameterName').string({ nonEmpty: true });
          if (query !== undefined) forms.push({ kind: 'query', name: query });
          h.optional('minimumRingSize').int({ min: 1 });
          h.optional('ringHash').object((r) => r.optional('minimumRingSize').int({ min: 1 }));
          unsupported(h, ['maglev'], 'not supported by wasmesh here (use ringHash or leave it out)');
          if (forms.length !== 1) {
            h.owner.report('expected exactly one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName');
            return undefined;
          }
          const form = forms[0]!;
          return form.kind === 'source_ip' ? { kind: 'source_ip' as const } : { kind: form.kind, name: form.name };
        });
        return consistentHash === undefined ? undefined : { consistentHash };
      }
      lb.owner.report('expected "simple" or "consistentHash"');
      return undefined;
    }) ?? null;
    const connectionPool = f.optional('connectionPool').object((cp) => {
      const tcp = cp.optional('tcp').object((t) => {
        unsupported(t, ['tcpKeepalive', 'maxConnectionDuration', 'idleTimeout']);
        return { maxConnections: t.optional('maxConnections').int({ min: 1 }) ?? null, connectTimeoutMs: t.optional('connectTimeout').duration({ min: 1 }) ?? null };
      });
      const http = cp.optional('http').object((h) => {
        unsupported(h, ['http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'h2UpgradePolicy', 'useClientProtocol', 'maxConcurrentStreams']);
        return {
          http1MaxPendingRequests: h.optional('http1MaxPendingRequests').int({ min: 1 }) ?? null,
          idleTimeoutMs: h.optional('idleTimeout').duration({ min: 1 }) ?? null,
        };
      });
      return {
        maxConnections: tcp?.maxConnections ?? null,
        connectTimeoutMs: tcp?.connectTimeoutMs ?? null,
        http1MaxPendingRequests: http?.http1MaxPendingRequests ?? null,
        idleTimeoutMs: http?.idleTimeoutMs ?? null,
      };
    }) ?? null;
    const outlierDetection = f.optional('outlierDetection').object((o) => {
      unsupported(o, ['consecutiveGatewayErrors', 'consecutiveErrors', 'consecutiveLocalOriginFailures', 'splitExternalLocalOriginErrors', 'minHealthPercent']);
      return {
        consecutive5xxErrors: o.optional('consecutive5xxErrors').int({ min: 0 }) ?? 5,
        intervalMs: o.optional('interval').duration({ min: 1 }) ?? 10_000,
        baseEjectionTimeMs: o.optional('baseEjectionTime').duration({ min: 1 }) ?? 30_000,
        maxEjectionPercent: o.optional('maxEjectionPercent').int({ min: 0, max: 100 }) ?? 10,
      };
    }) ?? null;
    f.optional('tls').object((t) => {
      const mode = t.optional('mode');
      const m = mode.oneOf(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] as const, 'TLS mode');
      if (m !== undefined && m !== 'DISABLE') mode.report(`${m} is not supported yet (wasmesh has no upstream TLS; only DISABLE)`);
      unsupported(t, ['clientCertificate', 'privateKey', 'caCertificates', 'credentialName', 'subjectAltNames', 'sni', 'insecureSkipVerify']);
    });
    unsupported(f, ['portLevelSettings', 'tunnel', 'proxyProtocol']);
    return { loadBalancer, connectionPool, outlierDetection };
  });
}

// ---- Gateway

export function readGateway(spec: Value, metadata: Metadata): GatewayResource | undefined {
  return spec.object((f) => {
    const selector = readStringMap(f.optional('selector')) ?? {};
    const servers = f.required('servers').list((s) => s.object((sf) => {
      const port = sf.required('port').object((p) => {
        const protoV = p.required('protocol');
        const protocol = protoV.oneOf(['HTTP', 'HTTPS', 'GRPC', 'HTTP2', 'MONGO', 'TCP', 'TLS'] as const, 'protocol');
        if (protocol !== undefined && protocol !== 'HTTP') protoV.report(`${protocol} is not supported by wasmesh gateways (HTTP only)`);
        p.optional('targetPort').int({ min: 1, max: 65535 });
        return { number: p.required('number').int({ min: 1, max: 65535 }) ?? 0, protocol: protocol ?? 'HTTP', name: p.optional('name').string() ?? '' };
      });
      const hosts = sf.required('hosts').list((h) => h.string({ nonEmpty: true }), { nonEmpty: true }) ?? [];
      sf.optional('name').string();
      unsupported(sf, ['tls', 'bind', 'defaultEndpoint'], 'not supported by wasmesh gateways yet');
      return port === undefined ? undefined : { port, hosts };
    }), { nonEmpty: true }) ?? [];
    return { kind: 'Gateway' as const, metadata, selector, servers };
  });
}
