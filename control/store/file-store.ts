// The embedded default ConfigStore: files in the control plane's data dir.
//
//   DATA_DIR/store.lock                  exclusive lock (lock.ts)
//   DATA_DIR/history/v0000000042.json    one committed version: metadata + content + sha256
//   DATA_DIR/history/index.json          metadata of every retained version (a cache)
//
// The version files are the truth. Each is written once, atomically (temp file in the same
// dir, fsync, then link() to its name, which unlike rename() can never replace a committed
// file, then fsync the dir): the link is the commit point. The index is rewritten
// after each commit; on open it is checked against the directory listing and the newest file,
// and rebuilt from the version files when it is missing, corrupt or stale (a crash between the
// two writes). Temp files left by a crash are removed on open. The current version is always
// the newest one (a rollback creates a new version), so version numbers never repeat.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { StoreError } from './errors';
import { atomicReplace, fsyncDir, TEMP_PREFIX, writeTemp } from './fs-util';
import { DirLock } from './lock';
import type { ApplyMeta, ConfigStore, Snapshot, VersionInfo } from './types';

export const HISTORY_DIR = 'history';
export const INDEX_FILE = 'index.json';
export const DEFAULT_RETAIN = 100;
const FORMAT = 1;
const VERSION_FILE = /^v(\d{10})\.json$/;

