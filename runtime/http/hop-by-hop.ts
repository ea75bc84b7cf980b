// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
// A proxy must not forward them. `expect` is answered locally (uWS sends
// 100 Continue itself) and framing headers are re-derived per hop.

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'content-length']);

export function isHopByHop(lowerName: string): boolean {
  return HOP.has(lowerName);
}

/** Extra hop-by-hop names listed in a Connection header value, or null. */
export function connectionTokens(value: string): string[] | null {
  if (value === '' || value === 'close' || value === 'keep-alive') return null;
  const out: string[] = [];
  for (const t of value.split(',')) {
    const n = t.trim().toLowerCase();
    if (n && n !== 'close' && n !== 'keep-alive') out.push(n);
  }
  return out.length ? out : null;
}
