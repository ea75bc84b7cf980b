// YAML text -> plain data plus a path -> line index, with syntax errors as
// positioned problems rather than exceptions. Uses the `yaml` package's
// parseDocument (YAML 1.2 core schema) and LineCounter.

import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { joinIndex, joinKey } from './path';
import type { Locator, Problem } from './validator';

export type YamlResult =
  | { ok: true; value: unknown; locate: Locator }
  | { ok: false; problems: Problem[] };

export function parseYaml(text: string): YamlResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const problems: Problem[] = doc.errors.map((e) => ({
    path: '',
    ...at(skipSpaces(text, e.pos[0])),
    message: e.code === 'MULTIPLE_DOCS' ? 'YAML syntax: more than one document (remove the second "---")' : `YAML syntax: ${e.message}`,
  }));
  const lines = new Map<string, number>();
  if (problems.length === 0) indexNode(doc, doc.contents, '', lines, at, problems);
  if (problems.length > 0) return { ok: false, problems };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Alias expansion limits; unresolved aliases were caught by indexNode.
    return { ok: false, problems: [{ path: '', message: `YAML: ${(e as Error).message}` }] };
  }
  return { ok: true, value, locate: (path) => lines.get(path) };
}

/** Error positions often point at the indentation before the offending token; point at the token. */
function skipSpaces(text: string, from: number): number {
  let i = from;
  while (text[i] === ' ') i++;
  return i < text.length && text[i] !== '\n' && text[i] !== '\r' ? i : from;
}

/**
 * Record the line of every node under `node` by the path the reader will use
 * for it. A mapping entry's line is its key's. Aliases are not followed (their
 * contents are located at the alias); non-scalar keys and dangling aliases are
 * problems.
 */
function indexNode(
  doc: Document,
  node: unknown,
  path: string,
  lines: Map<string, number>,
  at: (offset: number) => { line: number; column: number },
  problems: Problem[],
): void {
  const start = (n: unknown): number | undefined => (n as { range?: [number, number, number] | null } | null)?.range?.[0];
  const record = (p: string, offset: number | undefined): void => {
    if (offset !== undefined && !lines.has(p)) lines.set(p, at(offset).line);
  };
  record(path, start(node));
  if (isAlias(node)) {
    if (node.resolve(doc) === undefined) {
      const offset = start(node);
      problems.push({ path: '', ...(offset === undefined ? {} : at(offset)), message: `YAML: unknown alias *${node.source}` });
    }
  } else if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key;
      if (key !== null && !isScalar(key)) {
        const offset = start(key);
        problems.push({ path, ...(offset === undefined ? {} : at(offset)), message: 'YAML: mapping keys must be plain scalars, not lists or mappings' });
        continue;
      }
      const name = key === null || key.value === null ? '' : String(key.value);
      const childPath = joinKey(path, name);
      record(childPath, start(key) ?? start(pair.value));
      indexNode(doc, pair.value, childPath, lines, at, problems);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => indexNode(doc, item, joinIndex(path, i), lines, at, problems));
  }
}
