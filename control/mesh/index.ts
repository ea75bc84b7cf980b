// The mesh config model of the control plane and its translation into proxy configs.
export { parseMesh, resolveHost, SUPPORTED_KINDS } from './parse';
export { buildProxyConfig, buildProxyDocument, renderProxyConfig, type Target } from './translate';
export * from './types';
