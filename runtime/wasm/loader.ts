// Turns a filter's `module` into a compiled, instrumented WebAssembly.Module:
// read the bytes, check the ABI marker and every import against what the
// declared version registers (as Envoy does), cap memory, insert the execution
// budget, compile. Compiled modules are cached by sha256 and posted to workers.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { WasmLoadError } from '../core/errors';
import { PACKAGE_ROOT } from '../core/paths';
import { ENV_IMPORTS, SUPPORTED_ABI, WASI_IMPORTS, WASI_MODULES, type AbiVersion } from './abi';
import { inspectModule } from './binary/inspect';
import { instrumentModule } from './binary/instrument';

export interface CompiledModule {
  readonly module: WebAssembly.Module;
  readonly sha256: string;
  readonly abi: AbiVersion;
  /** Size of the original bytes. */
  readonly size: number;
}

const PAGE = 64 * 1024;
const cache = new Map<string, Promise<CompiledModule>>();

/** Where `builtin:NAME` modules are: built by `npm run build` from filters/NAME. */
export const BUILTIN_DIR = path.join(PACKAGE_ROOT, 'dist', 'filters');

let bundleDir: string | null = null;

/** Where `sha256:HEX` modules (filter bundles from the control plane) are cached, as HEX.wasm. */
export function setBundleDir(dir: string): void {
  bundleDir = dir;
}

export function modulePath(module: string): string {
  if (module.startsWith('builtin:')) return path.join(BUILTIN_DIR, `${module.slice(8)}.wasm`);
  if (module.startsWith('sha256:')) return path.join(bundleDir ?? '.', `${module.slice(7)}.wasm`);
  return module;
}

export async function readModule(filter: string, module: string): Promise<Buffer> {
  const file = modulePath(module);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint = module.startsWith('builtin:')
      ? ' (is it a built-in filter, and did `npm run build` run?)'
      : module.startsWith('sha256:') ? ' (a filter bundle missing from the bundle cache)' : '';
    throw new WasmLoadError(`filter "${filter}": cannot read module ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}${hint}`, 'WASM_NOT_FOUND');
  }
  // A bundle is named by its hash: a corrupted cache file must not run under that name.
  if (module.startsWith('sha256:') && createHash('sha256').update(bytes).digest('hex') !== module.slice(7)) {
    throw new WasmLoadError(`filter "${filter}": ${file} does not hash to ${module}`, 'WASM_HASH_MISMATCH');
  }
  return bytes;
}

/** Checks the ABI marker and imports; returns the declared version. */
export function checkModule(filter: string, bytes: Uint8Array): AbiVersion {
  const info = inspectModule(bytes);
  if (info.abiVersions.length === 0) {
    throw new WasmLoadError(`filter "${filter}": not a proxy-wasm module (it exports no proxy_abi_version_X_Y_Z marker)`, 'WASM_NO_ABI_MARKER');
  }
  const abi = info.abiVersions.find((v): v is AbiVersion => (SUPPORTED_ABI as readonly string[]).includes(v));
  if (abi === undefined) {
    throw new WasmLoadError(
      `filter "${filter}": proxy-wasm ABI ${info.abiVersions.join(', ')} is not supported (this host implements ${SUPPORTED_ABI.join(' and ')})`,
      'WASM_UNKNOWN_ABI',
    );
  }
  const unknown: string[] = [];
  for (const imp of info.imports) {
    const known =
      imp.kind === 'function' &&
      ((imp.module === 'env' && ENV_IMPORTS[abi].has(imp.name)) || (WASI_MODULES.has(imp.module) && WASI_IMPORTS.has(imp.name)));
    if (!known) unknown.push(`${imp.module}.${imp.name}${imp.kind === 'function' ? '' : ` (${imp.kind})`}`);
  }
  if (unknown.length > 0) {
    throw new WasmLoadError(
      `filter "${filter}": imports ${unknown.length === 1 ? 'a function' : 'functions'} this host does not provide for ABI ${abi}: ${unknown.slice(0, 10).join(', ')}`,
      'WASM_UNKNOWN_IMPORT',
    );
  }
  return abi;
}

/** Validates, instruments and compiles; the same bytes and cap compile once per process. */
export function compileModule(filter: string, bytes: Uint8Array, maxMemoryBytes: number): Promise<CompiledModule> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const key = `${sha256}/${maxMemoryBytes}`;
  let p = cache.get(key);
  if (p === undefined) {
    p = compileNow(filter, bytes, sha256, maxMemoryBytes);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function compileNow(filter: string, bytes: Uint8Array, sha256: string, maxMemoryBytes: number): Promise<CompiledModule> {
  if (!WebAssembly.validate(bytes)) {
    try {
      await WebAssembly.compile(bytes);
    } catch (e) {
      throw new WasmLoadError(`filter "${filter}": the module does not compile: ${(e as Error).message}`, 'WASM_INVALID_MODULE');
    }
  }
  let abi: AbiVersion;
  let instrumented: Uint8Array;
  try {
    abi = checkModule(filter, bytes);
    instrumented = instrumentModule(bytes, { maxMemoryPages: Math.max(1, Math.floor(maxMemoryBytes / PAGE)) });
  } catch (e) {
    if (e instanceof WasmLoadError && !e.message.startsWith('filter "')) throw new WasmLoadError(`filter "${filter}": ${e.message}`, e.code as never);
    throw e;
  }
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(instrumented);
  } catch (e) {
    throw new WasmLoadError(`filter "${filter}": the instrumented module does not compile: ${(e as Error).message}`, 'WASM_INVALID_MODULE');
  }
  return { module, sha256, abi, size: bytes.byteLength };
}
