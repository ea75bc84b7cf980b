// The CLI's pure pieces: the merged-mesh check of apply, document keys,
// option parsing, the API error mapping and the table format.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { applyReport } from '../../../control/cli/apply';
import { errorOf, transportReason } from '../../../control/cli/client';
import { blankDocuments, displayKey, documentKeys } from '../../../control/cli/documents';
import { CliError, ControlApiError } from '../../../control/cli/errors';
import { age, table } from '../../../control/cli/format';
import { historyTable } from '../../../control/cli/history';
import { checkMesh, mergedSources, sortProblems } from '../../../control/cli/mesh-check';
import { connection, controlUrl, DEFAULT_CONTROL, parseCommand } from '../../../control/cli/options';
import { statusReport } from '../../../control/cli/get';

const SERVICE = `apiVersion: wasmesh.io/v1alpha1
kind: Service
metadata:
  name: reviews
spec:
  endpoints:
  - address: 127.0.0.1:9001
    labels: { version: v1 }
`;
const RULE = `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: { version: v1 }
`;
const VS = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
`;

describe('control/cli apply: the mesh after the change', () => {
  const current = { version: 7, content: `${SERVICE}---\n${RULE}---\n${VS}` };

  it('a VirtualService whose Service lives in the control plane is fine; alone it is not', () => {
    const vs = VS.replace('subset: v1', 'subset: v1 # same');
    assert.deepEqual(checkMesh(mergedSources(current, [{ source: 'vs.yaml', text: vs }])).problems, []);
    assert.match(checkMesh([{ source: 'vs.yaml', text: vs }]).problems.join('\n'), /^vs\.yaml:10: .*unknown service "reviews"/);
  });

  it('the documents the files replace are blanked; the kept ones keep their lines (mesh vN:LINE)', () => {
    const rule = RULE.replace('name: v1', 'name: v2').replace('version: v1', 'version: v2');
    const sources = mergedSources(current, [{ source: 'rule.yaml', text: rule }]);
    assert.equal(sources[0]!.source, 'mesh v7');
    assert.equal(sources[0]!.text.split('\n').length, current.content.split('\n').length);
    assert.doesNotMatch(sources[0]!.text, /DestinationRule/);
    // The kept VirtualService's subset is gone: reported at its line in v7's content (line 30).
    assert.equal(current.content.split('\n')[29], '        subset: v1');
    assert.deepEqual(checkMesh(sources).problems.map((p) => p.replace(/: unknown subset.*/, '')), ['mesh v7:30: spec.http[0].route[0].destination.subset']);
  });

  it('an empty control plane contributes nothing', () => {
    assert.deepEqual(mergedSources({ version: 0, content: '' }, [{ source: 'a.yaml', text: SERVICE }]), [{ source: 'a.yaml', text: SERVICE }]);
  });

  it('problems are sorted by file (in -f order) then line', () => {
    const sorted = sortProblems(['b.yaml:3: x', 'mesh v7:1: y', 'a.yaml:12: z', 'a.yaml:2: w', 'other'], ['a.yaml', 'b.yaml', 'mesh v7']);
    assert.deepEqual(sorted, ['a.yaml:2: w', 'a.yaml:12: z', 'b.yaml:3: x', 'mesh v7:1: y', 'other']);
  });

  it('reports like kubectl, in the order of the files', () => {
    const order = ['Service/default/reviews', 'VirtualService/prod/reviews', 'DestinationRule/default/reviews'];
    const answer = { version: 8, created: ['VirtualService/prod/reviews'], configured: ['Service/default/reviews'], unchanged: ['DestinationRule/default/reviews'] };
    assert.equal(applyReport(order, answer, false), 'service/reviews configured\nvirtualservice/prod/reviews created\ndestinationrule/reviews unchanged\nversion 8\n');
    assert.equal(applyReport(order.slice(2), { version: 7, created: [], configured: [], unchanged: order.slice(2) }, false), 'destinationrule/reviews unchanged\nversion 7 (no change)\n');
    assert.match(applyReport(order.slice(1, 2), { ...answer, configured: [], unchanged: [] }, true), /^virtualservice\/prod\/reviews created \(dry run\)\nversion 8 \(dry run: nothing applied\)\n$/);
  });
});

describe('control/cli documents', () => {
  it('keys documents as the control plane does, skipping empty ones', () => {
    const text = `# leading comment\n---\n${SERVICE}---\nkind: VirtualService\nmetadata: { name: r, namespace: prod }\n---\nno: kind\n---\n`;
    assert.deepEqual(documentKeys(text).map((d) => [d.key, d.firstLine]), [['Service/default/reviews', 3], ['VirtualService/prod/r', 12], [null, 15]]);
    assert.equal(displayKey('Service/default/reviews'), 'service/reviews');
    assert.equal(displayKey('VirtualService/prod/r'), 'virtualservice/prod/r');
  });

  it('blankDocuments keeps line count', () => {
    const text = `${SERVICE}---\n${RULE}`;
    const out = blankDocuments(text, new Set(['Service/default/reviews']));
    assert.equal(out.split('\n').length, text.split('\n').length);
    assert.ok(out.startsWith('\n'.repeat(8) + '---\napiVersion: networking.istio.io/v1beta1'), JSON.stringify(out));
  });
});

