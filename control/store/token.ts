// The control plane's access token: DATA_DIR/token, generated on first start.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { StoreError } from './errors';
import { atomicCreate } from './fs-util';

export const TOKEN_FILE = 'token';
const TOKEN_SHAPE = /^[A-Za-z0-9_\-.~+/=]{16,}$/;

export interface LoadedToken {
  token: string;
  /** The token file. */
  path: string;
  /** True when this call generated it (first start). */
  created: boolean;
}

/**
 * Reads DATA_DIR/token, or on first start creates it: 32 random bytes, base64url, mode 0600.
 * The file appears complete or not at all, and an existing one is never overwritten, so two
 * processes starting at once agree on one token. An operator may put their own token there
 * (at least 16 characters, no whitespace). Throws STORE_TOKEN_INSECURE when group or others
 * may read it, STORE_CORRUPT when it does not hold a token.
 */
export async function loadOrCreateToken(dataDir: string): Promise<LoadedToken> {
  const root = path.resolve(dataDir);
  const file = path.join(root, TOKEN_FILE);
  await fs.promises.mkdir(root, { recursive: true, mode: 0o700 });
  const fresh = randomBytes(32).toString('base64url');
  if (await atomicCreate(file, fresh + '\n', 0o600)) return { token: fresh, path: file, created: true };

  const fh = await fs.promises.open(file, 'r');
  try {
    const st = await fh.stat();
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new StoreError(
        `${file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${file}`,
        'STORE_TOKEN_INSECURE',
        { path: file },
      );
    }
    const token = (await fh.readFile('utf8')).trim();
    if (!TOKEN_SHAPE.test(token)) {
      throw new StoreError(`${file} does not hold a token (at least 16 characters, no whitespace)`, 'STORE_CORRUPT', { path: file });
    }
    return { token, path: file, created: false };
  } finally {
    await fh.close();
  }
}

/**
 * Constant-time comparison of a presented token with the expected one. Both are hashed first,
 * so neither the length nor the content leaks through timing; empty or non-string input never
 * matches.
 */
export function tokensEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || a.length === 0 || b.length === 0) return false;
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}
