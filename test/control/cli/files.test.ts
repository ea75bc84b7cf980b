// collectFiles: -f FILE|DIR|- arguments → the YAML files they name.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { collectFiles, STDIN } from '../../../control/cli/files';
import { CliError } from '../../../control/cli/errors';
import { tmpDir } from '../../support/proxy';

function tree(files: Record<string, string>): string {
  const dir = tmpDir();
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

function failure(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CliError, String(e));
    return e;
  }
  assert.fail('no error');
}

describe('control/cli files', () => {
  it('a directory means its *.yaml and *.yml files, sorted by name, not recursive', () => {
    const cwd = tree({ 'd/b.yml': 'b', 'd/a.yaml': 'a', 'd/C.YAML': 'C', 'd/notes.txt': 'x', 'd/sub/deep.yaml': 'deep', 'd/z.yaml.bak': 'bak' });
    const files = collectFiles(['d'], { cwd });
    assert.deepEqual(files.map((f) => f.source), ['d/C.YAML', 'd/a.yaml', 'd/b.yml']);
    assert.deepEqual(files.map((f) => f.text), ['C', 'a', 'b']);
    assert.ok(files.every((f) => f.dir === path.join(cwd, 'd')));
  });

  it('several -f in the order given; a file named twice is read once', () => {
    const cwd = tree({ 'one.yaml': '1', 'd/two.yaml': '2', 'd/three.yaml': '3' });
    const files = collectFiles(['one.yaml', 'd', 'd/two.yaml', './one.yaml'], { cwd });
    assert.deepEqual(files.map((f) => f.source), ['one.yaml', 'd/three.yaml', 'd/two.yaml']);
  });

  it('- is stdin, relative to the working directory, and only once', () => {
    const cwd = tree({ 'a.yaml': 'a' });
    let reads = 0;
    const files = collectFiles(['a.yaml', '-'], { cwd, readStdin: () => (reads++, 'from stdin') });
    assert.deepEqual(files.map((f) => [f.source, f.text, f.dir]), [['a.yaml', 'a', cwd], [STDIN, 'from stdin', cwd]]);
    assert.equal(reads, 1);
    const e = failure(() => collectFiles(['-', '-'], { cwd, readStdin: () => '' }));
    assert.deepEqual(e.problems, ['-: stdin can be given only once']);
  });

  it('any file name works when named directly (not only *.yaml)', () => {
    const cwd = tree({ 'mesh.conf': 'x' });
    assert.deepEqual(collectFiles(['mesh.conf'], { cwd }).map((f) => f.text), ['x']);
  });

  it('every argument that cannot be read is reported, with a stable code', () => {
    const cwd = tree({ 'empty/readme.md': '', 'ok.yaml': 'ok' });
    const e = failure(() => collectFiles(['missing.yaml', 'empty', 'ok.yaml', 'gone/'], { cwd }));
    assert.equal(e.code, 'CLI_FILES');
    assert.equal(e.exitCode, 1);
    assert.deepEqual(e.problems, ['missing.yaml: no such file or directory', 'empty: no *.yaml or *.yml files in this directory', 'gone/: no such file or directory']);
  });

  it('no -f at all is a usage error', () => {
    const e = failure(() => collectFiles([]));
    assert.equal(e.code, 'CLI_USAGE');
    assert.equal(e.exitCode, 2);
  });
});
