// Private per-user directories in the temp dir holding one symlink each, so
// tools can find "wasmesh-sdk" (asc --path) and "wasmesh" (node resolution)
// without anything installed in the filter's project.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Returns a directory `<tmp>/<prefix>-<uid>-<hash>` in which `linkPath` (a
 * relative path) is a symlink to `target` (a junction on Windows). Reuses it
 * when it already points there; otherwise creates it beside and renames it
 * over, so concurrent builds never see a half-made link.
 */
export function ensureLinkDir(prefix: string, linkPath: string, target: string): string {
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : 'u';
  const tag = createHash('sha256').update(`${target}\0${linkPath}`).digest('hex').slice(0, 12);
  const root = path.join(os.tmpdir(), `${prefix}-${uid}-${tag}`);
  const link = path.join(root, linkPath);
  try {
    if (fs.realpathSync(link) === fs.realpathSync(target)) return root;
  } catch {
    // missing or dangling: (re)create below
  }
  fs.mkdirSync(path.dirname(link), { recursive: true, mode: 0o700 });
  if (typeof process.getuid === 'function' && fs.lstatSync(root).uid !== process.getuid()) {
    throw new Error(`${root} belongs to another user; remove it`);
  }
  const tmp = `${link}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.symlinkSync(target, tmp, process.platform === 'win32' ? 'junction' : 'dir');
  fs.renameSync(tmp, link);
  return root;
}
