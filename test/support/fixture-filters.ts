// Builds test fixture filters (test/wasm/fixtures/NAME) with the wasmesh SDK, once per process.
import * as path from 'node:path';
import { buildFilter } from '../../sdk/build';
import { tmpDir } from './proxy';

const ROOT = path.join(__dirname, '../../..');
const built = new Map<string, Promise<string>>();

export function buildFixture(name: string): Promise<string> {
  let p = built.get(name);
  if (p === undefined) {
    p = buildFilter({ dir: path.join(ROOT, 'test/wasm/fixtures', name), outFile: path.join(tmpDir(), `${name}.wasm`), name }).then((r) => r.wasmPath);
    built.set(name, p);
  }
  return p;
}
