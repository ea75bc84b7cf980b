// examples/custom-filter's own emulator tests, run the way its README and
// docs/filter-authoring.md say: `wasmesh filter test examples/custom-filter`.
import { it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BIN } from '../support/proxy';

it('examples/custom-filter: `wasmesh filter test` builds it and its emulator tests pass', () => {
  const root = path.join(__dirname, '../../..');
  const r = spawnSync(process.execPath, [BIN, 'filter', 'test', 'examples/custom-filter'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out);
  assert.match(out, /# pass 3/);
  assert.match(out, /# fail 0/);
});
