import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { FileStore, HISTORY_DIR, INDEX_FILE, StoreError } from '../../../control/store';
import { isWasmeshError } from '../../../runtime/core/errors';
import { deadPid, doc, tempDataDir } from './helpers';

const vfile = (dir: string, v: number) => path.join(dir, HISTORY_DIR, `v${String(v).padStart(10, '0')}.json`);
const indexFile = (dir: string) => path.join(dir, HISTORY_DIR, INDEX_FILE);

function code(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

test('an empty store has no current version and no history', async (t) => {
  const dir = tempDataDir(t);
  const s = await FileStore.open(dir);
  t.after(() => s.close());
  assert.equal(await s.current(), null);
  assert.deepEqual(await s.history(), []);
  assert.equal(await s.get(1), null);
  await assert.rejects(s.rollback(), (e) => code(e) === 'STORE_NOT_FOUND');
});

test('apply numbers versions from 1 with sha256, author, message and an ISO timestamp', async (t) => {
  const dir = tempDataDir(t);
  const s = await FileStore.open(dir, { now: () => new Date('2025-01-02T03:04:05.000Z') });
  t.after(() => s.close());
  const a = await s.apply(doc('reviews', 90), { author: 'alice', message: 'canary 10%' });
  const b = await s.apply(doc('reviews', 50));
  assert.equal(a.version, 1);
  assert.equal(b.version, 2);
  assert.equal(a.sha256, createHash('sha256').update(doc('reviews', 90)).digest('hex'));
  assert.equal(a.createdAt, '2025-01-02T03:04:05.000Z');
  assert.equal(a.author, 'alice');
  assert.equal(a.message, 'canary 10%');
  assert.equal(b.author, '');
  assert.equal(b.message, '');
  assert.equal(a.size, Buffer.byteLength(a.content));
  assert.deepEqual(await s.current(), b);
  assert.deepEqual(await s.get(1), a);
  assert.deepEqual((await s.history()).map((v) => v.version), [2, 1]);
  assert.deepEqual((await s.history(1)).map((v) => v.version), [2]);
  assert.ok(!('content' in (await s.history())[0]!));
  // Each version is its own file, mode 0600, verified on read.
  assert.ok(fs.existsSync(vfile(dir, 1)) && fs.existsSync(vfile(dir, 2)));
  assert.equal(fs.statSync(vfile(dir, 1)).mode & 0o777, 0o600);
});

test('a new instance restores current and history from disk', async (t) => {
  const dir = tempDataDir(t);
  const s1 = await FileStore.open(dir);
  await s1.apply(doc('a', 90), { author: 'x' });
  await s1.apply(doc('a', 80), { message: 'm' });
  const h1 = await s1.history();
  const c1 = await s1.current();
  await s1.close();
  const s2 = await FileStore.open(dir);
  t.after(() => s2.close());
  assert.equal(s2.indexState, 'ok');
  assert.deepEqual(await s2.current(), c1);
  assert.deepEqual(await s2.history(), h1);
  assert.equal((await s2.apply(doc('a', 70))).version, 3);
});

test('rollback creates a new version with the old content; versions never repeat', async (t) => {
  const dir = tempDataDir(t);
  const s = await FileStore.open(dir);
  t.after(() => s.close());
  const v1 = await s.apply(doc('r', 90));
  await s.apply(doc('r', 50));
  const v3 = await s.apply(doc('r', 10));
  const r = await s.rollback(1, { author: 'bob' });
  assert.equal(r.version, 4);
  assert.equal(r.content, v1.content);
  assert.equal(r.sha256, v1.sha256);
  assert.equal(r.rollbackOf, 1);
  assert.equal(r.author, 'bob');
  assert.equal(r.message, 'rollback to version 1');
  assert.deepEqual(await s.current(), r);
  // Without a version: the one before the current (like `kubectl rollout undo`), i.e. back to v3.
  const undo = await s.rollback();
  assert.equal(undo.version, 5);
  assert.equal(undo.content, v3.content);
  assert.equal(undo.rollbackOf, 3);
  assert.deepEqual((await s.history()).map((v) => v.version), [5, 4, 3, 2, 1]);
  await assert.rejects(s.rollback(42), (e) => e instanceof StoreError && e.code === 'STORE_NOT_FOUND' && isWasmeshError(e));
  assert.equal((await s.current())!.version, 5);
});

test('concurrent applies are serialised into distinct consecutive versions', async (t) => {
  const dir = tempDataDir(t);
  const s = await FileStore.open(dir);
  t.after(() => s.close());
  const snaps = await Promise.all(Array.from({ length: 20 }, (_, i) => s.apply(doc('c', i))));
  assert.deepEqual(snaps.map((x) => x.version), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal((await s.current())!.content, doc('c', 19));
  const again = await FileStore.open(dir).catch((e) => e);
  assert.equal(code(again), 'STORE_LOCKED');
});

test('bad arguments are rejected with STORE_INVALID_ARGUMENT and change nothing', async (t) => {
  const dir = tempDataDir(t);
  await assert.rejects(FileStore.open(dir, { retain: 0 }), (e) => code(e) === 'STORE_INVALID_ARGUMENT');
  const s = await FileStore.open(dir);
  t.after(() => s.close());
  await s.apply('kind: X\n');
  await assert.rejects(s.apply(undefined as unknown as string), (e) => code(e) === 'STORE_INVALID_ARGUMENT');
  await assert.rejects(s.apply('a', { author: 5 as unknown as string }), (e) => code(e) === 'STORE_INVALID_ARGUMENT');
  await assert.rejects(s.get(0), (e) => code(e) === 'STORE_INVALID_ARGUMENT');
  await assert.rejects(s.rollback(1.5), (e) => code(e) === 'STORE_INVALID_ARGUMENT');
  await assert.rejects(s.history(-1), (e) => code(e) === 'STORE_INVALID_ARGUMENT');
  assert.deepEqual((await s.history()).map((v) => v.version), [1]);
  assert.equal((await s.apply('kind: Y\n')).version, 2);
});

test('a closed store refuses calls with STORE_CLOSED and releases the lock', async (t) => {
  const dir = tempDataDir(t);
  const s = await FileStore.open(dir);
  await s.close();
  await s.close();
  await assert.rejects(s.apply('x'), (e) => code(e) === 'STORE_CLOSED');
  await assert.rejects(s.current(), (e) => code(e) === 'STORE_CLOSED');
  const s2 = await FileStore.open(dir);
  await s2.close();
});

for (const [what, damage, state] of [
  ['missing', (f: string) => fs.unlinkSync(f), 'missing'],
  ['truncated', (f: string) => fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2)), 'corrupt'],
  ['garbage', (f: string) => fs.writeFileSync(f, '\0\0\0 not json'), 'corrupt'],
  ['wrong-shape', (f: string) => fs.writeFileSync(f, JSON.stringify({ format: 1, versions: [{ version: 'x' }] })), 'corrupt'],
] as const) {
  test(`a ${what} index is rebuilt from the version files`, async (t) => {
    const dir = tempDataDir(t);
    const s1 = await FileStore.open(dir);
    await s1.apply(doc('i', 1), { author: 'a', message: 'one' });
    await s1.apply(doc('i', 2));
    await s1.rollback(1);
    const history = await s1.history();
    await s1.close();
    damage(indexFile(dir));
    const s2 = await FileStore.open(dir);
    t.after(() => s2.close());
    assert.equal(s2.indexState, state);
    assert.deepEqual(await s2.history(), history);
    assert.equal((await s2.current())!.version, 3);
    // The rebuilt index was written back.
    assert.deepEqual(JSON.parse(fs.readFileSync(indexFile(dir), 'utf8')).versions, [...history].reverse());
  });
}

