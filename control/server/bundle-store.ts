// Filter bundle bytes in DATA_DIR/bundles/SHA256.wasm. A bundle is named by
// its hash, so a file is written once and never changes.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { atomicCreate } from '../store/fs-util';
import { ControlError } from './errors';

export const BUNDLES_DIR = 'bundles';
const SHA = /^[0-9a-f]{64}$/;

export class BundleStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, BUNDLES_DIR);
  }

  async open(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  private file(sha: string): string {
    if (!SHA.test(sha)) throw new ControlError(`not a sha256 (64 lowercase hex digits): ${JSON.stringify(sha)}`, 'BAD_REQUEST');
    return path.join(this.dir, `${sha}.wasm`);
  }

  /** Stores `bytes` under `sha`; false when it was already there. */
  async put(sha: string, bytes: Uint8Array): Promise<boolean> {
    const file = this.file(sha);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha) throw new ControlError(`the bytes hash to ${actual}, not ${sha}`, 'BAD_REQUEST');
    if (!WebAssembly.validate(bytes)) throw new ControlError('not a valid WebAssembly module', 'BAD_REQUEST');
    return atomicCreate(file, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0o600);
  }

  async get(sha: string): Promise<Buffer | null> {
    return fs.readFile(this.file(sha)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
  }

  async size(sha: string): Promise<number | null> {
    try {
      return (await fs.stat(this.file(sha))).size;
    } catch {
      return null;
    }
  }
}
