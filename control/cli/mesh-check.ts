// Local checks of mesh files with the control plane's own parser.
//
// `validate` checks the files alone, as one mesh. `apply` cannot: a
// VirtualService applied without its Service is fine when the Service already
// lives in the control plane. So apply checks the mesh as it would be after
// the change, computed exactly as the control plane computes it
// (docs/control-plane.md, POST /apply: each document replaces the one with the
// same key, or is added): the current content (GET /api/v1/config) with the
// documents the files replace blanked out, plus the files as they will be
// sent. Problems in the files come out as FILE:LINE: PATH: MESSAGE; problems
// the change causes in documents already there (a subset a kept
// VirtualService uses, removed from a DestinationRule) as
// `mesh vN:LINE: ...`, lines of that version's content. The control plane
// checks again on apply (the mesh may change in between, and only it knows
// the uploaded bundles and the connected proxies); it gets the same sources,
// so its messages point at the same lines.
import { ConfigError } from '../../runtime/core/errors';
import { parseMesh, type Mesh, type MeshSource } from '../mesh';
import { blankDocuments, documentKeys } from './documents';

/** parseMesh's problems, or the mesh. */
export function checkMesh(sources: readonly MeshSource[]): { mesh: Mesh; problems: [] } | { mesh: null; problems: string[] } {
  try {
    return { mesh: sources.length === 0 ? { resources: [] } : parseMesh(sources), problems: [] };
  } catch (e) {
    if (e instanceof ConfigError) return { mesh: null, problems: [...e.problems] };
    throw e;
  }
}

/** What the control plane's mesh would be after applying `files` to `current`, as parseMesh sources. */
export function mergedSources(current: { version: number; content: string }, files: readonly { source: string; text: string }[]): MeshSource[] {
  const replaced = new Set(files.flatMap((f) => documentKeys(f.text).map((d) => d.key)).filter((k): k is string => k !== null));
  const kept = current.content.trim() === '' ? '' : blankDocuments(current.content, replaced);
  return [...(kept.trim() === '' ? [] : [{ text: kept, source: `mesh v${current.version}` }]), ...files.map((f) => ({ text: f.text, source: f.source }))];
}

/** Problems ordered by source (in `sources` order), then line; others keep their place at the end. */
export function sortProblems(problems: readonly string[], sources: readonly string[]): string[] {
  const rank = (p: string): [number, number] => {
    // The longest matching source wins (`a.yaml` must not claim `a.yaml.d/b.yaml`'s lines).
    let best = -1;
    for (let i = 0; i < sources.length; i++) {
      if (p.startsWith(`${sources[i]}:`) && (best < 0 || sources[i]!.length > sources[best]!.length)) best = i;
    }
    if (best < 0) return [sources.length, 0];
    const m = /^(\d+)/.exec(p.slice(sources[best]!.length + 1));
    return [best, m === null ? 0 : Number(m[1])];
  };
  return problems
    .map((p, i) => ({ p, i, r: rank(p) }))
    .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i)
    .map((x) => x.p);
}
