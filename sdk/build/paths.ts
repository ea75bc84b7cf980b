// Where the SDK, its templates and the AssemblyScript compiler are, for the
// running copy of wasmesh (a checkout, or an installed package).
import * as fs from 'node:fs';
import * as path from 'node:path';

function findPackageRoot(from: string): string {
  let dir = from;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'wasmesh') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`wasmesh: cannot find the package root above ${from}`);
    dir = up;
  }
}

/** The wasmesh package root (holds package.json, sdk/, filters/, dist/). */
export const PACKAGE_ROOT = findPackageRoot(__dirname);
/** The AssemblyScript SDK sources, imported by filters as "wasmesh-sdk". */
export const SDK_ASSEMBLY_DIR = path.join(PACKAGE_ROOT, 'sdk', 'assembly');
/** Scaffold templates for `wasmesh filter new`. */
export const SDK_TEMPLATES_DIR = path.join(PACKAGE_ROOT, 'sdk', 'templates');
/** The module name filters import the SDK by. */
export const SDK_MODULE = 'wasmesh-sdk';
/** The proxy-wasm ABI version the SDK implements (the module's marker export). */
export const ABI_VERSION = '0.2.1';
/** The SDK version: the wasmesh version it ships with. */
export const SDK_VERSION: string = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;

/** The installed compiler's CLI (bin/asc.js of the `assemblyscript` package). */
export function ascPath(): string {
  return require.resolve('assemblyscript/bin/asc.js', { paths: [PACKAGE_ROOT] });
}

/** The installed compiler's version. */
export function ascVersion(): string {
  const pj = require.resolve('assemblyscript/package.json', { paths: [PACKAGE_ROOT] });
  return JSON.parse(fs.readFileSync(pj, 'utf8')).version;
}
