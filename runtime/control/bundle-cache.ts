// Filter bundles on the proxy's disk, named by sha256: fetched from the
// control plane once, checked against their name, written atomically.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ConfigDocument } from './protocol';

export function defaultBundleCache(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'wasmesh', 'bundles');
}

/** The sha256 hex of every `sha256:HEX` module in a config document. */
export function bundleHashes(doc: ConfigDocument): string[] {
  const out = new Set<string>();
  for (const l of (doc.listeners ?? []) as { filters?: { module?: unknown }[] }[]) {
    for (const f of l.filters ?? []) if (typeof f.module === 'string' && f.module.startsWith('sha256:')) out.add(f.module.slice(7));
  }
  return [...out];
}

export class BundleCache {
  /** Hashes known to be on disk and intact (checked once per process). */
  private readonly verified = new Set<string>();
  fetched = 0;

  constructor(readonly dir: string, private readonly baseUrl: string, private readonly token: string) {}

  /** Makes every bundle `doc` needs present; throws with the reason when one cannot be had. */
  async ensure(doc: ConfigDocument): Promise<void> {
    const missing = bundleHashes(doc).filter((h) => !this.verified.has(h));
    if (missing.length === 0) return;
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await Promise.all(missing.map((h) => this.ensureOne(h)));
  }

  private async ensureOne(sha: string): Promise<void> {
    const file = path.join(this.dir, `${sha}.wasm`);
    const onDisk = await fs.readFile(file).catch(() => null);
    if (onDisk !== null && hash(onDisk) === sha) {
      this.verified.add(sha);
      return;
    }
    const url = `${this.baseUrl}/api/v1/bundles/${sha}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      throw new Error(`bundle ${sha}: cannot fetch ${url}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new Error(`bundle ${sha}: ${url} answered ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const got = hash(bytes);
    if (got !== sha) throw new Error(`bundle ${sha}: the control plane sent bytes hashing to ${got}`);
    const tmp = path.join(this.dir, `.tmp-${process.pid}-${sha}`);
    await fs.writeFile(tmp, bytes, { mode: 0o600 });
    await fs.rename(tmp, file);
    this.fetched++;
    this.verified.add(sha);
  }
}

function hash(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
