import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { murmur3, murmur3Bytes, hashString } from '../../runtime/cluster/hash';
import { computeHashKey, cookieValue, hashCookie, hashKeyOf, type HashKeySource } from '../../runtime/cluster/hash-key';

test('murmur3 matches the published MurmurHash3_x86_32 vectors', () => {
  const vectors: Array<[string, number, number]> = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['\0\0\0\0', 0, 0x2362f9de],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['abc', 0, 0xb3dd93fa],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ];
  for (const [s, seed, want] of vectors) assert.equal(murmur3(s, seed), want, JSON.stringify(s));
});

test('murmur3 hashes non-ASCII strings as their UTF-8 bytes', () => {
  // Expected values from an independent byte-level reference implementation.
  const vectors: Array<[string, number]> = [
    ['ππππ', 0x474dc9a8],
    ['héllo wörld', 0xbc4761f3],
    ['日本語テキスト', 0x847c2259],
  ];
  for (const [s, want] of vectors) {
    assert.equal(murmur3(s, 0x9747b28c), want, s);
    assert.equal(murmur3Bytes(Buffer.from(s, 'utf8'), 0, Buffer.byteLength(s), 0x9747b28c), want, s);
    // A range inside a longer string hashes like the substring.
    assert.equal(murmur3(`xx${s}yy`, 0x9747b28c, 2, 2 + s.length), want, s);
  }
  assert.equal(murmur3('abcdefgh', 0, 2, 5), murmur3('cde', 0));
  assert.equal(hashString('abc'), 0xb3dd93fa);
});

function source(headers: Record<string, string>, query: Record<string, string>, ip: string): HashKeySource {
  return {
    header: (n) => headers[n.toLowerCase()],
    query: (n) => query[n],
    sourceIp: () => ip,
  };
}

test('computeHashKey hashes the configured header, cookie, query param or source IP', () => {
  const src = source({ 'x-user': 'alice', cookie: 'a=1; session=abc123; b=2' }, { tenant: 't-9' }, '10.1.2.3');
  assert.equal(computeHashKey({ kind: 'header', name: 'x-user' }, src), murmur3('alice'));
  assert.equal(computeHashKey({ kind: 'cookie', name: 'session' }, src), murmur3('abc123'));
  assert.equal(computeHashKey({ kind: 'query', name: 'tenant' }, src), murmur3('t-9'));
  assert.equal(computeHashKey({ kind: 'source_ip' }, src), murmur3('10.1.2.3'));
  assert.equal(hashKeyOf('alice'), murmur3('alice'));
});

test('computeHashKey returns -1 when the value is absent or no hashOn is configured', () => {
  const src = source({ cookie: 'a=1' }, {}, '');
  assert.equal(computeHashKey(null, src), -1);
  assert.equal(computeHashKey({ kind: 'header', name: 'x-user' }, src), -1);
  assert.equal(computeHashKey({ kind: 'cookie', name: 'session' }, src), -1);
  assert.equal(computeHashKey({ kind: 'cookie', name: 'session' }, source({}, {}, '')), -1);
  assert.equal(computeHashKey({ kind: 'query', name: 'tenant' }, src), -1);
  assert.equal(computeHashKey({ kind: 'source_ip' }, src), -1);
  // Present but empty is a value.
  assert.equal(computeHashKey({ kind: 'header', name: 'x-e' }, source({ 'x-e': '' }, {}, '')), murmur3(''));
});

test('cookie parsing: exact names, spacing, quotes, first occurrence', () => {
  const h = 'sessionx=no;session = bad; xsession=no;  session="q v" ; session=second';
  // "session = bad" is not a valid pair for name "session" (space before '='), so the quoted one is found.
  assert.equal(cookieValue(h, 'session'), 'q v');
  assert.equal(hashCookie(h, 'session'), murmur3('q v'));
  assert.equal(cookieValue('a=1;b=2', 'b'), '2');
  assert.equal(cookieValue('a=1; b=', 'b'), '');
  assert.equal(cookieValue('a=x=y; b=2', 'a'), 'x=y');
  assert.equal(cookieValue('A=1', 'a'), null, 'names are case-sensitive');
  assert.equal(cookieValue('ab=1', 'b'), null);
  assert.equal(cookieValue('', 'a'), null);
  assert.equal(hashCookie('a=1', 'b'), -1);
  assert.equal(cookieValue('a=1; c=ü', 'c'), 'ü');
  assert.equal(hashCookie('a=1; c=ü', 'c'), murmur3('ü'));
});
