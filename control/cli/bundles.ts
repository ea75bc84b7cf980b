// FilterBundle modules: a FilterBundle document may say `spec.module: PATH`
// (relative to its YAML file). `validate` checks the file; `apply` also
// uploads it and sends the document with `spec.sha256: SHA` in place of
// `spec.module`.
//
// The rewrite is an in-place edit of the text at the positions the `yaml`
// package's Document API gives for the nodes (parseAllDocuments + node
// ranges): the `module` key becomes `sha256` and its value the hash, on the
// same line. Every other byte of the file (the other documents, comments,
// formatting) stays as written and no line moves, so a problem the local
// check or the control plane finds in the rewritten text still points at
// the right line of the user's file. When `sha256` is also written (and
// matches), the `module` pair is blanked instead. Each edit is checked by
// parsing the result; if that ever fails (exotic YAML), the document is
// re-rendered through the Document API instead (its lines may then move).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { checkModule } from '../../runtime/wasm/loader';
import type { InputFile } from './files';

/** The control plane refuses bundles over this (docs/control-plane.md, 413 TOO_LARGE). */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;

/** A FilterBundle document's `spec.module`, located in its text. */
export interface ModuleRef {
  /** Index of the document in the text (parseAllDocuments order). */
  doc: number;
  /** metadata.name, or "" when absent. */
  name: string;
  /** As written. */
  module: string;
  /** 1-based line of the `module` key. */
  line: number;
  /** spec.sha256 as written, when it is a string. */
  sha256: string | null;
  /** The in-place edit that replaces `module: PATH` (the key and value spans). */
  key: [number, number];
  value: [number, number];
  /** When sha256 is also written: the span that removes the module pair (and its comma in a flow mapping). */
  remove: [number, number] | null;
}

/** FilterBundle documents with a string `spec.module`. Documents with YAML errors are skipped (parseMesh reports those). */
export function findModules(text: string): ModuleRef[] {
  const lc = new LineCounter();
  const out: ModuleRef[] = [];
  parseAllDocuments(text, { lineCounter: lc }).forEach((doc, i) => {
    if (doc.errors.length > 0 || !isMap(doc.contents) || doc.get('kind') !== 'FilterBundle') return;
    const spec = doc.get('spec', true);
    if (!isMap(spec)) return;
    const modulePair = pairOf(spec, 'module');
    if (modulePair === undefined) return;
    const k = modulePair.key as Scalar;
    const v = modulePair.value;
    if (!isScalar(v) || typeof v.value !== 'string' || v.range == null || k.range == null) return; // parseMesh reports the type
    const shaPair = pairOf(spec, 'sha256');
    const sha = shaPair !== undefined && isScalar(shaPair.value) && typeof shaPair.value.value === 'string' ? shaPair.value.value : null;
    const name = doc.getIn(['metadata', 'name']);
    out.push({
      doc: i,
      name: typeof name === 'string' ? name : '',
      module: v.value,
      line: lc.linePos(k.range[0]).line,
      sha256: sha,
      key: [k.range[0], k.range[1]],
      value: [v.range[0], v.range[1]],
      remove: shaPair === undefined ? null : removalSpan(spec, modulePair),
    });
  });
  return out;
}

function pairOf(map: YAMLMap, key: string): Pair<Scalar, unknown> | undefined {
  return map.items.find((p): p is Pair<Scalar, unknown> => isScalar(p.key) && p.key.value === key);
}

/** Where to cut to drop `pair` from `map`: the pair itself in a block mapping; with one comma in a flow one. */
function removalSpan(map: YAMLMap, pair: Pair<Scalar, unknown>): [number, number] | null {
  const start = pair.key.range?.[0];
  const end = (pair.value as Scalar).range?.[1];
  if (start == null || end == null) return null;
  if (!map.flow) return [start, end];
  const i = map.items.indexOf(pair as Pair);
  const next = map.items[i + 1]?.key as Scalar | undefined;
  if (next?.range != null) return [start, next.range[0]];
  const prev = map.items[i - 1]?.value as Scalar | undefined;
  if (prev?.range != null) return [prev.range[1], end];
  return null;
}

export interface CheckedModule {
  ref: ModuleRef;
  file: InputFile;
  /** The resolved path. */
  path: string;
  sha256: string;
  bytes: Buffer;
}

export interface ModuleCheckResult {
  modules: CheckedModule[];
  /** `FILE:LINE: spec.module: MESSAGE` */
  problems: string[];
}

/**
 * Reads every FilterBundle module of `files`: it must exist, hash to
 * `spec.sha256` when that is written too, compile as WebAssembly and be a
 * proxy-wasm module this host can load. Offline.
 */
