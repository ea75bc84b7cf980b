// The package root, from the compiled location (dist/runtime/core).
import * as path from 'node:path';

export const PACKAGE_ROOT = path.resolve(__dirname, '../../..');
export const BIN = path.join(PACKAGE_ROOT, 'bin/wasmesh.js');
export const VERSION: string = require(path.join(PACKAGE_ROOT, 'package.json')).version;
