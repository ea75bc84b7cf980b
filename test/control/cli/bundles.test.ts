// The FilterBundle upload rewrite: `spec.module: PATH` → `spec.sha256: SHA`,
// in place, every other byte and every line number kept.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { checkModules, findModules, prepareFiles, rewriteModules } from '../../../control/cli/bundles';
import type { InputFile } from '../../../control/cli/files';
import { parseMesh, type FilterBundleResource } from '../../../control/mesh';
import { BUILTIN_DIR } from '../../../runtime/wasm/loader';
import { tmpDir } from '../../support/proxy';

const BYTES = fs.readFileSync(path.join(BUILTIN_DIR, 'router.wasm'));
const SHA = createHash('sha256').update(BYTES).digest('hex');

const SERVICE = `# the backend
apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata: { name: web }   # keep me
spec:
  endpoints:
  - address: 127.0.0.1:9001
`;

function dirWithModule(): string {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'filter.wasm'), BYTES);
  return dir;
}

function file(text: string, dir = dirWithModule(), source = 'mesh.yaml'): InputFile {
  return { source, dir, text };
}

function bundles(text: string): FilterBundleResource[] {
  return parseMesh(text, 'x.yaml').resources.filter((r): r is FilterBundleResource => r.kind === 'FilterBundle');
}

