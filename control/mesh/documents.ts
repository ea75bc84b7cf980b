// Multi-document YAML on top of the proxy's single-document reader
// (runtime/config/yaml.ts): the text is cut at `---` lines and each piece is
// parsed by parseYaml, with its line numbers shifted back to the whole file.

import { parseYaml } from '../../runtime/config/yaml';
import type { Locator, Problem } from '../../runtime/config/validator';

export interface YamlDocument {
  /** 1-based line of the document's first line in the file. */
  firstLine: number;
  value: unknown;
  locate: Locator;
}

export type DocumentsResult = { ok: true; documents: YamlDocument[] } | { ok: false; problems: Problem[] };

const SEPARATOR = /^---[ \t]*(?:#.*)?$/;
const END = /^\.\.\.[ \t]*(?:#.*)?$/;

/** The text of each document, cut at `---` / `...` lines (empty ones included). */
export function cutDocuments(text: string): { firstLine: number; text: string }[] {
  const lines = text.split(/\r?\n/);
  const pieces: { firstLine: number; text: string }[] = [];
  let start = 0;
  const flush = (end: number): void => {
    pieces.push({ firstLine: start + 1, text: lines.slice(start, end).join('\n') });
  };
  for (let i = 0; i < lines.length; i++) {
    if (SEPARATOR.test(lines[i]!) || END.test(lines[i]!)) {
      flush(i);
      start = i + 1;
    } else if (/^---[ \t]+\S/.test(lines[i]!)) {
      // `--- {inline}`: the content starts on the separator line; keep it there, blank out the marker.
      flush(i);
      lines[i] = '   ' + lines[i]!.slice(3);
      start = i;
    }
  }
  flush(lines.length);
  return pieces;
}

export function parseDocuments(text: string): DocumentsResult {
  const pieces = cutDocuments(text);
  const problems: Problem[] = [];
  const documents: YamlDocument[] = [];
  for (const piece of pieces) {
    const shift = piece.firstLine - 1;
    const parsed = parseYaml(piece.text);
    if (!parsed.ok) {
      for (const p of parsed.problems) problems.push(p.line === undefined ? p : { ...p, line: p.line + shift });
      continue;
    }
    if (parsed.value === null || parsed.value === undefined) continue; // empty document (comments, a leading ---)
    const locate = parsed.locate;
    documents.push({ firstLine: piece.firstLine, value: parsed.value, locate: (path) => {
      const line = locate(path);
      return line === undefined ? undefined : line + shift;
    } });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, documents };
}
