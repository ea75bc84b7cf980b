import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressesCollide, formatAddress, parseAddress } from '../../runtime/config/address';

test('addresses: IPv4, bracketed IPv6 (canonicalised) and hostnames (lower-cased)', () => {
  const cases: [string, string, number][] = [
    ['127.0.0.1:8080', '127.0.0.1', 8080],
    ['0.0.0.0:1', '0.0.0.0', 1],
    ['255.255.255.255:65535', '255.255.255.255', 65535],
    ['[::1]:8080', '::1', 8080],
    ['[0:0:0:0:0:0:0:1]:80', '::1', 80],
    ['[2001:DB8::A]:443', '2001:db8::a', 443],
    ['[::]:80', '::', 80],
    ['localhost:9000', 'localhost', 9000],
    ['Web.Default.svc.cluster.local:80', 'web.default.svc.cluster.local', 80],
    ['example.com.:80', 'example.com.', 80],
    ['a-b.c1:80', 'a-b.c1', 80],
  ];
  for (const [text, host, port] of cases) assert.deepEqual(parseAddress(text), { ok: true, value: { host, port } }, text);
});

test('addresses: every kind of mistake has its own message', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', 'missing port (expected host:port, like "127.0.0.1:8080", "[::1]:8080" or "web.local:80")'],
    [':80', 'missing host (expected host:port, like "127.0.0.1:8080", "[::1]:8080" or "web.local:80")'],
    ['127.0.0.1:', 'port "" is not a number'],
    ['127.0.0.1:http', 'port "http" is not a number'],
    ['127.0.0.1:-1', 'port "-1" is not a number'],
    ['127.0.0.1:65536', 'port must be between 1 and 65535'],
    ['127.0.0.1:0', 'port must be between 1 and 65535'],
    ['300.1.1.1:80', '"300.1.1.1" is not a valid IPv4 address'],
    ['1.2.3:80', '"1.2.3" is not a valid IPv4 address'],
    ['010.0.0.1:80', '"010.0.0.1" is not a valid IPv4 address'],
    ['::1:80', 'IPv6 addresses need brackets, like "[::1]:80"'],
    ['[::1]80', 'expected host:port, like "127.0.0.1:8080", "[::1]:8080" or "web.local:80"'],
    ['[::g]:80', '"::g" is not an IPv6 address'],
    ['foo_bar:80', '"foo_bar" is not a valid IP address or hostname'],
    ['-web:80', '"-web" is not a valid IP address or hostname'],
    ['a..b:80', '"a..b" is not a valid IP address or hostname'],
    ['web local:80', '"web local" is not a valid IP address or hostname'],
  ];
  for (const [text, why] of cases) {
    assert.deepEqual(parseAddress(text), { ok: false, error: `invalid address ${JSON.stringify(text)}: ${why}` }, text);
  }
});

test('port 0 only where allowed', () => {
  assert.deepEqual(parseAddress('127.0.0.1:0', { allowPortZero: true }), { ok: true, value: { host: '127.0.0.1', port: 0 } });
  assert.deepEqual(parseAddress('127.0.0.1:65536', { allowPortZero: true }), {
    ok: false,
    error: 'invalid address "127.0.0.1:65536": port must be between 0 and 65535',
  });
});

test('formatAddress brackets IPv6', () => {
  assert.equal(formatAddress({ host: '::1', port: 80 }), '[::1]:80');
  assert.equal(formatAddress({ host: 'web', port: 80 }), 'web:80');
});

test('collisions: same host and port, or a wildcard on the same port; never port 0', () => {
  const a = (host: string, port = 80) => ({ host, port });
  assert.equal(addressesCollide(a('127.0.0.1'), a('127.0.0.1')), true);
  assert.equal(addressesCollide(a('127.0.0.1'), a('127.0.0.1', 81)), false);
  assert.equal(addressesCollide(a('127.0.0.1'), a('127.0.0.2')), false);
  assert.equal(addressesCollide(a('0.0.0.0'), a('10.1.2.3')), true);
  assert.equal(addressesCollide(a('0.0.0.0'), a('::1')), false);
  assert.equal(addressesCollide(a('::'), a('10.1.2.3')), true);
  assert.equal(addressesCollide(a('::'), a('0.0.0.0')), true);
  assert.equal(addressesCollide(a('127.0.0.1', 0), a('127.0.0.1', 0)), false);
});