describe('control/cli bundles: the upload rewrite', () => {
  it('replaces module by sha256 on the same line; the other documents and comments stay as written', () => {
    const text = `${SERVICE}---
apiVersion: wasmesh.io/v1alpha1
kind: FilterBundle
metadata:
  name: stats
spec:
  version: "1.0"   # semver
  module: ./filter.wasm # built by wasmesh filter build
  phase: STATS
---
${SERVICE.replace('web', 'api')}`;
    const out = prepareFiles([file(text)]);
    assert.deepEqual(out.problems, []);
    const sent = out.documents[0]!.text;
    const lines = text.split('\n');
    const sentLines = sent.split('\n');
    assert.equal(sentLines.length, lines.length);
    lines.forEach((l, i) => {
      if (i === 14) assert.equal(sentLines[i], `  sha256: "${SHA}" # built by wasmesh filter build`);
      else assert.equal(sentLines[i], l, `line ${i + 1}`);
    });
    const [b] = bundles(sent);
    assert.equal(b!.sha256, SHA);
    assert.equal(b!.module, null);
    assert.equal(out.uploads.length, 1);
    assert.equal(out.uploads[0]!.sha256, SHA);
    assert.deepEqual(out.uploads[0]!.bytes, BYTES);
  });

  it('drops module when sha256 is written too and matches, in block and flow mappings, keeping lines', () => {
    const text = `kind: FilterBundle
apiVersion: wasmesh.io/v1alpha1
metadata: { name: a }
spec:
  version: "1"
  module: filter.wasm
  sha256: ${SHA}
---
kind: FilterBundle
apiVersion: wasmesh.io/v1alpha1
metadata: { name: b }
spec: { version: "1", module: filter.wasm, sha256: ${SHA} }
---
kind: FilterBundle
apiVersion: wasmesh.io/v1alpha1
metadata: { name: c }
spec: { version: "1", sha256: ${SHA}, module: filter.wasm }
`;
    const out = prepareFiles([file(text)]);
    assert.deepEqual(out.problems, []);
    const sent = out.documents[0]!.text;
    assert.equal(sent.split('\n').length, text.split('\n').length);
    assert.doesNotMatch(sent, /module/);
    assert.match(sent, new RegExp(`spec: \\{ version: "1", sha256: ${SHA} \\}\\n`));
    assert.deepEqual(bundles(sent).map((b) => [b.metadata.name, b.sha256, b.module]), [['a', SHA, null], ['b', SHA, null], ['c', SHA, null]]);
    assert.equal(out.uploads.length, 1, 'one upload per distinct module');
  });

  it('a module written as a block scalar keeps the line count too', () => {
    const text = `apiVersion: wasmesh.io/v1alpha1
kind: FilterBundle
metadata: { name: folded }
spec:
  module: >-
    filter.wasm
  version: "1"
`;
    const sent = prepareFiles([file(text)]).documents[0]!.text;
    assert.equal(sent.split('\n').length, text.split('\n').length);
    assert.deepEqual(bundles(sent).map((b) => b.sha256), [SHA]);
    assert.equal(sent.split('\n')[6], '  version: "1"');
  });

  it('a problem after a rewritten document has the same line as in the file', () => {
    const text = `apiVersion: wasmesh.io/v1alpha1
kind: FilterBundle
metadata: { name: f }
spec:
  version: "1"
  module: filter.wasm
---
apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata: { name: web }
spec:
  endpoints:
  - adress: 127.0.0.1:9001
`;
    const sent = prepareFiles([file(text)]).documents[0]!.text;
    const problems = (src: string) => {
      try {
        parseMesh([{ text: src, source: 'mesh.yaml' }]);
        return [];
      } catch (e) {
        return (e as { problems: string[] }).problems;
      }
    };
    assert.deepEqual(problems(sent), problems(text.replace('module: filter.wasm', `sha256: "${SHA}"`)));
    assert.match(problems(sent).join('\n'), /^mesh\.yaml:13: spec\.endpoints\[0\]\.adress: /m);
  });

  it('documents without a module, and files without FilterBundles, are sent byte for byte', () => {
    const text = `${SERVICE}---
apiVersion: wasmesh.io/v1alpha1
kind: FilterBundle
metadata: { name: uploaded }
spec: { version: "1", sha256: "${SHA}" }
---
kind: Other
spec: { module: not-a-filter-bundle.wasm }
`;
    const out = prepareFiles([file(text), file(SERVICE, tmpDir(), 'b.yaml')]);
    assert.deepEqual(out.problems, []);
    assert.deepEqual(out.documents, [{ source: 'mesh.yaml', text }, { source: 'b.yaml', text: SERVICE }]);
    assert.deepEqual(out.uploads, []);
  });

  it('modules are relative to their own file; every problem is FILE:LINE: spec.module', () => {
    const good = dirWithModule();
    const other = tmpDir();
    fs.writeFileSync(path.join(other, 'junk.wasm'), 'junk');
    const doc = (name: string, spec: string) => `apiVersion: wasmesh.io/v1alpha1\nkind: FilterBundle\nmetadata: { name: ${name} }\nspec:\n  version: "1"\n${spec}`;
    const r = checkModules([
      file(doc('ok', '  module: filter.wasm\n'), good, 'a.yaml'),
      file(`${doc('here', '  module: filter.wasm\n')}---\n${doc('junk', '  module: junk.wasm\n')}`, other, 'b.yaml'),
      file(doc('mismatch', `  sha256: ${'c'.repeat(64)}\n  module: ${path.join(good, 'filter.wasm')}\n`), other, 'c.yaml'),
    ]);
    assert.deepEqual(r.modules.map((m) => [m.file.source, m.ref.name, m.sha256]), [['a.yaml', 'ok', SHA]]);
    assert.equal(r.problems.length, 3);
    assert.equal(r.problems[0], `b.yaml:6: spec.module: cannot read filter.wasm (${path.join(other, 'filter.wasm')}): no such file`);
    assert.match(r.problems[1]!, /^b\.yaml:13: spec\.module: junk\.wasm is not a WebAssembly module: /);
    assert.equal(r.problems[2], `c.yaml:7: spec.module: ${path.join(good, 'filter.wasm')} hashes to ${SHA}, but spec.sha256 is ${'c'.repeat(64)}`);
  });

  it('findModules skips documents the parser must report (syntax errors, a module that is not a string)', () => {
    assert.deepEqual(findModules('kind: FilterBundle\nspec: { module: [a] }\n'), []);
    assert.deepEqual(findModules('kind: FilterBundle\nspec: { module: "a\n'), []);
    assert.equal(findModules('kind: FilterBundle\nspec:\n  module: a.wasm\n')[0]!.line, 3);
  });

  it('falls back to re-rendering the document through the Document API when it cannot cut in place', () => {
    const text = `a: 1 # first\n---\nkind: FilterBundle\nspec:\n  version: "1"\n  module: filter.wasm\n  sha256: ${SHA}\n`;
    const [ref] = findModules(text);
    const out = rewriteModules(text, [{ ref: { ...ref!, remove: null }, sha256: SHA }]);
    assert.ok(out.startsWith('a: 1 # first\n---\n'), out);
    const docs = parseAllDocuments(out);
    assert.equal(docs.length, 2);
    assert.equal((docs[1] as { getIn(p: string[]): unknown }).getIn(['spec', 'sha256']), SHA);
    assert.doesNotMatch(out, /module/);
  });
});