export interface FileStoreOptions {
  /** Keep the newest N versions (default 100, at least 1); older files are deleted. */
  retain?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

export function versionFileName(version: number): string {
  return `v${String(version).padStart(10, '0')}.json`;
}

export function sha256Hex(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

export class FileStore implements ConfigStore {
  /** Retained versions, oldest first. */
  private versions: VersionInfo[];
  private currentSnap: Snapshot | null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private indexDirty = false;
  /** How the index was found on open: 'ok', or why it was rebuilt. For diagnostics and tests. */
  readonly indexState: 'ok' | 'missing' | 'corrupt' | 'stale';

  private constructor(
    readonly dataDir: string,
    private readonly dir: string,
    private readonly lock: DirLock,
    private readonly retain: number,
    private readonly now: () => Date,
    loaded: { versions: VersionInfo[]; current: Snapshot | null; indexState: FileStore['indexState'] },
  ) {
    this.versions = loaded.versions;
    this.currentSnap = loaded.current;
    this.indexState = loaded.indexState;
  }

  /** Opens (creating it if needed) the store in `dataDir`; throws STORE_LOCKED if another process has it open. */
  static async open(dataDir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    const retain = options.retain ?? DEFAULT_RETAIN;
    if (!Number.isInteger(retain) || retain < 1) {
      throw new StoreError(`retain must be an integer >= 1, got ${String(retain)}`, 'STORE_INVALID_ARGUMENT');
    }
    const root = path.resolve(dataDir);
    const dir = path.join(root, HISTORY_DIR);
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const lock = await DirLock.acquire(root);
    try {
      await removeDebris(root, dir);
      const loaded = await load(dir);
      const store = new FileStore(root, dir, lock, retain, options.now ?? (() => new Date()), loaded);
      if (loaded.indexState !== 'ok') await store.writeIndex();
      await store.enforceRetention();
      return store;
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  async current(): Promise<Snapshot | null> {
    this.assertOpen();
    return this.currentSnap ? { ...this.currentSnap } : null;
  }

  apply(documents: string, meta: ApplyMeta = {}): Promise<Snapshot> {
    return this.exclusive(() => this.commit(documents, meta, undefined));
  }

  rollback(version?: number, meta: ApplyMeta = {}): Promise<Snapshot> {
    return this.exclusive(async () => {
      if (version !== undefined && (!Number.isInteger(version) || version < 1)) {
        throw new StoreError(`version must be an integer >= 1, got ${String(version)}`, 'STORE_INVALID_ARGUMENT');
      }
      let target = version;
      if (target === undefined) {
        const cur = this.currentSnap?.version ?? 0;
        const prev = [...this.versions].reverse().find((v) => v.version < cur);
        if (!prev) throw new StoreError('no previous version to roll back to', 'STORE_NOT_FOUND');
        target = prev.version;
      }
      const old = await this.read(target);
      if (!old) throw new StoreError(`version ${target} does not exist (or was dropped by retention)`, 'STORE_NOT_FOUND');
      return this.commit(old.content, { author: meta.author, message: meta.message ?? `rollback to version ${target}` }, target);
    });
  }

  async history(limit?: number): Promise<VersionInfo[]> {
    this.assertOpen();
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
      throw new StoreError(`limit must be an integer >= 0, got ${String(limit)}`, 'STORE_INVALID_ARGUMENT');
    }
    const newestFirst = [...this.versions].reverse();
    return (limit === undefined ? newestFirst : newestFirst.slice(0, limit)).map((v) => ({ ...v }));
  }

  async get(version: number): Promise<Snapshot | null> {
    this.assertOpen();
    if (!Number.isInteger(version) || version < 1) {
      throw new StoreError(`version must be an integer >= 1, got ${String(version)}`, 'STORE_INVALID_ARGUMENT');
    }
    return this.read(version);
  }

  /** get() without the open check: a rollback queued before close() still completes. */
  private async read(version: number): Promise<Snapshot | null> {
    if (this.currentSnap?.version === version) return { ...this.currentSnap };
    if (!this.versions.some((v) => v.version === version)) return null;
    try {
      return await readVersion(this.dir, version);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // dropped by retention meanwhile
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    if (this.indexDirty) await this.writeIndex().catch(() => undefined);
    await this.lock.release();
  }

  private async commit(content: string, meta: ApplyMeta, rollbackOf: number | undefined): Promise<Snapshot> {
    if (typeof content !== 'string') throw new StoreError('documents must be a string', 'STORE_INVALID_ARGUMENT');
    for (const k of ['author', 'message'] as const) {
      if (meta[k] !== undefined && typeof meta[k] !== 'string') throw new StoreError(`${k} must be a string`, 'STORE_INVALID_ARGUMENT');
    }
    const version = (this.versions.at(-1)?.version ?? 0) + 1;
    const snap: Snapshot = {
      version,
      sha256: sha256Hex(content),
      createdAt: this.now().toISOString(),
      author: meta.author ?? '',
      message: meta.message ?? '',
      ...(rollbackOf !== undefined ? { rollbackOf } : {}),
      size: Buffer.byteLength(content, 'utf8'),
      content,
    };
    const file = path.join(this.dir, versionFileName(version));
    const tmp = await writeTemp(this.dir, JSON.stringify({ format: FORMAT, ...snap }) + '\n', 0o600);
    try {
      // Never replace a committed version, even if the in-memory view were somehow behind.
      await fs.promises.link(tmp, file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new StoreError(`version file ${file} exists already; another writer touched the data dir`, 'STORE_CORRUPT', { path: file });
      }
      throw e;
    } finally {
      await fs.promises.unlink(tmp).catch(() => undefined);
    }
    // The version file is visible: memory follows disk from here on.
    this.versions.push(infoOf(snap));
    this.currentSnap = snap;
    this.indexDirty = true;
    await fsyncDir(this.dir);
    // Committed. The index and retention are repaired on the next open if these fail.
    await this.writeIndex().catch(() => undefined);
    await this.enforceRetention().catch(() => undefined);
    return { ...snap };
  }

  private async writeIndex(): Promise<void> {
    const body = { format: FORMAT, versions: this.versions };
    await atomicReplace(path.join(this.dir, INDEX_FILE), JSON.stringify(body) + '\n', 0o600);
    this.indexDirty = false;
  }

  /** Drops the oldest versions beyond `retain`: index first, then the files. */
  private async enforceRetention(): Promise<void> {
    if (this.versions.length <= this.retain) return;
    const dropped = this.versions.slice(0, this.versions.length - this.retain);
    this.versions = this.versions.slice(-this.retain);
    this.indexDirty = true;
    await this.writeIndex();
    for (const v of dropped) await fs.promises.unlink(path.join(this.dir, versionFileName(v.version))).catch(() => undefined);
    await fsyncDir(this.dir);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    try {
      this.assertOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError(`store ${this.dataDir} is closed`, 'STORE_CLOSED');
  }
}

function infoOf(s: Snapshot): VersionInfo {
  const { content: _content, ...info } = s;
  return info;
}

/**
 * Temp files: every one in the history dir (only the lock holder writes there); in the data
 * dir only those of dead processes (another process may be creating the lock or the token).
 */
async function removeDebris(root: string, dir: string): Promise<void> {
  for (const name of await fs.promises.readdir(dir)) {
    if (name.startsWith(TEMP_PREFIX)) await fs.promises.unlink(path.join(dir, name)).catch(() => undefined);
  }
  for (const name of await fs.promises.readdir(root)) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const pid = Number(name.slice(TEMP_PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) {
      await fs.promises.unlink(path.join(root, name)).catch(() => undefined);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function load(dir: string): Promise<{ versions: VersionInfo[]; current: Snapshot | null; indexState: FileStore['indexState'] }> {
  const onDisk = (await fs.promises.readdir(dir))
    .map((n) => VERSION_FILE.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const newest = onDisk.at(-1);
  const current = newest === undefined ? null : await readVersion(dir, newest);

  let indexState: FileStore['indexState'] = 'ok';
  let indexed: VersionInfo[] | null = null;
  let raw: string | null = null;
  try {
    raw = await fs.promises.readFile(path.join(dir, INDEX_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (raw === null) indexState = onDisk.length === 0 ? 'ok' : 'missing';
  else {
    indexed = parseIndex(raw);
    if (indexed === null) indexState = 'corrupt';
    else if (
      indexed.length !== onDisk.length ||
      indexed.some((v, i) => v.version !== onDisk[i]) ||
      (current !== null && !sameInfo(indexed[indexed.length - 1] as VersionInfo, infoOf(current)))
    ) {
      indexState = 'stale';
    }
  }
  if (indexState === 'ok') return { versions: indexed ?? [], current, indexState };
  const versions: VersionInfo[] = [];
  for (const v of onDisk) versions.push(infoOf(v === newest && current ? current : await readVersion(dir, v)));
  return { versions, current, indexState };
}

function sameInfo(a: VersionInfo, b: VersionInfo): boolean {
  return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
}

function parseIndex(raw: string): VersionInfo[] | null {
  try {
    const v = JSON.parse(raw) as { format?: unknown; versions?: unknown };
    if (v.format !== FORMAT || !Array.isArray(v.versions)) return null;
    const out: VersionInfo[] = [];
    for (const e of v.versions as unknown[]) {
      const info = checkInfo(e);
      if (!info || (out.length > 0 && info.version <= (out.at(-1) as VersionInfo).version)) return null;
      out.push(info);
    }
    return out;
  } catch {
    return null;
  }
}

function checkInfo(e: unknown): VersionInfo | null {
  if (typeof e !== 'object' || e === null) return null;
  const o = e as Record<string, unknown>;
  if (!Number.isInteger(o.version) || (o.version as number) < 1) return null;
  if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) return null;
  if (typeof o.createdAt !== 'string' || typeof o.author !== 'string' || typeof o.message !== 'string') return null;
  if (!Number.isInteger(o.size) || (o.size as number) < 0) return null;
  if (o.rollbackOf !== undefined && (!Number.isInteger(o.rollbackOf) || (o.rollbackOf as number) < 1)) return null;
  return {
    version: o.version as number,
    sha256: o.sha256,
    createdAt: o.createdAt,
    author: o.author,
    message: o.message,
    ...(o.rollbackOf !== undefined ? { rollbackOf: o.rollbackOf as number } : {}),
    size: o.size as number,
  };
}

/** Reads and verifies one version file; STORE_CORRUPT if it is not what was committed. */
async function readVersion(dir: string, version: number): Promise<Snapshot> {
  const file = path.join(dir, versionFileName(version));
  const raw = await fs.promises.readFile(file, 'utf8');
  const corrupt = (why: string) =>
    new StoreError(`version file ${file} is corrupt (${why}); restore it from a backup or move it away`, 'STORE_CORRUPT', { path: file });
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw corrupt('not JSON');
  }
  if (typeof o !== 'object' || o === null || o.format !== FORMAT) throw corrupt('unknown format');
  const info = checkInfo(o);
  if (!info || typeof o.content !== 'string') throw corrupt('missing or invalid fields');
  if (info.version !== version) throw corrupt(`it holds version ${info.version}`);
  if (sha256Hex(o.content) !== info.sha256 || Buffer.byteLength(o.content, 'utf8') !== info.size) throw corrupt('sha256 mismatch');
  return { ...info, content: o.content };
}
