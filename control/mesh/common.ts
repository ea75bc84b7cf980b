// Helpers shared by the resource kinds: readers for metadata, label maps,
// selectors, Istio StringMatch, and fields that exist in the Istio API but
// that wasmesh does not implement (rejected, never ignored); selector
// matching; the resources of one kind.

import type { Fields, Value } from '../../runtime/config/validator';
import type { Mesh, Metadata, Resource, StringMatch } from './types';

/** The mesh's resources of one kind, in mesh order. */
export function ofKind<K extends Resource['kind']>(mesh: Mesh, kind: K): Extract<Resource, { kind: K }>[] {
  return mesh.resources.filter((r): r is Extract<Resource, { kind: K }> => r.kind === kind);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function readMetadata(v: Value): Metadata | undefined {
  return v.object((f) => {
    const nameV = f.required('name');
    const name = nameV.string({ nonEmpty: true });
    if (name !== undefined && (name.length > 253 || !DNS_SUBDOMAIN.test(name))) {
      nameV.report(`invalid name ${JSON.stringify(name)} (lower-case letters, digits, "-" and ".", as Kubernetes names)`);
    }
    const nsV = f.optional('namespace');
    const namespace = nsV.string({ nonEmpty: true });
    if (namespace !== undefined && !DNS_LABEL.test(namespace)) nsV.report(`invalid namespace ${JSON.stringify(namespace)}`);
    const labels = readStringMap(f.optional('labels')) ?? {};
    f.optional('annotations').map((a) => a.string()); // accepted, unused
    return { name: name ?? '', namespace: namespace ?? 'default', labels };
  });
}

/** Istio `WorkloadSelector`: `{matchLabels}`; null when absent (selects every workload). */
export function readSelector(v: Value): Record<string, string> | null {
  return v.object((f) => readStringMap(f.required('matchLabels')) ?? {}) ?? null;
}

/** Whether a selector (null: none) selects a workload with these labels. */
export function selectorMatches(selector: Record<string, string> | null, labels: Record<string, string>): boolean {
  return selector === null || Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function readStringMap(v: Value): Record<string, string> | undefined {
  const m = v.map((item) => item.string());
  return m === undefined ? undefined : Object.fromEntries(m);
}

/**
 * Istio fields that are valid but not implemented: reading them marks them
 * known (so they are not "unknown field"), and a set one is reported.
 */
export function unsupported(f: Fields, names: readonly string[], why = 'not supported by wasmesh'): void {
  for (const name of names) {
    const v = f.optional(name);
    if (v.raw !== undefined) v.report(why);
  }
}

export function stringMatch(v: Value, allowed: readonly StringMatch['kind'][] = ['exact', 'prefix', 'regex']): StringMatch | undefined {
  return v.object((f) => {
    const found: StringMatch[] = [];
    for (const kind of ['exact', 'prefix', 'regex'] as const) {
      const item = f.optional(kind);
      if (!item.isSet) continue;
      if (!allowed.includes(kind)) {
        item.report(`not supported here (supported: ${allowed.join(', ')})`);
        continue;
      }
      const value = item.string();
      if (value !== undefined) found.push({ kind, value });
    }
    if (found.length === 0) {
      f.owner.report(`expected one of ${allowed.join(', ')}`);
      return undefined;
    }
    if (found.length > 1) {
      f.owner.report(`only one of ${allowed.join(', ')} may be set`);
      return undefined;
    }
    return found[0];
  });
}

/** Istio `percentage: {value: N}`; N in 0-100. */
export function readPercentage(v: Value): number | undefined {
  return v.object((f) => f.required('value').number({ min: 0, max: 100 }));
}
