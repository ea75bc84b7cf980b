// Native kinds (apiVersion wasmesh.io/v1alpha1): Service and RateLimit.

import { formatAddress, parseAddress } from '../../runtime/config/address';
import type { Value } from '../../runtime/config/validator';
import { readStringMap } from './common';
import type { Metadata, RateLimitResource, ServiceResource } from './types';

export function readService(spec: Value, metadata: Metadata): ServiceResource | undefined {
  return spec.object((f) => {
    const portNames = new Set<string>();
    const ports = f.optional('ports').list((p) => p.object((pf) => {
      const nameV = pf.optional('name');
      const name = nameV.string({ nonEmpty: true }) ?? '';
      if (name !== '' && portNames.has(name)) nameV.report(`duplicate port name ${JSON.stringify(name)}`);
      portNames.add(name);
      const protoV = pf.optional('protocol');
      const protocol = protoV.oneOf(['HTTP', 'TCP', 'GRPC', 'HTTP2'] as const, 'protocol');
      if (protocol !== undefined && protocol !== 'HTTP') protoV.report(`${protocol} is not supported by wasmesh (HTTP only)`);
      return { name, port: pf.required('port').int({ min: 1, max: 65535 }) ?? 0 };
    })) ?? [];
    const seen = new Set<string>();
    const endpoints = f.optional('endpoints').list((e) => e.object((ef) => {
      const addressV = ef.required('address');
      const address = addressV.parse((t) => parseAddress(t));
      if (address !== undefined) {
        const key = formatAddress(address);
        if (seen.has(key)) addressV.report(`duplicate endpoint ${key}`);
        seen.add(key);
      }
      const labels = readStringMap(ef.optional('labels')) ?? {};
      return address === undefined ? undefined : { address, labels };
    })) ?? [];
    return { kind: 'Service' as const, metadata, ports, endpoints };
  });
}

const KEY = /^(header:.+|path|source_ip|const:.+)$/;

export function readRateLimit(spec: Value, metadata: Metadata): RateLimitResource | undefined {
  return spec.object((f) => {
    const gateways = f.optional('gateways').list((g) => g.string({ nonEmpty: true })) ?? [];
    const descriptors = f.required('descriptors').list((d) => d.object((df) => {
      const keyV = df.required('key');
      const key = keyV.string({ nonEmpty: true });
      if (key !== undefined && !KEY.test(key)) keyV.report(`invalid key ${JSON.stringify(key)} (expected header:NAME, path, source_ip or const:VALUE)`);
      return {
        key: key ?? '',
        requestsPerUnit: df.required('requestsPerUnit').int({ min: 1 }) ?? 1,
        unit: df.optional('unit').oneOf(['second', 'minute', 'hour', 'day'] as const, 'unit') ?? 'second',
        burst: df.optional('burst').int({ min: 1 }) ?? null,
      };
    }), { nonEmpty: true }) ?? [];
    return { kind: 'RateLimit' as const, metadata, gateways, descriptors, failOpen: f.optional('failOpen').bool() ?? false };
  });
}