test('a crash between the version file and the index (stale index) loses nothing', async (t) => {
  const dir = tempDataDir(t);
  const s1 = await FileStore.open(dir);
  await s1.apply(doc('s', 1));
  await s1.apply(doc('s', 2));
  const before = fs.readFileSync(indexFile(dir));
  const v3 = await s1.apply(doc('s', 3), { message: 'committed, index not yet' });
  await s1.close();
  fs.writeFileSync(indexFile(dir), before); // as if the process died right after committing v3
  const s2 = await FileStore.open(dir);
  t.after(() => s2.close());
  assert.equal(s2.indexState, 'stale');
  assert.deepEqual(await s2.current(), v3);
  assert.deepEqual((await s2.history()).map((v) => v.version), [3, 2, 1]);
  assert.equal((await s2.apply(doc('s', 4))).version, 4);
});

test('an index whose newest entry disagrees with the newest file is rebuilt', async (t) => {
  const dir = tempDataDir(t);
  const s1 = await FileStore.open(dir);
  await s1.apply(doc('d', 1), { message: 'real' });
  await s1.close();
  const idx = JSON.parse(fs.readFileSync(indexFile(dir), 'utf8'));
  idx.versions[0].message = 'forged';
  fs.writeFileSync(indexFile(dir), JSON.stringify(idx));
  const s2 = await FileStore.open(dir);
  t.after(() => s2.close());
  assert.equal(s2.indexState, 'stale');
  assert.equal((await s2.history())[0]!.message, 'real');
});

