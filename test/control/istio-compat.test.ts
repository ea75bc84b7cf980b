// Keeps docs/istio-compatibility.md true: every field its tables name is set,
// one row per file, on a minimal resource of that kind, and the whole
// directory goes through `wasmesh validate -f` (the control plane's own
// checks) once. A "rejected" field must be refused at its own path as not
// supported; any other field must be known (no "unknown field", no "not
// supported"). Dummy values make type errors, which is fine: they show the
// field is read. In a row, `a.b.c`, `d`, `e` names a.b.c, a.b.d and a.b.e;
// names in parentheses are children of the first; `not*` forms are skipped.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { BIN } from '../support/proxy';

const DOC = path.join(__dirname, '../../../docs/istio-compatibility.md');
const SHA = 'a'.repeat(64);

const KINDS: Record<string, { apiVersion: string; kind: string; spec: () => Record<string, unknown> }> = {
  VirtualService: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', spec: () => ({ hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] }) },
  DestinationRule: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', spec: () => ({ host: 'reviews' }) },
  Gateway: {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    spec: () => ({ selector: { app: 'gw' }, servers: [{ port: { number: 80, protocol: 'HTTP', name: 'http' }, hosts: ['*'] }] }),
  },
  AuthorizationPolicy: { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', spec: () => ({}) },
  PeerAuthentication: { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', spec: () => ({}) },
  FilterBundle: { apiVersion: 'wasmesh.io/v1alpha1', kind: 'FilterBundle', spec: () => ({ version: '1', sha256: SHA }) },
};

interface Row {
  kind: string;
  line: number;
  status: string;
  /** [path segments, value] per field. */
  fields: { path: string; value: unknown }[];
}

function rows(): Row[] {
  const out: Row[] = [];
  let kind = '';
  fs.readFileSync(DOC, 'utf8').split('\n').forEach((l, i) => {
    const h = /^## (\w+)/.exec(l);
    if (h) kind = l.includes('FilterBundle') ? 'FilterBundle' : h[1]!;
    if (!l.startsWith('| `')) return;
    const [, fieldCell, status] = l.split('|').map((c) => c.trim());
    const [head, children] = fieldCell!.split('(');
    const tokens = [...head!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const first = tokens[0]!;
    const parent = first.includes('.') ? first.slice(0, first.lastIndexOf('.') + 1) : '';
    const names = [first, ...tokens.slice(1).map((t) => parent + t)];
    if (children) names.push(...[...children.matchAll(/`([^`]+)`/g)].map((m) => `${first}.${m[1]}`));
    const fields = names
      .filter((n) => !n.includes('*'))
      .map((n) => {
        const [p, v] = n.split(': ');
        return { path: p!, value: v ?? 'x' };
      });
    out.push({ kind, line: i + 1, status: status!, fields });
  });
  return out;
}

/** Set `a[].b.c` (arrays get one element) on obj. */
function setPath(obj: Record<string, unknown>, p: string, value: unknown): void {
  const segs = p.split('.');
  let cur: Record<string, unknown> = obj;
  segs.forEach((seg, i) => {
    const isList = seg.endsWith('[]');
    const key = isList ? seg.slice(0, -2) : seg;
    const last = i === segs.length - 1;
    if (last && !isList) {
      cur[key] = value;
      return;
    }
    if (isList) {
      if (!Array.isArray(cur[key])) cur[key] = [{}];
      const list = cur[key] as unknown[];
      if (last) list[0] = value;
      else {
        if (typeof list[0] !== 'object' || list[0] === null) list[0] = {};
        cur = list[0] as Record<string, unknown>;
      }
    } else {
      if (typeof cur[key] !== 'object' || cur[key] === null || Array.isArray(cur[key])) cur[key] = {};
      cur = cur[key] as Record<string, unknown>;
    }
  });
}

/** `spec.a[0].b` as the validator reports it. */
const reported = (p: string) => `spec.${p.replace(/\[\]/g, '[0]')}`;

describe('docs/istio-compatibility.md matches the control plane', () => {
  it('every rejected field is refused by name; every other field is known', () => {
    const all = rows();
    assert.ok(all.length >= 60, `rows parsed: ${all.length}`);
    for (const k of Object.keys(KINDS)) assert.ok(all.some((r) => r.kind === k), `a table for ${k}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-compat-'));
    try {
      fs.writeFileSync(path.join(dir, 'service.yaml'), stringify({ apiVersion: 'wasmesh.io/v1alpha1', kind: 'Service', metadata: { name: 'reviews' }, spec: { ports: [{ name: 'http', port: 9080 }] } }));
      const files: { row: Row; field: { path: string; value: unknown }; file: string }[] = [];
      all.forEach((row, i) =>
        row.fields.forEach((field, j) => {
          const k = KINDS[row.kind]!;
          const spec = k.spec();
          setPath(spec, field.path, field.value);
          const file = `row${i}-${j}.yaml`;
          fs.writeFileSync(path.join(dir, file), stringify({ apiVersion: k.apiVersion, kind: k.kind, metadata: { name: `r${i}-${j}` }, spec }));
          files.push({ row, field, file });
        }),
      );
      const r = spawnSync(process.execPath, [BIN, 'validate', '-f', dir], { encoding: 'utf8', timeout: 60_000 });
      const errors = r.stdout + r.stderr;
      const problems: string[] = [];
      for (const { row, field, file } of files) {
        const at = reported(field.path);
        const mine = errors.split('\n').filter((l) => l.includes(`/${file}:`) && l.includes(`${at}:`));
        const refused = mine.some((l) => /not supported/.test(l));
        const unknown = mine.some((l) => /unknown field/.test(l));
        const where = `docs line ${row.line} (${row.kind} ${field.path}, ${row.status})`;
        if (row.status === 'rejected' && !refused) problems.push(`${where}: not refused: ${mine.join(' / ') || 'no error at that path'}`);
        if (row.status !== 'rejected' && (refused || unknown)) problems.push(`${where}: ${mine.join(' / ')}`);
      }
      assert.deepEqual(problems, []);
      assert.ok(files.length >= 150, `fields checked: ${files.length}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
