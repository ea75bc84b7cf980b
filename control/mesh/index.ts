// The mesh config model of the control plane and its translation into proxy configs.
export { parseMesh, resolveHost, SUPPORTED_KINDS, type MeshSource } from './parse';
export {
  buildProxyConfig, buildProxyDocument, renderProxyConfig, validateProxyDocument, type BuildOptions, type GatewayTarget, type SidecarTarget, type Target,
} from './translate';
export { serviceEndpoints, type Instance, type ServiceEndpoint } from './instances';
export { listFilters, listRoutes, listServices, type FilterInfo, type RouteInfo, type ServiceInfo } from './listing';
export * from './types';
