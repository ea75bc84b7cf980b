// The `hashOn` key of ring_hash / maglev clusters:
// header:NAME | cookie:NAME | query:NAME | source_ip.

import type { HashOn } from './types';
import type { Parsed } from './parsed';

export const HASH_ON_FORMS = 'header:NAME, cookie:NAME, query:NAME or source_ip';
/** RFC 9110 token characters: what header and cookie names are made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseHashOn(text: string): Parsed<HashOn> {
  if (text === 'source_ip') return { ok: true, value: { kind: 'source_ip' } };
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const name = colon < 0 ? '' : text.slice(colon + 1);
  if (colon < 0 || (kind !== 'header' && kind !== 'cookie' && kind !== 'query')) {
    return { ok: false, error: `invalid hash key ${JSON.stringify(text)} (expected ${HASH_ON_FORMS})` };
  }
  if (name === '') return { ok: false, error: `invalid hash key ${JSON.stringify(text)}: the ${kind} name is empty` };
  if (kind === 'query') {
    if (/[\s&=#]/.test(name)) return { ok: false, error: `invalid hash key ${JSON.stringify(text)}: ${JSON.stringify(name)} is not a valid query parameter name` };
    return { ok: true, value: { kind, name } };
  }
  if (!TOKEN.test(name)) return { ok: false, error: `invalid hash key ${JSON.stringify(text)}: ${JSON.stringify(name)} is not a valid ${kind} name` };
  // Header names are case-insensitive and the proxy stores them lower-case; cookie names are case-sensitive.
  return { ok: true, value: kind === 'header' ? { kind, name: name.toLowerCase() } : { kind, name } };
}
