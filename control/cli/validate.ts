// `wasmesh validate -f FILE|DIR [-f ...]`: offline. The files are parsed and
// cross-checked as one mesh (parseMesh, the control plane's own parser), and
// every FilterBundle `module` is read, hashed against `sha256` when that is
// written too, compiled and checked as a proxy-wasm module.
import { checkModules } from './bundles';
import { CliError } from './errors';
import { collectFiles } from './files';
import { checkMesh, sortProblems } from './mesh-check';
import { flagList, parseCommand } from './options';
import type { Io } from './io';

export const VALIDATE_USAGE = 'wasmesh validate -f FILE|DIR [-f ...]   (mesh resources; -c FILE checks a proxy config)';

export async function validate(argv: readonly string[], io: Io): Promise<void> {
  const a = parseCommand(argv, { values: ['f', 'filename'] }, false);
  const files = collectFiles(flagList(a, 'f', 'filename'));
  const modules = checkModules(files);
  const checked = checkMesh(files.map((f) => ({ text: f.text, source: f.source })));
  const problems = sortProblems([...checked.problems, ...modules.problems], files.map((f) => f.source));
  if (problems.length > 0 || checked.mesh === null) {
    throw new CliError(`${problems.length} problem${problems.length === 1 ? '' : 's'}`, 'CLI_INVALID', problems);
  }
  const byKind = new Map<string, number>();
  for (const r of checked.mesh.resources) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
  const what = files.length <= 3 ? files.map((f) => f.source).join(', ') : `${files.length} files`;
  const n = checked.mesh.resources.length;
  const kinds = [...byKind].map(([k, c]) => `${c} ${k}`).join(', ');
  const mods = new Set(modules.modules.map((m) => m.sha256)).size;
  io.out(`${what}: ok (${n} resource${n === 1 ? '' : 's'}${n > 0 ? `: ${kinds}` : ''}${mods > 0 ? `; ${mods} filter module${mods === 1 ? '' : 's'} compiled` : ''})\n`);
}
