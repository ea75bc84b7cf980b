// Istio security.istio.io kinds: AuthorizationPolicy (translated into the
// authz filter) and PeerAuthentication (accepted and checked; enforced once
// mTLS lands).

import type { Value } from '../../runtime/config/validator';
import { readSelector, unsupported } from './common';
import type { AuthorizationPolicyResource, Metadata, PeerAuthenticationResource } from './types';

const strings = (v: Value): string[] | undefined => v.list((s) => s.string({ nonEmpty: true }));

function stringFields(f: import('../../runtime/config/validator').Fields, names: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of names) {
    const list = strings(f.optional(name));
    if (list !== undefined) out[name] = list;
  }
  return out;
}

const WHEN_KEY = /^(request\.headers\[[^\]]+\]|request\.auth\.claims(\[[^\]]+\])+|request\.auth\.principal|request\.auth\.audiences|request\.auth\.presenter|source\.ip|destination\.port)$/;

export function readAuthorizationPolicy(spec: Value, metadata: Metadata): AuthorizationPolicyResource | undefined {
  return spec.object((f) => {
    const selector = readSelector(f.optional('selector'));
    unsupported(f, ['targetRef', 'targetRefs', 'provider'], 'not supported by wasmesh');
    const actionV = f.optional('action');
    const action = actionV.oneOf(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const, 'action') ?? 'ALLOW';
    if (action === 'CUSTOM') actionV.report('CUSTOM (an external authorizer) is not supported by wasmesh');
    const rules = f.optional('rules').list((r) => r.object((rf) => {
      const rule: Record<string, unknown> = {};
      const from = rf.optional('from').list((s) => s.object((sf) => {
        const source = sf.required('source').object((src) => {
          unsupported(src, ['remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts']);
          return stringFields(src, ['principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks']);
        });
        return source === undefined ? undefined : { source };
      }));
      if (from !== undefined) rule.from = from;
      const to = rf.optional('to').list((o) => o.object((of) => {
        const operation = of.required('operation').object((op) => stringFields(op, ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths']));
        return operation === undefined ? undefined : { operation };
      }));
      if (to !== undefined) rule.to = to;
      const when = rf.optional('when').list((c) => c.object((cf) => {
        const keyV = cf.required('key');
        const key = keyV.string({ nonEmpty: true });
        if (key !== undefined && !WHEN_KEY.test(key)) {
          keyV.report(`unsupported condition key ${JSON.stringify(key)} (supported: request.headers[NAME], request.auth.claims[NAME], request.auth.principal, request.auth.audiences, request.auth.presenter, source.ip, destination.port)`);
        }
        const values = strings(cf.optional('values'));
        const notValues = strings(cf.optional('notValues'));
        if (values === undefined && notValues === undefined) cf.owner.report('expected "values" and/or "notValues"');
        return { key: key ?? '', ...(values === undefined ? {} : { values }), ...(notValues === undefined ? {} : { notValues }) };
      }));
      if (when !== undefined) rule.when = when;
      return rule;
    })) ?? [];
    return { kind: 'AuthorizationPolicy' as const, metadata, selector, action: action === 'CUSTOM' ? 'DENY' : action, rules };
  });
}

const MTLS_MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;

export function readPeerAuthentication(spec: Value, metadata: Metadata): PeerAuthenticationResource | undefined {
  return spec.object((f) => {
    const selector = readSelector(f.optional('selector'));
    const mtlsMode = f.optional('mtls').object((m) => m.optional('mode').oneOf(MTLS_MODES, 'mTLS mode')) ?? 'UNSET';
    const portLevelMtls = f.optional('portLevelMtls').map((p, port) => {
      if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) p.report(`invalid port ${JSON.stringify(port)}`);
      return p.object((m) => m.optional('mode').oneOf(MTLS_MODES, 'mTLS mode')) ?? 'UNSET';
    });
    return { kind: 'PeerAuthentication' as const, metadata, selector, mtlsMode, portLevelMtls: Object.fromEntries(portLevelMtls ?? new Map()) };
  });
}
