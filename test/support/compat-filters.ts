// Builds the test filters written against @solo-io/proxy-runtime 0.1.8 with
// the AssemblyScript release that SDK targets (0.14), once per process.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { tmpDir } from './proxy';

const ROOT = path.join(__dirname, '../../..');
const ASC_LEGACY = path.join(ROOT, 'node_modules/assemblyscript-legacy/bin/asc');
const run = promisify(execFile);
let built: Promise<Record<string, string>> | null = null;

export function buildCompatFilters(): Promise<Record<string, string>> {
  built ??= (async () => {
    const dir = tmpDir();
    const names = ['addheader', 'httpcall'];
    await Promise.all(
      names.map((n) =>
        run(process.execPath, [ASC_LEGACY, path.join(ROOT, `test/wasm/compat/assembly/${n}.ts`), '-b', path.join(dir, `${n}.wasm`), '--use', 'abort=abort_proc_exit', '--optimize'], {
          cwd: ROOT,
        }),
      ),
    );
    return Object.fromEntries(names.map((n) => [n, path.join(dir, `${n}.wasm`)]));
  })();
  return built;
}
