// The mesh as a list of documents keyed by Kind/namespace/name: what apply
// replaces or adds and delete removes. The store keeps the joined text, so
// comments and formatting of every document survive.
import { parse } from 'yaml';
import { cutDocuments } from '../mesh/documents';

export interface KeyedDocument {
  key: string;
  text: string;
}

/** The documents of `text`; a document whose key cannot be read gets key null (parseMesh reports why). */
export function keyedDocuments(text: string): { key: string | null; text: string }[] {
  const out: { key: string | null; text: string }[] = [];
  for (const piece of cutDocuments(text)) {
    if (piece.text.trim() === '' || /^(\s*#.*\n?|\s*\n)*$/.test(piece.text)) continue;
    out.push({ key: documentKey(piece.text), text: piece.text.replace(/\s+$/, '') + '\n' });
  }
  return out;
}

export function documentKey(text: string): string | null {
  let v: unknown;
  try {
    v = parse(text);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  const d = v as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof d.kind !== 'string' || typeof d.metadata?.name !== 'string') return null;
  const ns = typeof d.metadata.namespace === 'string' ? d.metadata.namespace : 'default';
  return `${d.kind}/${ns}/${d.metadata.name}`;
}

export function joinDocuments(docs: readonly KeyedDocument[]): string {
  return docs.map((d) => d.text).join('---\n');
}

/** `current` with `incoming` applied: same key replaced in place, new ones appended. */
export function mergeDocuments(current: readonly KeyedDocument[], incoming: readonly KeyedDocument[]): { docs: KeyedDocument[]; created: string[]; configured: string[]; unchanged: string[] } {
  const docs = [...current];
  const created: string[] = [];
  const configured: string[] = [];
  const unchanged: string[] = [];
  for (const d of incoming) {
    const i = docs.findIndex((c) => c.key === d.key);
    if (i < 0) {
      docs.push(d);
      created.push(d.key);
    } else if (sameDocument(docs[i]!.text, d.text)) {
      unchanged.push(d.key);
    } else {
      docs[i] = d;
      configured.push(d.key);
    }
  }
  return { docs, created, configured, unchanged };
}

function sameDocument(a: string, b: string): boolean {
  try {
    return JSON.stringify(parse(a)) === JSON.stringify(parse(b));
  } catch {
    return a === b;
  }
}
