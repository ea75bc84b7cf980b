import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadOrCreateToken, StoreError, TOKEN_FILE, tokensEqual } from '../../../control/store';
import { STORE_MODULE, tempDataDir } from './helpers';

test('the token is created once, 32 random bytes base64url, mode 0600, stable across restarts', async (t) => {
  const dir = path.join(tempDataDir(t), 'nested', 'data');
  const first = await loadOrCreateToken(dir);
  assert.equal(first.created, true);
  assert.equal(first.path, path.join(dir, TOKEN_FILE));
  assert.match(first.token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(first.token, 'base64url').length, 32);
  assert.equal(fs.statSync(first.path).mode & 0o777, 0o600);
  assert.equal(fs.readFileSync(first.path, 'utf8').trim(), first.token);
  const again = await loadOrCreateToken(dir);
  assert.deepEqual(again, { ...first, created: false });
  // A restart is a new process.
  const script = `require(${JSON.stringify(STORE_MODULE)}).loadOrCreateToken(process.argv[1]).then((r) => process.stdout.write(JSON.stringify(r)))`;
  const child = JSON.parse(execFileSync(process.execPath, ['-e', script, dir], { encoding: 'utf8' }));
  assert.equal(child.token, first.token);
  assert.equal(child.created, false);
  assert.deepEqual(fs.readdirSync(dir), [TOKEN_FILE], 'no temp files left behind');
});

test('concurrent first starts agree on one token', async (t) => {
  const dir = tempDataDir(t);
  const all = await Promise.all(Array.from({ length: 10 }, () => loadOrCreateToken(dir)));
  assert.equal(new Set(all.map((r) => r.token)).size, 1);
  assert.equal(all.filter((r) => r.created).length, 1);
});

test('distinct data dirs get distinct tokens', async (t) => {
  const a = await loadOrCreateToken(tempDataDir(t));
  const b = await loadOrCreateToken(tempDataDir(t));
  assert.notEqual(a.token, b.token);
});

test('an operator-provided token is used; an insecure or empty one is refused', async (t) => {
  const dir = tempDataDir(t);
  const file = path.join(dir, TOKEN_FILE);
  fs.writeFileSync(file, 'my-operator-chosen-token-123\n', { mode: 0o600 });
  assert.deepEqual(await loadOrCreateToken(dir), { token: 'my-operator-chosen-token-123', path: file, created: false });
  fs.chmodSync(file, 0o644);
  await assert.rejects(loadOrCreateToken(dir), (e) => e instanceof StoreError && e.code === 'STORE_TOKEN_INSECURE' && e.path === file);
  fs.writeFileSync(file, '  \n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  await assert.rejects(loadOrCreateToken(dir), (e) => (e as StoreError).code === 'STORE_CORRUPT');
});

test('tokensEqual compares in constant time and never matches empty or non-strings', () => {
  assert.equal(tokensEqual('abc', 'abc'), true);
  assert.equal(tokensEqual('abc', 'abd'), false);
  assert.equal(tokensEqual('abc', 'abcd'), false);
  assert.equal(tokensEqual('', ''), false);
  assert.equal(tokensEqual(undefined, undefined), false);
  assert.equal(tokensEqual('abc', undefined), false);
  assert.equal(tokensEqual(['abc'], 'abc'), false);
});