describe('control/cli options and errors', () => {
  it('--control and --token, with their environment defaults', () => {
    const p = (argv: string[]) => parseCommand(argv, {});
    assert.deepEqual(connection(p(['--token', 't']), {}), { url: DEFAULT_CONTROL, token: 't' });
    assert.deepEqual(connection(p([]), { WASMESH_TOKEN: 'e', WASMESH_CONTROL: 'cp:9' }), { url: 'http://cp:9', token: 'e' });
    assert.deepEqual(connection(p(['--control=https://x/', '--token=t']), { WASMESH_TOKEN: 'e' }), { url: 'https://x', token: 't' });
    assert.throws(() => connection(p([]), {}), (e: unknown) => e instanceof CliError && e.code === 'CLI_NO_TOKEN' && /--token.*WASMESH_TOKEN/.test(e.message));
    assert.throws(() => controlUrl('ftp://x'), (e: unknown) => e instanceof CliError && e.code === 'CLI_USAGE');
  });

  it('unknown options and extra arguments are usage errors', () => {
    assert.throws(() => parseCommand(['--nope', 'x'], {}), /unknown option --nope/);
    assert.throws(() => parseCommand(['-f', 'a', '--dryrun'], { values: ['f'] }), /unknown option --dryrun/);
    assert.throws(() => parseCommand(['a', 'b'], { maxPositional: 1 }), /unexpected argument b/);
    assert.equal(parseCommand(['--dry-run', '-f', '-'], { values: ['f'], booleans: ['dry-run'] }).flags.get('f')![0], '-');
  });

  it('an API error keeps the server code, message and problems', () => {
    const e = errorOf('POST', '/api/v1/apply', 400, JSON.stringify({ error: { code: 'CONFIG_INVALID', message: 'invalid mesh config (1 error)', problems: ['a.yaml:3: spec: x'] } }));
    assert.ok(e instanceof ControlApiError);
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.equal(e.status, 400);
    assert.deepEqual(e.problems, ['a.yaml:3: spec: x']);
    const store = errorOf('POST', '/api/v1/apply', 500, '{"error":{"code":"STORE_LOCKED","message":"locked"}}');
    assert.equal((store as ControlApiError).code, 'STORE_LOCKED');
    const unauth = errorOf('GET', '/api/v1/services', 401, '{"error":{"code":"UNAUTHORIZED","message":"wrong token"}}');
    assert.match(unauth.message, /^wrong token \(give --token or set WASMESH_TOKEN/);
    const html = errorOf('GET', '/api/v1/services', 502, '<html>bad gateway</html>');
    assert.ok(html instanceof CliError);
    assert.equal(html.code, 'CLI_BAD_RESPONSE');
    assert.match(html.message, /HTTP 502: <html>bad gateway<\/html>/);
  });

  it('transport failures are one reason', () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    assert.match(transportReason(refused, 1000), /^connection refused/);
    const both = Object.assign(new TypeError('fetch failed'), { cause: { errors: [{ code: 'ECONNREFUSED' }, { code: 'ECONNREFUSED' }] } });
    assert.match(transportReason(both, 1000), /^connection refused/);
    assert.equal(transportReason(Object.assign(new Error('t'), { name: 'TimeoutError' }), 60_000), 'no answer within 60 s');
  });
});

describe('control/cli format', () => {
  it('aligns columns three spaces apart, <none> for empty cells, no trailing spaces', () => {
    assert.equal(table(['NAME', 'X', 'LAST'], [['a', null, 'z'], ['longer', 'yy', '']]), 'NAME     X        LAST\na        <none>   z\nlonger   yy       <none>\n');
  });

  it('ages like kubectl', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    assert.equal(age(now - 42_000, now), '42s');
    assert.equal(age(new Date(now - 312_000).toISOString(), now), '5m12s');
    assert.equal(age(now - 3 * 3600_000 - 4 * 60_000, now), '3h4m');
    assert.equal(age(now - 6 * 86400_000, now), '6d');
    assert.equal(age(null, now), null);
  });

  it('status: one row per proxy, a NACKED proxy\'s error on the next line, and a summary', () => {
    const now = Date.parse('2024-01-01T00:00:10Z');
    const out = statusReport({
      configVersion: 4,
      proxies: [
        { nodeId: 'gw-1', kind: 'gateway', namespace: 'default', service: null, address: '0.0.0.0:8080', status: 'SYNCED', acked: 9, pushed: 9, nacked: null, error: null, lastHeartbeat: '2024-01-01T00:00:09Z' },
        { nodeId: 'reviews-v1', kind: 'sidecar', namespace: 'default', service: 'reviews', address: '10.0.0.1:9080', status: 'NACKED', acked: 7, pushed: 8, nacked: 8, error: 'filter "x": boom', lastHeartbeat: '2024-01-01T00:00:10Z' },
      ],
    }, now);
    assert.equal(out, [
      'NODE         KIND      NAMESPACE   SERVICE   ADDRESS         STATUS   ACKED/PUSHED   HEARTBEAT',
      'gw-1         gateway   default     <none>    0.0.0.0:8080    SYNCED   9/9            1s',
      'reviews-v1   sidecar   default     reviews   10.0.0.1:9080   NACKED   7/8            0s',
      '  error (version 8 NACKED): filter "x": boom',
      '',
      'mesh config version 4: 2 proxies (1 SYNCED, 1 NACKED)',
      '',
    ].join('\n'));
  });

  it('history marks the current version and rollbacks', () => {
    const out = historyTable({
      current: 3,
      versions: [
        { version: 3, createdAt: '2024-01-01T10:00:00.123Z', author: 'ann@h', message: null, rollbackOf: 1, size: 100 },
        { version: 2, createdAt: '2024-01-01T09:00:00Z', author: 'bob@h', message: 'canary', size: 2048 },
      ],
    });
    assert.equal(out, [
      'VERSION       CREATED                AUTHOR   SIZE   MESSAGE',
      '3 (current)   2024-01-01 10:00:00Z   ann@h    100B   rollback of 1',
      '2             2024-01-01 09:00:00Z   bob@h    2KiB   canary',
      '',
    ].join('\n'));
  });
});
