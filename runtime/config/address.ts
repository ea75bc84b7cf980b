// `host:port` addresses: an IPv4 literal, a bracketed IPv6 literal
// (`[::1]:8080`) or a DNS hostname. Hosts come out normalised: hostnames
// lower-cased, IPv6 in canonical compressed form without brackets.

import { isIPv6 } from 'node:net';
import type { Address } from './types';
import type { Parsed } from './parsed';

export interface AddressOptions {
  /** Accept port 0 ("any free port"); only meaningful for addresses we listen on. */
  allowPortZero?: boolean;
}

const EXAMPLE = 'host:port, like "127.0.0.1:8080", "[::1]:8080" or "web.local:80"';
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseAddress(text: string, options: AddressOptions = {}): Parsed<Address> {
  const bad = (why: string): Parsed<Address> => ({ ok: false, error: `invalid address ${JSON.stringify(text)}: ${why}` });
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return bad(`expected ${EXAMPLE}`);
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!isIPv6(host)) return bad(`${JSON.stringify(host)} is not an IPv6 address`);
    host = canonicalIPv6(host);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return bad(`missing port (expected ${EXAMPLE})`);
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) {
      return isIPv6(host) ? bad(`IPv6 addresses need brackets, like "[${host}]:${portText}"`) : bad(`expected ${EXAMPLE}`);
    }
    if (host === '') return bad(`missing host (expected ${EXAMPLE})`);
    if (/^[0-9.]+$/.test(host)) {
      if (!isStrictIPv4(host)) return bad(`${JSON.stringify(host)} is not a valid IPv4 address`);
    } else {
      host = host.toLowerCase();
      if (!isHostname(host)) return bad(`${JSON.stringify(host)} is not a valid IP address or hostname`);
    }
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return bad(`port ${JSON.stringify(portText)} is not a number`);
  const port = Number(portText);
  const minPort = options.allowPortZero ? 0 : 1;
  if (port < minPort || port > 65535) return bad(`port must be between ${minPort} and 65535`);
  return { ok: true, value: { host, port } };
}

/** "host:port", with IPv6 hosts in brackets. */
export function formatAddress(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Whether two listening sockets on these addresses would fail with EADDRINUSE (as far as we can tell without DNS). */
export function addressesCollide(a: Address, b: Address): boolean {
  if (a.port !== b.port || a.port === 0) return false;
  if (a.host === b.host) return true;
  // `::` is dual-stack in Node.js and takes the port on every address;
  // `0.0.0.0` takes it on every IPv4 address.
  if (a.host === '::' || b.host === '::') return true;
  const v4 = (h: string): boolean => isStrictIPv4(h);
  return (a.host === '0.0.0.0' && v4(b.host)) || (b.host === '0.0.0.0' && v4(a.host));
}

/** Dotted-quad with each part 0-255 and no leading zeros (which some resolvers read as octal). */
function isStrictIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

function isHostname(s: string): boolean {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => LABEL.test(label));
}

function canonicalIPv6(host: string): string {
  if (host.includes('%')) return host.toLowerCase(); // zone ids: URL cannot parse them, keep as written
  return new URL(`http://[${host}]/`).hostname.slice(1, -1);
}
