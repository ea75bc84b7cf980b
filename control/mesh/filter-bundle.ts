// Native kind FilterBundle (wasmesh.io/v1alpha1): a third-party Wasm filter
// for the proxies a selector picks, modelled on Istio's WasmPlugin. The
// module comes from `module` (a file the CLI uploads) or `sha256` (already
// uploaded); translation (bundles.ts) needs the latter.

import { FAILURE_POLICIES, FILTER_LOG_LEVELS } from '../../runtime/config/listener';
import type { FilterConfig } from '../../runtime/config/types';
import type { Fields, Value } from '../../runtime/config/validator';
import { readSelector, unsupported } from './common';
import type { BundlePhase, FilterBundleResource, Metadata, WorkloadMode } from './types';

const SHA256 = /^[0-9a-f]{64}$/;
const PHASES: readonly BundlePhase[] = ['AUTHN', 'AUTHZ', 'STATS', 'UNSPECIFIED_PHASE'];
const FAIL_STRATEGIES = { FAIL_CLOSE: 'failClosed', FAIL_OPEN: 'failOpen', FAIL_RELOAD: 'reload' } as const;

export function readFilterBundle(spec: Value, metadata: Metadata): FilterBundleResource | undefined {
  return spec.object((f) => {
    const version = f.required('version').string({ nonEmpty: true }) ?? '';
    const moduleV = f.optional('module');
    const module = moduleV.string({ nonEmpty: true }) ?? null;
    const shaV = f.optional('sha256');
    let sha256 = typeof shaV.raw === 'number' ? null : shaV.string({ nonEmpty: true }) ?? null;
    if (typeof shaV.raw === 'number') shaV.report(`expected a string, got number ${shaV.raw} (quote the sha256: YAML reads a value of digits only as a number)`);
    if (sha256 !== null && !SHA256.test(sha256)) {
      shaV.report(`invalid sha256 ${JSON.stringify(sha256)} (expected 64 lowercase hex digits)`);
      sha256 = null;
    }
    if (!moduleV.isSet && !shaV.isSet) f.owner.report('one of "module" (a .wasm file, uploaded by `wasmesh apply`) or "sha256" is required');
    unsupported(f, ['url'], 'not supported by wasmesh (write "module: FILE.wasm"; `wasmesh apply` uploads it)');
    unsupported(f, ['imagePullPolicy', 'imagePullSecret', 'verificationKey', 'vmConfig', 'targetRef', 'targetRefs']);
    const typeV = f.optional('type');
    if (typeV.oneOf(['UNSPECIFIED_PLUGIN_TYPE', 'HTTP', 'NETWORK'] as const, 'plugin type') === 'NETWORK') {
      typeV.report('NETWORK is not supported by wasmesh (HTTP filters only)');
    }
    return {
      kind: 'FilterBundle' as const,
      metadata,
      version,
      module,
      sha256,
      selector: readSelector(f.optional('selector')),
      mode: readModes(f.optional('match')),
      phase: f.optional('phase').oneOf(PHASES, 'phase') ?? 'UNSPECIFIED_PHASE',
      priority: f.optional('priority').int({ min: -2147483648, max: 2147483647 }) ?? 0,
      pluginConfig: f.optional('pluginConfig').json() ?? null,
      rootId: readRootId(f) ?? metadata.name,
      vmId: f.optional('vmId').string({ nonEmpty: true }) ?? null,
      failurePolicy: readFailurePolicy(f),
      // Same ranges as the proxy's filter fields (runtime/config/listener.ts).
      maxMemoryBytes: f.optional('maxMemory').size({ min: 64 * 1024, max: 4 * 1024 * 1024 * 1024 - 65536 }) ?? null,
      executionBudget: f.optional('executionBudget').int({ min: 1000, max: 2_000_000_000 }) ?? null,
      maxBufferedBodyBytes: f.optional('maxBufferedBody').size({ min: 1024, max: 1024 * 1024 * 1024 }) ?? null,
      logLevel: f.optional('logLevel').oneOf(FILTER_LOG_LEVELS, 'log level') ?? null,
    };
  });
}

/** Istio's `match[].mode`; no entry (or a mode left out) means both sides, as in Istio. */
function readModes(v: Value): WorkloadMode {
  const modes = v.list((m) => m.object((mf) => {
    unsupported(mf, ['ports'], 'not supported by wasmesh (a bundle applies to every port of a listener)');
    const mode = mf.optional('mode').oneOf(['UNDEFINED', 'CLIENT', 'SERVER', 'CLIENT_AND_SERVER'] as const, 'mode');
    return mode === undefined || mode === 'UNDEFINED' ? 'CLIENT_AND_SERVER' : mode;
  })) ?? [];
  if (modes.length === 0 || modes.includes('CLIENT_AND_SERVER')) return 'CLIENT_AND_SERVER';
  return modes.includes('CLIENT') && modes.includes('SERVER') ? 'CLIENT_AND_SERVER' : modes[0]!;
}

/** `rootId`, or Istio's name for it, `pluginName`. */
function readRootId(f: Fields): string | undefined {
  const rootV = f.optional('rootId');
  const nameV = f.optional('pluginName');
  // An explicit empty rootId selects the module's default root context, as in the proxy config.
  const rootId = rootV.string();
  const pluginName = nameV.string({ nonEmpty: true });
  if (rootV.isSet && nameV.isSet) nameV.report('"pluginName" (Istio\'s name for rootId) and "rootId" cannot both be set');
  return rootId ?? pluginName;
}

/** Istio's `failStrategy` or the proxy's own `failurePolicy`, not both. */
function readFailurePolicy(f: Fields): FilterConfig['failurePolicy'] {
  const strategyV = f.optional('failStrategy');
  const policyV = f.optional('failurePolicy');
  const strategy = strategyV.oneOf(Object.keys(FAIL_STRATEGIES) as (keyof typeof FAIL_STRATEGIES)[], 'fail strategy');
  const policy = policyV.oneOf(FAILURE_POLICIES, 'failure policy');
  if (strategyV.isSet && policyV.isSet) policyV.report('"failStrategy" and "failurePolicy" cannot both be set');
  return policy ?? (strategy === undefined ? 'failClosed' : FAIL_STRATEGIES[strategy]);
}
