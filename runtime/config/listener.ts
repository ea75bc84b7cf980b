// The `listeners[]` section: where the proxy accepts requests, and the Wasm
// filter chain each request runs through.

import { DEFAULTS } from './defaults';
import { parseAddress } from './address';
import { parseName, Unique } from './names';
import { suggest } from './suggest';
import type { Address, FilterConfig, ListenerConfig } from './types';
import type { Value } from './validator';

export const FILTER_LOG_LEVELS: readonly FilterConfig['logLevel'][] = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];
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
    const moduleValue = f.required('module');
    const module = moduleValue.string({ nonEmpty: true });
    if (module?.startsWith('sha256:') && !/^sha256:[0-9a-f]{64}$/.test(module)) moduleValue.report('a sha256: module needs 64 lowercase hex digits');
    // An explicit empty rootId is allowed: it is proxy-wasm's default root context.
    const rootId = f.optional('rootId').string();
    const configValue = f.optional('config');
    const config = configValue.json();
    // Built-in filters take JSON; a string config must then hold JSON text (a
    // third-party filter gets its string verbatim, as in Envoy).
    if (module?.startsWith('builtin:') && typeof config === 'string') {
      try {
        JSON.parse(config);
      } catch (e) {
        configValue.report(`not valid JSON: ${(e as Error).message}`);
      }
    }
    const d = DEFAULTS.filter;
    return {
      name: name ?? '',
      module: module ?? '',
      rootId: rootId ?? name ?? '',
      config: config ?? null,
      failurePolicy: f.optional('failurePolicy').oneOf(FAILURE_POLICIES, 'failure policy') ?? d.failurePolicy,
      vmId: f.optional('vmId').string({ nonEmpty: true }) ?? name ?? '',
      maxMemoryBytes: f.optional('maxMemory').size({ min: 64 * 1024, max: 4 * 1024 * 1024 * 1024 - 65536 }) ?? d.maxMemoryBytes,
      executionBudget: f.optional('executionBudget').int({ min: 1000, max: 2_000_000_000 }) ?? d.executionBudget,
      maxBufferedBody: f.optional('maxBufferedBody').size({ min: 1024, max: 1024 * 1024 * 1024 }) ?? d.maxBufferedBody,
      logLevel: f.optional('logLevel').oneOf(FILTER_LOG_LEVELS, 'log level') ?? d.logLevel,
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
