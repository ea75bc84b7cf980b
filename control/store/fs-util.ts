// Durable file primitives shared by the store, its lock and the token.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Prefix of every temp file; a file with it is never a committed one and is removed on open. */
export const TEMP_PREFIX = '.tmp-';

export function tempName(dir: string): string {
  return path.join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** fsync a directory so a rename or link inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Some platforms and filesystems cannot fsync a directory; nothing more can be done there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await fh?.close();
  }
}

/** Writes `data` to a new temp file in `dir` and fsyncs it; returns its path. */
export async function writeTemp(dir: string, data: string | Buffer, mode: number): Promise<string> {
  const tmp = tempName(dir);
  const fh = await fs.promises.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.promises.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  return tmp;
}

/** Replaces `file` atomically: temp file in the same dir, fsync, rename, fsync the dir. */
export async function atomicReplace(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  const tmp = await writeTemp(dir, data, mode);
  try {
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dir);
}

/**
 * Creates `file` with `data` atomically, only if it does not exist: the content is complete
 * before the name appears (temp file + link, which fails with EEXIST). Returns false when
 * `file` already existed.
 */
export async function atomicCreate(file: string, data: string | Buffer, mode = 0o600): Promise<boolean> {
  const dir = path.dirname(file);
  const tmp = await writeTemp(dir, data, mode);
  try {
    await fs.promises.link(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await fs.promises.unlink(tmp).catch(() => undefined);
  }
  await fsyncDir(dir);
  return true;
}

export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
