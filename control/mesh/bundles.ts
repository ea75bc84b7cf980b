// FilterBundles in a listener's filter chain. Where a bundle goes follows
// Istio's WasmPlugin phases:
//
//   AUTHN bundles     before everything (Istio: before its authn filters)
//   ratelimit-NAME*   (outbound and gateway listeners)
//   AUTHZ bundles     just before authz
//   authz?
//   STATS bundles     after authz (Istio: before its stats filters)
//   UNSPECIFIED_PHASE bundles, just before the router (as Istio inserts them)
//   router, fault-N*, retry?
//
// Within a phase, higher `priority` first, then by namespace/name.

import { formatSize } from '../../runtime/config/size';
import { selectorMatches } from './common';
import type { BundlePhase, FilterBundleResource } from './types';

type Filter = Record<string, unknown>;

/** CLIENT: sidecar outbound and gateway listeners; SERVER: sidecar inbound. */
export type Side = 'CLIENT' | 'SERVER';

export interface ChainParts {
  /** The proxy's labels, matched against bundle selectors. */
  labels: Record<string, string>;
  side: Side;
  /** Between AUTHN and AUTHZ bundles (the ratelimit filters). */
  early: Filter[];
  authz: Filter | null;
  router: Filter;
  after: Filter[];
}

/** The listener's filter chain; problems (a bundle not uploaded, a filter name generated twice) go to `problems`. */
export function assembleChain(bundles: readonly FilterBundleResource[], parts: ChainParts, problems: string[]): Filter[] {
  const applied = bundles
    .filter((b) => (b.mode === 'CLIENT_AND_SERVER' || b.mode === parts.side) && selectorMatches(b.selector, parts.labels))
    .sort((a, b) => b.priority - a.priority || compare(key(a), key(b)));
  const phase = (p: BundlePhase): Filter[] =>
    applied.filter((b) => b.phase === p).flatMap((b) => {
      const f = bundleFilter(b, problems);
      return f === undefined ? [] : [f];
    });
  const chain = [
    ...phase('AUTHN'),
    ...parts.early,
    ...phase('AUTHZ'),
    ...(parts.authz === null ? [] : [parts.authz]),
    ...phase('STATS'),
    ...phase('UNSPECIFIED_PHASE'),
    parts.router,
    ...parts.after,
  ];
  // Names are derived from resource names without their namespace separator
  // (bundle-NS-NAME, ratelimit-NAME), so two resources can meet on one name.
  const seen = new Set<string>();
  for (const f of chain) {
    const name = String(f.name);
    if (seen.has(name)) problems.push(`filter name ${JSON.stringify(name)} is generated twice on one listener; rename one of the resources it comes from`);
    seen.add(name);
  }
  return chain;
}

/** Code-unit order, so the chain does not depend on the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function key(b: FilterBundleResource): string {
  return `${b.metadata.namespace}/${b.metadata.name}`;
}

export function bundleFilterName(b: FilterBundleResource): string {
  return b.metadata.namespace === 'default' ? `bundle-${b.metadata.name}` : `bundle-${b.metadata.namespace}-${b.metadata.name}`;
}

function bundleFilter(b: FilterBundleResource, problems: string[]): Filter | undefined {
  if (b.sha256 === null) {
    problems.push(`FilterBundle ${key(b)}: module ${JSON.stringify(b.module)} was not uploaded (no sha256); use \`wasmesh apply\`, which uploads it`);
    return undefined;
  }
  return {
    name: bundleFilterName(b),
    module: `sha256:${b.sha256}`,
    rootId: b.rootId,
    ...(b.vmId === null ? {} : { vmId: b.vmId }),
    ...(b.pluginConfig === null ? {} : { config: b.pluginConfig }),
    failurePolicy: b.failurePolicy,
    ...(b.maxMemoryBytes === null ? {} : { maxMemory: formatSize(b.maxMemoryBytes) }),
    ...(b.executionBudget === null ? {} : { executionBudget: b.executionBudget }),
    ...(b.maxBufferedBodyBytes === null ? {} : { maxBufferedBody: formatSize(b.maxBufferedBodyBytes) }),
    ...(b.logLevel === null ? {} : { logLevel: b.logLevel }),
  };
}
