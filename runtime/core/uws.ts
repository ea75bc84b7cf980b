// Loads the native uWebSockets.js addon directly. The package's own entry
// silently falls back to a slow pure-JS implementation when the binary does
// not load; a proxy must fail loudly instead.
import * as path from 'node:path';
import { NativeModuleError } from './errors';
import type * as Uws from 'uWebSockets.js';

/** Absolute path of the native binary in use; shown in /server_info and checked by tests. */
export const uwsBinary: string = path.join(
  path.dirname(require.resolve('uWebSockets.js/package.json')),
  'binaries',
  `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
);

function load(): typeof Uws {
  if (/^(1|true)$/i.test(process.env.UWS_USE_FALLBACK ?? '')) {
    throw new NativeModuleError('UWS_USE_FALLBACK is set; wasmesh refuses the pure-JS uWebSockets.js fallback');
  }
  try {
    return require(uwsBinary) as typeof Uws;
  } catch (e) {
    throw new NativeModuleError(`uWebSockets.js has no native build usable here (${uwsBinary}): ${(e as Error).message}`);
  }
}

export const uws: typeof Uws = load();
