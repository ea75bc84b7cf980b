// Public surface of the proxy config module.
export { parseProxyConfig, loadProxyConfigFile } from './load';
export { DEFAULTS } from './defaults';
export { parseDuration, formatDuration } from './duration';
export { parseSize, formatSize } from './size';
export { parseAddress, formatAddress } from './address';
export * from './types';
