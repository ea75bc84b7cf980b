// parseMesh: multi-document YAML in, validated and cross-checked resources
// out, or one ConfigError listing every problem as `file:line: path: message`.

import { ConfigError } from '../../runtime/core/errors';
import { formatProblem, isPlainObject, Problems, Value, describe, type Problem } from '../../runtime/config/validator';
import { suggest } from '../../runtime/config/suggest';
import { readMetadata } from './common';
import { parseDocuments, type YamlDocument } from './documents';
import { readFilterBundle } from './filter-bundle';
import { readRateLimit, readService } from './native';
import { readDestinationRule, readGateway, readVirtualService, type DestinationRef, type SubsetRef } from './networking';
import { readAuthorizationPolicy, readPeerAuthentication } from './security';
import type { DestinationRuleResource, Mesh, Metadata, Resource, ServiceResource } from './types';

const NETWORKING = ['networking.istio.io/v1alpha3', 'networking.istio.io/v1beta1', 'networking.istio.io/v1'];
const SECURITY = ['security.istio.io/v1beta1', 'security.istio.io/v1'];
const NATIVE = ['wasmesh.io/v1alpha1'];

interface Refs {
  destinations: DestinationRef[];
  ruleHosts: SubsetRef[];
}

type Reader = (spec: Value, metadata: Metadata, refs: Refs) => Resource | undefined;

const KINDS: Record<string, { apiVersions: string[]; read: Reader }> = {
  Service: { apiVersions: NATIVE, read: (s, m) => readService(s, m) },
  RateLimit: { apiVersions: NATIVE, read: (s, m) => readRateLimit(s, m) },
  FilterBundle: { apiVersions: NATIVE, read: (s, m) => readFilterBundle(s, m) },
  VirtualService: { apiVersions: NETWORKING, read: (s, m, r) => readVirtualService(s, m, r.destinations) },
  DestinationRule: { apiVersions: NETWORKING, read: (s, m, r) => readDestinationRule(s, m, r.ruleHosts) },
  Gateway: { apiVersions: NETWORKING, read: (s, m) => readGateway(s, m) },
  AuthorizationPolicy: { apiVersions: SECURITY, read: (s, m) => readAuthorizationPolicy(s, m) },
  PeerAuthentication: { apiVersions: SECURITY, read: (s, m) => readPeerAuthentication(s, m) },
};

export const SUPPORTED_KINDS = Object.keys(KINDS);

/** One file (or upload) of a mesh config; `source` names it in messages. */
export interface MeshSource {
  text: string;
  source?: string;
}

/**
 * Parse and check a mesh config: one or more YAML documents separated by
 * `---`, each with `apiVersion`, `kind`, `metadata` and `spec`. Several
 * sources are checked as one mesh (cross references may span them); each
 * message names the source and line it is about.
 * @throws ConfigError with every problem found (syntax errors first, alone).
 */
