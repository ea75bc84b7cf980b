// The `clusters[]` section: upstream endpoints and how to reach them.

import { DEFAULTS } from './defaults';
import { formatAddress, parseAddress } from './address';
import { formatDuration } from './duration';
import { HASH_ON_FORMS, parseHashOn } from './hash-on';
import { parseName, Unique } from './names';
import { LB_POLICIES, type Address, type ClusterConfig, type HealthCheckConfig, type LbPolicy, type OutlierDetectionConfig } from './types';
import type { Parsed } from './parsed';
import type { Value } from './validator';

const HASHING_POLICIES: readonly LbPolicy[] = ['ring_hash', 'maglev'];
const POSITIVE = { min: 1 };

export function readCluster(v: Value, names: Unique): ClusterConfig | undefined {
  return v.object((f) => {
    const nameValue = f.required('name');
    const name = nameValue.parse(parseName);
    if (name !== undefined) names.check(name, nameValue);

    const endpoints = readEndpoints(f.required('endpoints'));

    const lbValue = f.optional('lb');
    const lb = lbValue.isSet ? lbValue.oneOf(LB_POLICIES, 'policy') : DEFAULTS.cluster.lb;
    const hashOnValue = f.optional('hashOn');
    const hashOn = hashOnValue.parse(parseHashOn) ?? null;
    if (lb !== undefined) {
      const hashing = HASHING_POLICIES.includes(lb);
      if (hashing && !hashOnValue.isSet) hashOnValue.report(`required when lb is ${lb} (expected ${HASH_ON_FORMS})`);
      // hashOn is accepted with any policy (the issue's own example pairs it with round_robin); only ring_hash and maglev read it.
    }

    return {
      name: name ?? '',
      endpoints: endpoints ?? [],
      lb: lb ?? DEFAULTS.cluster.lb,
      hashOn,
      connectTimeoutMs: f.optional('connectTimeout').duration(POSITIVE) ?? DEFAULTS.cluster.connectTimeoutMs,
      timeoutMs: f.optional('timeout').duration(POSITIVE) ?? DEFAULTS.cluster.timeoutMs,
      maxConnections: f.optional('maxConnections').int(POSITIVE) ?? DEFAULTS.cluster.maxConnections,
      maxPendingRequests: f.optional('maxPendingRequests').int(POSITIVE) ?? DEFAULTS.cluster.maxPendingRequests,
      idleTimeoutMs: f.optional('idleTimeout').duration(POSITIVE) ?? DEFAULTS.cluster.idleTimeoutMs,
      healthCheck: readHealthCheck(f.optional('healthCheck')) ?? null,
      outlierDetection: readOutlierDetection(f.optional('outlierDetection')) ?? null,
    };
  });
}

function readEndpoints(v: Value): Address[] | undefined {
  const seen = new Unique('endpoint');
  return v.list(
    (item) => {
      const address = item.parse((text) => parseAddress(text));
      return address !== undefined && seen.check(formatAddress(address), item, formatAddress(address)) ? address : undefined;
    },
  );
}

function readHealthCheck(v: Value): HealthCheckConfig | undefined {
  return v.object((f) => {
    const d = DEFAULTS.healthCheck;
    const path = f.required('path').parse(parseHttpPath);
    const intervalMs = f.optional('interval').duration(POSITIVE) ?? d.intervalMs;
    // The default timeout shrinks to fit a short interval; an explicit one must fit.
    const timeoutValue = f.optional('timeout');
    let timeoutMs = timeoutValue.duration(POSITIVE) ?? Math.min(d.timeoutMs, intervalMs);
    if (timeoutMs > intervalMs) {
      timeoutValue.report(`must not be longer than interval (${formatDuration(intervalMs)})`);
      timeoutMs = intervalMs;
    }
    return {
      path: path ?? '/',
      intervalMs,
      timeoutMs,
      unhealthyThreshold: f.optional('unhealthyThreshold').int(POSITIVE) ?? d.unhealthyThreshold,
      healthyThreshold: f.optional('healthyThreshold').int(POSITIVE) ?? d.healthyThreshold,
    };
  });
}

function readOutlierDetection(v: Value): OutlierDetectionConfig | undefined {
  return v.object((f) => {
    const d = DEFAULTS.outlierDetection;
    return {
      consecutive5xx: f.optional('consecutive5xx').int(POSITIVE) ?? d.consecutive5xx,
      intervalMs: f.optional('interval').duration(POSITIVE) ?? d.intervalMs,
      baseEjectionTimeMs: f.optional('baseEjectionTime').duration(POSITIVE) ?? d.baseEjectionTimeMs,
      maxEjectionPercent: f.optional('maxEjectionPercent').int({ min: 0, max: 100 }) ?? d.maxEjectionPercent,
    };
  });
}

/** An origin-form request path: starts with "/", no whitespace or control characters. */
function parseHttpPath(text: string): Parsed<string> {
  if (!text.startsWith('/')) return { ok: false, error: `invalid path ${JSON.stringify(text)} (must start with "/")` };
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f#]/.test(text)) return { ok: false, error: `invalid path ${JSON.stringify(text)} (no whitespace, control characters or "#")` };
  return { ok: true, value: text };
}
