// An exclusive lock on a data dir: DATA_DIR/store.lock holds {pid, hostname, nonce}.
// It is created complete or not at all (temp file + link). A lock whose pid is dead on this
// host is stale and taken over; a lock from another host is never taken over (its pid cannot
// be checked).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { StoreError } from './errors';
import { atomicCreate, readIfExists } from './fs-util';

export const LOCK_FILE = 'store.lock';

interface LockBody {
  pid: number;
  hostname: string;
  nonce: string;
  createdAt: string;
}

export class DirLock {
  private released = false;
  private constructor(readonly file: string, private readonly nonce: string) {}

  static async acquire(dataDir: string): Promise<DirLock> {
    const file = path.join(dataDir, LOCK_FILE);
    const nonce = randomBytes(12).toString('hex');
    const body: LockBody = { pid: process.pid, hostname: os.hostname(), nonce, createdAt: new Date().toISOString() };
    const data = JSON.stringify(body) + '\n';
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await atomicCreate(file, data, 0o600)) return new DirLock(file, nonce);
      const raw = await readIfExists(file);
      if (raw === null) continue; // released meanwhile
      const holder = parseLock(raw);
      if (holder && isHeld(holder)) {
        throw new StoreError(
          `data dir ${dataDir} is locked by pid ${holder.pid} on ${holder.hostname} (since ${holder.createdAt}); ` +
            `if no control plane uses it, remove ${file}`,
          'STORE_LOCKED',
          { path: file, holderPid: holder.pid },
        );
      }
      await takeOver(file, raw, nonce);
    }
    throw new StoreError(`could not take the lock ${file}: it keeps changing`, 'STORE_LOCKED', { path: file });
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const raw = await readIfExists(this.file);
    if (raw !== null && parseLock(raw)?.nonce === this.nonce) await fs.promises.unlink(this.file).catch(() => undefined);
  }
}

function parseLock(raw: string): LockBody | null {
  try {
    const v = JSON.parse(raw) as Partial<LockBody>;
    if (Number.isInteger(v.pid) && (v.pid as number) > 0 && typeof v.hostname === 'string' && typeof v.nonce === 'string') {
      return { pid: v.pid as number, hostname: v.hostname, nonce: v.nonce, createdAt: String(v.createdAt ?? '?') };
    }
  } catch {
    /* unparseable: see below */
  }
  // Locks are created complete (link), so an unparseable one is debris, not a lock being written.
  return null;
}

function isHeld(holder: LockBody): boolean {
  if (holder.hostname !== os.hostname()) return true;
  if (holder.pid === process.pid) return true; // this process opened the dir already
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/**
 * Moves the stale lock aside and checks it is the one judged stale. When two processes race
 * for the same stale lock, the loser may move the winner's fresh lock: it sees the content
 * differ, puts it back (link fails if a third took the name) and reports STORE_LOCKED.
 */
async function takeOver(file: string, staleRaw: string, nonce: string): Promise<void> {
  const aside = `${file}.stale-${nonce}`;
  try {
    await fs.promises.rename(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = await readIfExists(aside);
  if (moved === staleRaw) {
    await fs.promises.unlink(aside).catch(() => undefined);
    return;
  }
  await fs.promises.link(aside, file).catch(() => undefined);
  await fs.promises.unlink(aside).catch(() => undefined);
  const holder = moved === null ? null : parseLock(moved);
  throw new StoreError(`lock ${file} was taken by another process`, 'STORE_LOCKED', { path: file, holderPid: holder?.pid });
}
