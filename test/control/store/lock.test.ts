import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { FileStore, LOCK_FILE, StoreError } from '../../../control/store';
import { deadPid, doc, STORE_MODULE, tempDataDir } from './helpers';

function lockHolder(dir: string): { pid: number; hostname: string } {
  return JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'));
}

test('a second opener gets STORE_LOCKED while the first holds the data dir', async (t) => {
  const dir = tempDataDir(t);
  const s1 = await FileStore.open(dir);
  assert.equal(lockHolder(dir).pid, process.pid);
  assert.equal(fs.statSync(path.join(dir, LOCK_FILE)).mode & 0o777, 0o600);
  await assert.rejects(FileStore.open(dir), (e) => {
    assert.ok(e instanceof StoreError);
    assert.equal(e.code, 'STORE_LOCKED');
    assert.equal(e.holderPid, process.pid);
    assert.match(e.message, new RegExp(`locked by pid ${process.pid}`));
    return true;
  });
  await s1.close();
  assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)));
  const s2 = await FileStore.open(dir);
  await s2.close();
});

test('a stale lock whose pid does not exist is taken over', async (t) => {
  const dir = tempDataDir(t);
  const dead = deadPid();
  fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: dead, hostname: os.hostname(), nonce: 'old', createdAt: '2020-01-01T00:00:00Z' }));
  const s = await FileStore.open(dir);
  assert.equal(lockHolder(dir).pid, process.pid);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith(LOCK_FILE + '.')), []);
  await s.close();
});

test('an unparseable lock file is debris and taken over; a lock from another host is not', async (t) => {
  const dir = tempDataDir(t);
  fs.writeFileSync(path.join(dir, LOCK_FILE), 'garbage');
  const s = await FileStore.open(dir);
  await s.close();
  fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), hostname: 'elsewhere.example', nonce: 'n', createdAt: 'x' }));
  await assert.rejects(FileStore.open(dir), (e) => (e as StoreError).code === 'STORE_LOCKED');
});

test('another process: locked while it runs, taken over after it is SIGKILLed', async (t) => {
  const dir = tempDataDir(t);
  const script = `
    const { FileStore } = require(${JSON.stringify(STORE_MODULE)});
    (async () => {
      const s = await FileStore.open(process.argv[1]);
      await s.apply('kind: FromChild\\n', { author: 'child' });
      process.stdout.write('READY\\n');
      setInterval(() => {}, 1000);
    })().catch((e) => { console.error(e); process.exit(2); });`;
  const child = spawn(process.execPath, ['-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      if (out.includes('READY')) resolve();
    });
    child.once('exit', (c) => reject(new Error(`child exited ${c}`)));
  });
  await assert.rejects(FileStore.open(dir), (e) => (e as StoreError).code === 'STORE_LOCKED' && (e as StoreError).holderPid === child.pid);
  // A crash leaves the lock behind; its pid is dead, so the next opener takes it over.
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  assert.equal(lockHolder(dir).pid, child.pid);
  const s = await FileStore.open(dir);
  t.after(() => s.close());
  const cur = await s.current();
  assert.equal(cur?.version, 1);
  assert.equal(cur?.author, 'child');
  assert.equal(lockHolder(dir).pid, process.pid);
});

test('a real second process restores current and history after the first closed', async (t) => {
  const dir = tempDataDir(t);
  const s = await FileStore.open(dir, { retain: 3 });
  await s.apply(doc('reviews', 90), { author: 'alice', message: 'canary' });
  await s.apply(doc('reviews', 50));
  await s.apply(doc('reviews', 10));
  await s.rollback(1, { author: 'bob' });
  const expected = { current: await s.current(), history: await s.history() };
  await s.close();
  const script = `
    const { FileStore } = require(${JSON.stringify(STORE_MODULE)});
    (async () => {
      const s = await FileStore.open(process.argv[1], { retain: 3 });
      const out = { current: await s.current(), history: await s.history(), indexState: s.indexState };
      const next = await s.apply('kind: Next\\n');
      out.next = next.version;
      await s.close();
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(2); });`;
  const got = JSON.parse(execFileSync(process.execPath, ['-e', script, dir], { encoding: 'utf8' }));
  assert.deepEqual(got.current, expected.current);
  assert.deepEqual(got.history, expected.history);
  assert.deepEqual(got.history.map((v: { version: number }) => v.version), [4, 3, 2]);
  assert.equal(got.indexState, 'ok');
  assert.equal(got.next, 5);
  assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)), 'the child released the lock on close');
  // And back in this process, the child's version is there.
  const s2 = await FileStore.open(dir, { retain: 3 });
  t.after(() => s2.close());
  assert.equal((await s2.current())!.content, 'kind: Next\n');
});

test('two processes racing for one stale lock: exactly one wins', async (t) => {
  const dir = tempDataDir(t);
  fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), hostname: os.hostname(), nonce: 'old', createdAt: 'x' }));
  const script = `
    const { FileStore } = require(${JSON.stringify(STORE_MODULE)});
    FileStore.open(process.argv[1]).then(
      (s) => { process.stdout.write('WON'); setTimeout(() => s.close(), 1500); },
      (e) => { process.stdout.write(e.code || String(e)); });`;
  const run = () =>
    new Promise<string>((resolve) => {
      const c = spawn(process.execPath, ['-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('exit', () => resolve(out));
    });
  const results = (await Promise.all([run(), run(), run()])).sort();
  assert.deepEqual(results, ['STORE_LOCKED', 'STORE_LOCKED', 'WON']);
});
