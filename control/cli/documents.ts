// The documents of a multi-document YAML text and their keys
// (`Kind/namespace/name`, as the control plane keys them), cut exactly as
// parseMesh cuts them so that line numbers agree.
import { parse } from 'yaml';
import { cutDocuments } from '../mesh/documents';

export interface KeyedPiece {
  /** 1-based line of the document's first line. */
  firstLine: number;
  /** Number of lines the piece spans. */
  lines: number;
  /** null when kind or metadata.name cannot be read (parseMesh says why). */
  key: string | null;
}

/** The non-empty documents of `text` with their keys. */
export function documentKeys(text: string): KeyedPiece[] {
  const out: KeyedPiece[] = [];
  for (const piece of cutDocuments(text)) {
    let value: unknown;
    try {
      value = parse(piece.text, { logLevel: 'error' }); // errors throw; warnings are parseMesh's to report
    } catch {
      value = undefined; // a syntax error: not empty, no key
    }
    if (value === null) continue; // only comments or blank lines
    out.push({ firstLine: piece.firstLine, lines: piece.text.split('\n').length, key: keyOf(value) });
  }
  return out;
}

export function keyOf(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const d = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } | null };
  if (typeof d.kind !== 'string' || d.kind === '' || typeof d.metadata?.name !== 'string' || d.metadata.name === '') return null;
  const ns = typeof d.metadata.namespace === 'string' && d.metadata.namespace !== '' ? d.metadata.namespace : 'default';
  return `${d.kind}/${ns}/${d.metadata.name}`;
}

/**
 * `text` with the documents whose key is in `keys` turned into blank lines:
 * the others keep their line numbers, so a message about them points at the
 * same line of the text as it was (e.g. `GET /api/v1/config`'s content).
 */
export function blankDocuments(text: string, keys: ReadonlySet<string>): string {
  const lines = text.split(/\r?\n/);
  for (const d of documentKeys(text)) {
    if (d.key === null || !keys.has(d.key)) continue;
    for (let i = d.firstLine - 1; i < d.firstLine - 1 + d.lines && i < lines.length; i++) lines[i] = '';
  }
  return lines.join('\n');
}

/** `Kind/namespace/name` → `kind/name` (kubectl style), `kind/namespace/name` outside `default`. */
export function displayKey(key: string): string {
  const [kind, ns, ...rest] = key.split('/');
  const name = rest.join('/');
  if (kind === undefined || ns === undefined || name === '') return key;
  return ns === 'default' ? `${kind.toLowerCase()}/${name}` : `${kind.toLowerCase()}/${ns}/${name}`;
}
