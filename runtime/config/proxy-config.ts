// The whole proxy config document: top-level fields, then the sections, then
// the checks that span sections (names referenced across sections, listen
// addresses that would collide).

import { DEFAULTS } from './defaults';
import { addressesCollide, formatAddress, parseAddress } from './address';
import { readCluster } from './cluster';
import { readListener } from './listener';
import { Unique } from './names';
import type { Address, ProxyConfig } from './types';
import type { Value } from './validator';

export const LOG_LEVELS: readonly ProxyConfig['logLevel'][] = ['trace', 'debug', 'info', 'warn', 'error'];

/**
 * Read a parsed config document. Problems go to `root.problems`; the result
 * is only meaningful when none were recorded (invalid parts are replaced by
 * defaults or placeholders so that reading can go on and find more).
 */
export function readProxyConfig(root: Value): ProxyConfig | undefined {
  return root.object((f) => {
    // Clusters first: listeners refer to them.
    const clusterNames = new Unique('cluster name');
    const clusters = f.optional('clusters').list((item) => readCluster(item, clusterNames)) ?? [];

    const bound: { address: Address; where: string }[] = [];
    const onAddress = (address: Address, at: Value, where = at.path): void => {
      const other = bound.find((b) => addressesCollide(b.address, address));
      if (other !== undefined) at.report(`address ${formatAddress(address)} collides with ${formatAddress(other.address)} at ${other.where}`);
      else bound.push({ address, where });
    };

    const adminValue = f.optional('admin');
    const admin = adminValue.object((a) => {
      const at = a.optional('address');
      return { at, address: at.parse((text) => parseAddress(text, { allowPortZero: true })) };
    });
    const adminAddress = admin?.address ?? { ...DEFAULTS.adminAddress };
    if (admin?.address !== undefined) onAddress(adminAddress, admin.at);
    else if (admin === undefined || !admin.at.isSet) onAddress(adminAddress, adminValue, 'admin.address (the default)');

    const listenerNames = new Unique('listener name');
    const listenerContext = { names: listenerNames, clusters: new Set(clusterNames.keys()), onAddress };
    const listeners = f.required('listeners').list((item) => readListener(item, listenerContext), { nonEmpty: true }) ?? [];

    const accessLog = f.optional('accessLog').object((a) => ({ path: a.required('path').string({ nonEmpty: true }) ?? '-' })) ?? null;

    return {
      admin: { address: adminAddress },
      listeners,
      clusters,
      accessLog,
      drainTimeoutMs: f.optional('drainTimeout').duration({ min: 0 }) ?? DEFAULTS.drainTimeoutMs,
      logLevel: f.optional('logLevel').oneOf(LOG_LEVELS, 'log level') ?? DEFAULTS.logLevel,
    };
  });
}