export function parseMesh(input: string | readonly MeshSource[], source?: string): Mesh {
  const sources: readonly MeshSource[] = typeof input === 'string' ? [source === undefined ? { text: input } : { text: input, source }] : input;
  const docs: { doc: YamlDocument; source: string | undefined }[] = [];
  const syntax: string[] = [];
  for (const s of sources) {
    const r = parseDocuments(s.text);
    if (!r.ok) syntax.push(...r.problems.map((p: Problem) => formatProblem(p, s.source)));
    else for (const doc of r.documents) docs.push({ doc, source: s.source });
  }
  const single = sources.length === 1 ? sources[0]!.source : undefined;
  if (syntax.length > 0) throw new ConfigError(syntax, single);

  const all: { problems: Problems; source: string | undefined }[] = [];
  const refs: Refs = { destinations: [], ruleHosts: [] };
  const resources: Resource[] = [];
  const names = new Map<string, number | undefined>();
  const gatewayRefs: { name: string; namespace: string; at: Value }[] = [];

  for (const { doc, source: docSource } of docs) {
    const problems = new Problems(doc.locate);
    all.push({ problems, source: docSource });
    const root = Value.root(doc.value, problems);
    if (!isPlainObject(doc.value)) {
      root.report(`each document must be a mapping with apiVersion, kind, metadata and spec, got ${describe(doc.value)}`);
      continue;
    }
    const resource = root.object((f) => {
      const kindV = f.required('kind');
      const kind = kindV.string({ nonEmpty: true });
      const apiV = f.required('apiVersion');
      const apiVersion = apiV.string({ nonEmpty: true });
      const metadataV = f.required('metadata');
      const metadata = readMetadata(metadataV);
      const specV = f.required('spec');
      let entry: { apiVersions: string[]; read: Reader } | undefined;
      if (kind !== undefined) {
        entry = Object.prototype.hasOwnProperty.call(KINDS, kind) ? KINDS[kind] : undefined;
        if (entry === undefined) {
          const guess = suggest(kind, SUPPORTED_KINDS);
          kindV.report(`unknown kind ${JSON.stringify(kind)}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`} (supported: ${SUPPORTED_KINDS.join(', ')})`);
        } else if (apiVersion !== undefined && !entry.apiVersions.includes(apiVersion)) {
          apiV.report(`${kind} needs apiVersion ${entry.apiVersions.join(' or ')}, got ${JSON.stringify(apiVersion)}`);
        }
      }
      if (entry === undefined || metadata === undefined) return undefined; // without a kind there is no schema for the spec
      const key = `${kind}/${metadata.namespace}/${metadata.name}`;
      const nameAt = new Value(problems, 'metadata.name', metadata.name, metadataV);
      if (names.has(key)) {
        const line = names.get(key);
        nameAt.report(`duplicate ${kind} ${JSON.stringify(metadata.name)} in namespace ${metadata.namespace}${line === undefined ? '' : ` (first defined at line ${line})`}`);
      } else names.set(key, doc.locate('metadata.name'));
      const before = refs.destinations.length;
      const beforeRules = refs.ruleHosts.length;
      const r = entry.read(specV, metadata, refs);
      if (r?.kind === 'VirtualService') {
        for (const d of refs.destinations.slice(before)) d.namespace = metadata.namespace;
        const gws = specV.isSet ? (specV.raw as Record<string, unknown>).gateways : undefined;
        if (Array.isArray(gws)) {
          r.gateways.forEach((g, i) => gatewayRefs.push({ name: g, namespace: metadata.namespace, at: new Value(problems, `spec.gateways[${i}]`, g, specV) }));
        }
      }
      if (r?.kind === 'DestinationRule') for (const h of refs.ruleHosts.slice(beforeRules)) h.namespace = metadata.namespace;
      return r;
    });
    if (resource !== undefined) resources.push(resource);
  }

  crossCheck(resources, refs, gatewayRefs);
  const lines = all.flatMap((p) => p.problems.format(p.source));
  if (lines.length > 0) throw new ConfigError(lines, single);
  return { resources };
}

/** The Service a host names, seen from a resource in `namespace`: `name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`. */
export function resolveHost(services: readonly ServiceResource[], host: string, namespace: string): ServiceResource | undefined {
  const parts = host.toLowerCase().split('.');
  let name = parts[0]!;
  let ns = namespace;
  if (parts.length === 2 || (parts.length === 3 && parts[2] === 'svc') || (parts.length === 5 && parts.slice(2).join('.') === 'svc.cluster.local')) {
    ns = parts[1]!;
  } else if (parts.length !== 1) {
    name = host; // not a service short name: only a Service named like that matches
  }
  return services.find((s) => s.metadata.name === name && s.metadata.namespace === ns);
}

function crossCheck(resources: Resource[], refs: Refs, gatewayRefs: { name: string; namespace: string; at: Value }[]): void {
  const services = resources.filter((r): r is ServiceResource => r.kind === 'Service');
  const rules = resources.filter((r): r is DestinationRuleResource => r.kind === 'DestinationRule');
  const unknown = (host: string): string => {
    const names = services.map((s) => s.metadata.name);
    const guess = suggest(host, names);
    if (guess !== undefined) return `unknown service ${JSON.stringify(host)} (did you mean ${JSON.stringify(guess)}?)`;
    return `unknown service ${JSON.stringify(host)} (${names.length === 0 ? 'no Service is defined' : `defined: ${names.slice(0, 8).join(', ')}`})`;
  };
  const ruleFor = new Map<ServiceResource, DestinationRuleResource>();
  for (const ref of refs.ruleHosts) {
    const svc = resolveHost(services, ref.host, ref.namespace ?? 'default');
    if (svc === undefined) {
      ref.hostAt.report(unknown(ref.host));
      continue;
    }
    const rule = rules.find((r) => r.host === ref.host && r.metadata.namespace === (ref.namespace ?? 'default') && !ruleFor.has(svc));
    if (ruleFor.has(svc)) ref.hostAt.report(`service ${JSON.stringify(svc.metadata.name)} already has a DestinationRule (${ruleFor.get(svc)!.metadata.name}); wasmesh does not merge them`);
    else if (rule !== undefined) ruleFor.set(svc, rule);
  }
  for (const ref of refs.destinations) {
    const svc = resolveHost(services, ref.host, ref.namespace ?? 'default');
    if (svc === undefined) {
      ref.hostAt.report(unknown(ref.host));
      continue;
    }
    if (ref.subset === null) continue;
    const rule = ruleFor.get(svc);
    if (rule === undefined) {
      ref.subsetAt.report(`unknown subset ${JSON.stringify(ref.subset)}: no DestinationRule defines subsets for service ${JSON.stringify(svc.metadata.name)}`);
    } else if (!rule.subsets.some((s) => s.name === ref.subset)) {
      const names = rule.subsets.map((s) => s.name);
      const guess = suggest(ref.subset, names);
      ref.subsetAt.report(
        `unknown subset ${JSON.stringify(ref.subset)} of service ${JSON.stringify(svc.metadata.name)}` +
          (guess !== undefined ? ` (did you mean ${JSON.stringify(guess)}?)` : ` (DestinationRule ${rule.metadata.name} defines: ${names.join(', ') || 'none'})`),
      );
    }
  }
  const gateways = resources.filter((r) => r.kind === 'Gateway');
  for (const g of gatewayRefs) {
    if (g.name === 'mesh') continue;
    const [ns, name] = g.name.includes('/') ? g.name.split('/', 2) as [string, string] : [g.namespace, g.name];
    if (!gateways.some((gw) => gw.metadata.name === name && gw.metadata.namespace === ns)) {
      const guess = suggest(name, gateways.map((gw) => gw.metadata.name));
      g.at.report(`unknown Gateway ${JSON.stringify(g.name)}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}`);
    }
  }
}