test('leftover temp files from a crash are ignored and cleaned on open', async (t) => {
  const dir = tempDataDir(t);
  const s1 = await FileStore.open(dir);
  await s1.apply(doc('t', 1));
  await s1.close();
  const h = path.join(dir, HISTORY_DIR);
  // A half-written next version and a half-written index, as a crash mid-write leaves them.
  const half = JSON.stringify({ format: 1, version: 2, content: 'kind: Half' }).slice(0, 20);
  fs.writeFileSync(path.join(h, `.tmp-${deadPid()}-aaaa`), half);
  fs.writeFileSync(path.join(h, '.tmp-1-bbbb'), '{"format":1,"vers');
  // A temp file of a dead process in the data dir (lock or token creation), and one of a live one.
  const deadTmp = path.join(dir, `.tmp-${deadPid()}-cccc`);
  const liveTmp = path.join(dir, `.tmp-${process.ppid}-dddd`);
  fs.writeFileSync(deadTmp, 'x');
  fs.writeFileSync(liveTmp, 'x');
  const s2 = await FileStore.open(dir);
  t.after(() => s2.close());
  assert.equal(s2.indexState, 'ok');
  assert.deepEqual(fs.readdirSync(h).filter((n) => n.startsWith('.tmp-')), []);
  assert.ok(!fs.existsSync(deadTmp));
  assert.ok(fs.existsSync(liveTmp), 'a live process may be creating its lock or token');
  assert.deepEqual((await s2.history()).map((v) => v.version), [1]);
  assert.equal((await s2.apply(doc('t', 2))).version, 2);
});

test('a corrupt committed version is reported as STORE_CORRUPT, never served', async (t) => {
  const dir = tempDataDir(t);
  const s1 = await FileStore.open(dir);
  await s1.apply(doc('x', 1));
  await s1.apply(doc('x', 2));
  await s1.close();
  // An old version tampered with: open works (the index is fine), get() refuses it.
  const original1 = fs.readFileSync(vfile(dir, 1));
  const f1 = JSON.parse(original1.toString('utf8'));
  f1.content = f1.content.replace('weight: 1', 'weight: 7');
  fs.writeFileSync(vfile(dir, 1), JSON.stringify(f1));
  const s2 = await FileStore.open(dir);
  await assert.rejects(s2.get(1), (e) => code(e) === 'STORE_CORRUPT' && (e as StoreError).path === vfile(dir, 1));
  await assert.rejects(s2.rollback(1), (e) => code(e) === 'STORE_CORRUPT');
  assert.equal((await s2.current())!.version, 2);
  await s2.close();
  // The newest version damaged: opening fails rather than silently serving an older config.
  fs.truncateSync(vfile(dir, 2), 10);
  await assert.rejects(FileStore.open(dir), (e) => code(e) === 'STORE_CORRUPT');
  // ...and the failed open released its lock.
  fs.unlinkSync(vfile(dir, 2));
  fs.writeFileSync(vfile(dir, 1), original1);
  const s3 = await FileStore.open(dir);
  t.after(() => s3.close());
  assert.equal((await s3.current())!.version, 1);
});

test('retention keeps the newest N versions and drops the oldest files', async (t) => {
  const dir = tempDataDir(t);
  const s = await FileStore.open(dir, { retain: 3 });
  for (let i = 1; i <= 5; i++) await s.apply(doc('k', i));
  assert.deepEqual((await s.history()).map((v) => v.version), [5, 4, 3]);
  assert.equal(await s.get(1), null);
  assert.ok(!fs.existsSync(vfile(dir, 1)) && !fs.existsSync(vfile(dir, 2)));
  assert.ok(fs.existsSync(vfile(dir, 3)));
  await assert.rejects(s.rollback(2), (e) => code(e) === 'STORE_NOT_FOUND');
  const r = await s.rollback(3);
  assert.equal(r.version, 6);
  await s.close();
  // Numbers continue after a reopen even though 1 and 2 are gone.
  const s2 = await FileStore.open(dir, { retain: 3 });
  assert.deepEqual((await s2.history()).map((v) => v.version), [6, 5, 4]);
  assert.equal((await s2.apply(doc('k', 9))).version, 7);
  await s2.close();
  // Lowering retention applies on open.
  const s3 = await FileStore.open(dir, { retain: 1 });
  t.after(() => s3.close());
  assert.deepEqual((await s3.history()).map((v) => v.version), [7]);
  assert.deepEqual(fs.readdirSync(path.join(dir, HISTORY_DIR)).sort(), [INDEX_FILE, 'v0000000007.json']);
  await assert.rejects(s3.rollback(), (e) => code(e) === 'STORE_NOT_FOUND');
});

test('a crash during retention (index written, old files not yet deleted) is repaired on open', async (t) => {
  const dir = tempDataDir(t);
  const s1 = await FileStore.open(dir, { retain: 10 });
  for (let i = 1; i <= 4; i++) await s1.apply(doc('p', i));
  await s1.close();
  const idx = JSON.parse(fs.readFileSync(indexFile(dir), 'utf8'));
  idx.versions = idx.versions.slice(-2); // the index already trimmed to 2, files 1 and 2 still there
  fs.writeFileSync(indexFile(dir), JSON.stringify(idx));
  const s2 = await FileStore.open(dir, { retain: 2 });
  t.after(() => s2.close());
  assert.equal(s2.indexState, 'stale');
  assert.deepEqual((await s2.history()).map((v) => v.version), [4, 3]);
  assert.ok(!fs.existsSync(vfile(dir, 1)) && !fs.existsSync(vfile(dir, 2)));
});
