// One Istio HTTPRoute as router routes: match, destination clusters or
// redirect, rewrite, timeout, per-try timeout, header edits.

import { clusterFor, type Ctx } from './clusters';
import { resolveHost } from './parse';
import type { HeaderOps, HttpMatch, HttpRoute, StringMatch, VirtualServiceResource } from './types';

/** One router route per Istio match (OR across matches; AND within one). */
export function buildRoutes(ctx: Ctx, vs: VirtualServiceResource, r: HttpRoute, name: string): Record<string, unknown>[] {
  const common: Record<string, unknown> = { name };
  if (r.redirect !== null) {
    const rd = r.redirect;
    common.redirect = {
      ...(rd.uri === null ? {} : { path: rd.uri }),
      ...(rd.authority === null ? {} : { host: rd.authority }),
      ...(rd.port === null ? {} : { port: rd.port }),
      ...(rd.scheme === null ? {} : { scheme: rd.scheme }),
      responseCode: rd.redirectCode,
    };
  } else {
    const action: Record<string, unknown> = {};
    const picks = r.route.map((d) => {
      const svc = resolveHost(ctx.services, d.host, vs.metadata.namespace);
      return { cluster: svc === undefined ? undefined : clusterFor(ctx, svc, d.subset, true), weight: d.weight ?? 100 };
    });
    if (picks.length === 1) action.cluster = picks[0]!.cluster ?? '';
    else action.weightedClusters = picks.map((p) => ({ cluster: p.cluster ?? '', weight: p.weight }));
    if (r.timeoutMs !== null) action.timeoutMs = r.timeoutMs;
    const perTry = r.retries?.perTryTimeoutMs ?? null;
    if (perTry !== null && (r.retries?.attempts ?? 0) > 0) action.perTryTimeoutMs = perTry;
    if (r.rewrite?.uri != null) action.prefixRewrite = r.rewrite.uri;
    if (r.rewrite?.authority != null) action.hostRewrite = r.rewrite.authority;
    common.route = action;
  }
  const req = headerEdits(r.headers.request);
  if (r.redirect === null) {
    if (req.add.length > 0) common.requestHeadersToAdd = req.add;
    if (req.remove.length > 0) common.requestHeadersToRemove = req.remove;
  }
  const res = headerEdits(r.headers.response);
  if (res.add.length > 0) common.responseHeadersToAdd = res.add;
  if (res.remove.length > 0) common.responseHeadersToRemove = res.remove;
  const matches = r.match.length === 0 ? [null] : r.match;
  return matches.map((m) => ({ ...common, match: routeMatch(m) }));
}

function headerEdits(ops: HeaderOps | null): { add: { name: string; value: string; append: boolean }[]; remove: string[] } {
  if (ops === null) return { add: [], remove: [] };
  return {
    add: [
      ...Object.entries(ops.set).map(([name, value]) => ({ name, value, append: false })),
      ...Object.entries(ops.add).map(([name, value]) => ({ name, value, append: true })),
    ],
    remove: ops.remove,
  };
}

function valueMatcher(name: string, m: StringMatch): Record<string, unknown> {
  return { name, [m.kind]: m.value };
}

function routeMatch(m: HttpMatch | null): Record<string, unknown> {
  if (m === null) return { prefix: '/' };
  const out: Record<string, unknown> = {};
  if (m.uri === null) out.prefix = '/';
  else if (m.uri.kind === 'exact') out.path = m.uri.value;
  else out[m.uri.kind] = m.uri.value;
  if (m.ignoreUriCase) out.caseSensitive = false;
  if (m.method !== null) out.methods = [m.method];
  const headers = m.headers.map((h) => valueMatcher(h.name, h.match));
  if (m.authority !== null) headers.push(valueMatcher(':authority', m.authority));
  if (headers.length > 0) out.headers = headers;
  if (m.queryParams.length > 0) out.queryParams = m.queryParams.map((q) => valueMatcher(q.name, q.match));
  return out;
}
