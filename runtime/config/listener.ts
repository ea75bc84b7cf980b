// The `listeners[]` section: where the proxy accepts requests, and the Wasm
// filter chain each request runs through.

import { DEFAULTS } from './defaults';
import { parseAddress } from './address';
import { parseName, Unique } from './names';
import { suggest } from './suggest';
import type { Address, FilterConfig, ListenerConfig } from './types';
import type { Value } from './validator';

export const FAILURE_POLICIES: readonly FilterConfig['failurePolicy'][] = ['failClosed', 'failOpen', 'reload'];

export interface ListenerContext {
  /** Listener names seen so far. */
  names: Unique;
  /** Names of the clusters defined in the config. */
  clusters: ReadonlySet<string>;
  /** Called with each valid listener address, to check for collisions. */
  onAddress(address: Address, at: Value): void;
}

export function readListener(v: Value, ctx: ListenerContext): ListenerConfig | undefined {
  return v.object((f) => {
    const nameValue = f.required('name');
    const name = nameValue.parse(parseName);
    if (name !== undefined) ctx.names.check(name, nameValue);

    const addressValue = f.required('address');
    const address = addressValue.parse((text) => parseAddress(text, { allowPortZero: true }));
    if (address !== undefined) ctx.onAddress(address, addressValue);

    const filterNames = new Unique('filter name');
    const filters = f.optional('filters').list((item) => readFilter(item, filterNames));

    const clusterValue = f.optional('defaultCluster');
    const defaultCluster = clusterValue.parse(parseName);
    if (defaultCluster !== undefined && !ctx.clusters.has(defaultCluster)) clusterValue.report(unknownCluster(defaultCluster, ctx.clusters));

    return {
      name: name ?? '',
      address: address ?? { host: '', port: 0 },
      filters: filters ?? [],
      defaultCluster: defaultCluster ?? null,
      maxRequestHeadersBytes:
        f.optional('maxRequestHeadersSize').size({ min: 1, max: DEFAULTS.maxRequestHeadersLimitBytes }) ?? DEFAULTS.listener.maxRequestHeadersBytes,
    };
  });
}

function readFilter(v: Value, names: Unique): FilterConfig | undefined {
  return v.object((f) => {
    const nameValue = f.required('name');
    const name = nameValue.parse(parseName);
    if (name !== undefined) names.check(name, nameValue);
    const module = f.required('module').string({ nonEmpty: true });
    // An explicit empty rootId is allowed: it is proxy-wasm's default root context.
    const rootId = f.optional('rootId').string();
    const config = f.optional('config').json();
    return {
      name: name ?? '',
      module: module ?? '',
      rootId: rootId ?? name ?? '',
      config: config ?? null,
      failurePolicy: f.optional('failurePolicy').oneOf(FAILURE_POLICIES, 'failure policy') ?? DEFAULTS.filter.failurePolicy,
    };
  });
}

function unknownCluster(name: string, clusters: ReadonlySet<string>): string {
  const guess = suggest(name, clusters);
  if (guess !== undefined) return `unknown cluster ${JSON.stringify(name)} (did you mean ${JSON.stringify(guess)}?)`;
  if (clusters.size === 0) return `unknown cluster ${JSON.stringify(name)} (no clusters are defined)`;
  const list = [...clusters];
  return `unknown cluster ${JSON.stringify(name)} (defined: ${list.slice(0, 8).join(', ')}${list.length > 8 ? ', ...' : ''})`;
}