export function checkModules(files: readonly InputFile[]): ModuleCheckResult {
  const modules: CheckedModule[] = [];
  const problems: string[] = [];
  const cache = new Map<string, Inspected>();
  for (const file of files) {
    for (const ref of findModules(file.text)) {
      const at = `${file.source}:${ref.line}: spec.module: `;
      const abs = path.resolve(file.dir, ref.module);
      let entry = cache.get(abs);
      if (entry === undefined) {
        entry = inspect(abs, ref);
        cache.set(abs, entry);
      }
      if (entry.problem !== null) {
        problems.push(at + entry.problem(shown(ref.module)));
        continue;
      }
      if (ref.sha256 !== null && ref.sha256 !== entry.sha256) {
        problems.push(`${at}${shown(ref.module)} hashes to ${entry.sha256}, but spec.sha256 is ${ref.sha256}`);
        continue;
      }
      modules.push({ ref, file, path: abs, sha256: entry.sha256, bytes: entry.bytes });
    }
  }
  return { modules, problems };
}

/** A path as is, or quoted when it holds spaces or control characters (a block scalar's newline). */
function shown(p: string): string {
  return /[\s"\\]/.test(p) ? JSON.stringify(p) : p;
}

/** A module file read and checked once per run; `problem` words a message for the path as a document wrote it. */
type Inspected = { bytes: Buffer; sha256: string; problem: null } | { problem: (module: string) => string };

function inspect(abs: string, ref: ModuleRef): Inspected {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    return { problem: (m) => `cannot read ${m} (${shown(abs)}): ${why}` };
  }
  if (bytes.byteLength > MAX_BUNDLE_BYTES) return { problem: (m) => `${m} is ${bytes.byteLength} bytes, over the control plane's bundle limit of ${MAX_BUNDLE_BYTES}` };
  try {
    new WebAssembly.Module(bytes);
  } catch (e) {
    return { problem: (m) => `${m} is not a WebAssembly module: ${(e as Error).message}` };
  }
  try {
    checkModule(ref.name || 'bundle', bytes); // what the proxy checks before loading it: ABI marker and imports
  } catch (e) {
    return { problem: (m) => `${m}: ${(e as Error).message.replace(/^filter "[^"]*": /, '')}` };
  }
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), problem: null };
}

/**
 * `text` with each listed module replaced by its sha256 (see the top of this
 * file). `modules` must come from findModules(text) of this same text.
 */
export function rewriteModules(text: string, modules: readonly { ref: ModuleRef; sha256: string }[]): string {
  const edits: { start: number; end: number; with: string }[] = [];
  for (const { ref, sha256 } of modules) {
    if (ref.sha256 !== null) {
      if (ref.remove !== null) edits.push(keepingLines(text, ref.remove, ''));
      else return rewriteByDocument(text, modules); // cannot place the cut: re-render
    } else {
      edits.push(keepingLines(text, ref.key, 'sha256'));
      edits.push(keepingLines(text, ref.value, `"${sha256}"`));
    }
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.with + out.slice(e.end);
  return rewritten(out, modules) ? out : rewriteByDocument(text, modules);
}

/** Replaces [start, end) by `by` followed by as many newlines as the span held (a block scalar value spans lines). */
function keepingLines(text: string, [start, end]: [number, number], by: string): { start: number; end: number; with: string } {
  const newlines = (text.slice(start, end).match(/\n/g) ?? []).length;
  return { start, end, with: by + '\n'.repeat(newlines) };
}

/** True when every listed document now has the sha256 and no module. */
function rewritten(text: string, modules: readonly { ref: ModuleRef; sha256: string }[]): boolean {
  const docs = parseAllDocuments(text);
  return modules.every(({ ref, sha256 }) => {
    const d = docs[ref.doc];
    return d !== undefined && d.errors.length === 0 && d.getIn(['spec', 'sha256']) === sha256 && !d.hasIn(['spec', 'module']);
  });
}

/** The fallback: edit the documents through the Document API and re-render only those. */
function rewriteByDocument(text: string, modules: readonly { ref: ModuleRef; sha256: string }[]): string {
  const docs = parseAllDocuments(text) as Document.Parsed[];
  const byDoc = new Map(modules.map((m) => [m.ref.doc, m.sha256]));
  let out = text;
  for (const [i, sha256] of [...byDoc].sort((a, b) => b[0] - a[0])) {
    const d = docs[i]!;
    d.setIn(['spec', 'sha256'], sha256);
    d.deleteIn(['spec', 'module']);
    out = out.slice(0, d.range[0]) + d.toString({ lineWidth: 0 }) + out.slice(d.range[2]);
  }
  return out;
}

export interface PreparedFiles {
  /** What to send: each file's text with its modules replaced by their sha256. */
  documents: { source: string; text: string }[];
  /** The module bytes to upload, one per sha256. */
  uploads: CheckedModule[];
  problems: string[];
}

/** checkModules + rewriteModules over every file: what `apply` sends. */
export function prepareFiles(files: readonly InputFile[]): PreparedFiles {
  const { modules, problems } = checkModules(files);
  const documents = files.map((file) => {
    const mine = modules.filter((m) => m.file === file);
    return { source: file.source, text: mine.length === 0 ? file.text : rewriteModules(file.text, mine.map((m) => ({ ref: m.ref, sha256: m.sha256 }))) };
  });
  const uploads = [...new Map(modules.map((m) => [m.sha256, m])).values()];
  return { documents, uploads, problems };
}
