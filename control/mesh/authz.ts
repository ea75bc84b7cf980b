// The authz filter of one workload (a gateway, or a sidecar's inbound
// listener): the AuthorizationPolicies that apply to it, by Istio's rule.

import { selectorMatches } from './common';
import type { AuthorizationPolicyResource } from './types';

/** Istio's default root namespace: its policies apply to workloads of every namespace. */
export const ROOT_NAMESPACE = 'istio-system';

/**
 * Policies of the workload's namespace or of the root namespace whose
 * selector is absent or matches the workload's labels; null when none does.
 */
export function authzFilter(
  policies: readonly AuthorizationPolicyResource[],
  namespace: string,
  labels: Record<string, string>,
): Record<string, unknown> | null {
  const applied = policies.filter(
    (p) => (p.metadata.namespace === namespace || p.metadata.namespace === ROOT_NAMESPACE) && selectorMatches(p.selector, labels),
  );
  if (applied.length === 0) return null;
  return {
    name: 'authz',
    module: 'builtin:authz',
    config: { policies: applied.map((p) => ({ name: `${p.metadata.namespace}/${p.metadata.name}`, action: p.action, rules: p.rules })) },
  };
}
