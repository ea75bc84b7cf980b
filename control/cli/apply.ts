// `wasmesh apply -f FILE|DIR [-f ...] [-m MESSAGE] [--dry-run]` and
// `wasmesh delete -f FILE|DIR [-f ...] [-m MESSAGE]`.
import { prepareFiles } from './bundles';
import { ControlClient, type ApplyAnswer } from './client';
import { displayKey, documentKeys } from './documents';
import { CliError } from './errors';
import { collectFiles } from './files';
import { size } from './format';
import { checkMesh, mergedSources, sortProblems } from './mesh-check';
import { author, connection, flagList, parseCommand } from './options';
import { flag } from '../../runtime/cli/args';
import type { Io } from './io';

export const APPLY_USAGE = 'wasmesh apply -f FILE|DIR [-f ...] [-m MESSAGE] [--dry-run] [--control URL] [--token T]';
export const DELETE_USAGE = 'wasmesh delete -f FILE|DIR [-f ...] [-m MESSAGE] [--control URL] [--token T]';

/**
 * 1. read the files; check every FilterBundle module (offline) and rewrite
 *    `spec.module` to `spec.sha256` (bundles.ts);
 * 2. check the mesh as it would be after the change (mesh-check.ts);
 * 3. only then upload the missing bundles and POST /apply.
 * Any problem in 1 or 2 stops before anything is sent, listing every problem.
 */
export async function apply(argv: readonly string[], io: Io): Promise<void> {
  const a = parseCommand(argv, { values: ['f', 'filename', 'm', 'message'], booleans: ['dry-run'] });
  const conn = connection(a);
  const dryRun = flag(a, 'dry-run') !== undefined;
  const message = flag(a, 'm', 'message');
  const files = collectFiles(flagList(a, 'f', 'filename'));
  const prepared = prepareFiles(files);
  const keys = prepared.documents.flatMap((d) => documentKeys(d.text).map((k) => k.key));
  if (keys.length === 0) throw new CliError('nothing to apply: the files hold no documents', 'CLI_INVALID');

  const client = new ControlClient(conn);
  const current = await client.config();
  let meshProblems: string[] = [];
  // A mesh this CLI's parser cannot read (a newer control plane) would make every merged check fail: leave it to the server then.
  const baseline = current.content.trim() === '' ? [] : checkMesh([{ text: current.content, source: `mesh v${current.version}` }]).problems;
  if (baseline.length > 0) {
    io.err(`wasmesh apply: the control plane's mesh v${current.version} does not parse with this CLI (a newer control plane?); the control plane checks the change alone\n`);
  } else {
    meshProblems = checkMesh(mergedSources(current, prepared.documents)).problems;
  }
  const problems = sortProblems([...meshProblems, ...prepared.problems], [...files.map((f) => f.source), `mesh v${current.version}`]);
  if (problems.length > 0) throw new CliError(`${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing applied`, 'CLI_INVALID', problems);

  // Bundles are uploaded on --dry-run too: the control plane checks that every bundle is there, and an
  // upload changes no config (a bundle is stored under its hash and used only once a FilterBundle names it).
  for (const m of prepared.uploads) {
    if (await client.hasBundle(m.sha256)) continue;
    await client.putBundle(m.sha256, m.bytes);
    io.out(`bundle sha256:${m.sha256.slice(0, 12)} uploaded (${size(m.bytes.byteLength)}, ${m.ref.module} of filterbundle/${m.ref.name})\n`);
  }

  const answer = await client.apply({
    documents: prepared.documents,
    author: author(),
    ...(message !== undefined ? { message } : {}),
    ...(dryRun ? { dryRun: true } : {}),
  });
  io.out(applyReport(keys.filter((k): k is string => k !== null), answer, dryRun));
}

/** kubectl's lines, in the order of the documents sent: `service/reviews created`, then `version N`. */
export function applyReport(order: readonly string[], answer: ApplyAnswer, dryRun: boolean): string {
  const state = new Map<string, string>();
  for (const k of answer.created ?? []) state.set(k, 'created');
  for (const k of answer.configured ?? []) state.set(k, 'configured');
  for (const k of answer.unchanged ?? []) state.set(k, 'unchanged');
  const keys = [...new Set([...order.filter((k) => state.has(k)), ...state.keys()])];
  const suffix = dryRun ? ' (dry run)' : '';
  const lines = keys.map((k) => `${displayKey(k)} ${state.get(k)}${suffix}`);
  const changed = (answer.created?.length ?? 0) + (answer.configured?.length ?? 0) > 0;
  lines.push(`version ${answer.version}${dryRun ? ' (dry run: nothing applied)' : changed ? '' : ' (no change)'}`);
  return lines.join('\n') + '\n';
}

export async function del(argv: readonly string[], io: Io): Promise<void> {
  const a = parseCommand(argv, { values: ['f', 'filename', 'm', 'message'] });
  const conn = connection(a);
  const message = flag(a, 'm', 'message');
  const files = collectFiles(flagList(a, 'f', 'filename'));
  // Only kind and metadata are read (by the control plane too); a document without them names nothing to delete.
  const problems: string[] = [];
  let count = 0;
  for (const f of files) {
    for (const d of documentKeys(f.text)) {
      if (d.key === null) problems.push(`${f.source}:${d.firstLine}: cannot read kind and metadata.name of this document`);
      else count++;
    }
  }
  if (problems.length > 0) throw new CliError(`${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing deleted`, 'CLI_INVALID', problems);
  if (count === 0) throw new CliError('nothing to delete: the files hold no documents', 'CLI_INVALID');
  const answer = await new ControlClient(conn).delete({
    documents: files.map((f) => ({ source: f.source, text: f.text })),
    author: author(),
    ...(message !== undefined ? { message } : {}),
  });
  io.out([...(answer.deleted ?? []).map((k) => `${displayKey(k)} deleted`), `version ${answer.version}`].join('\n') + '\n');
}
