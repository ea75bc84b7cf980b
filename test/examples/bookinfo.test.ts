// The README walkthrough end to end, against the real `wasmesh demo` process
// (control plane, gateway and six sidecars as its children, the Bookinfo
// services in it). Every step applies the same files with the CLI and sends
// the same requests as README.md's "Walkthrough" (curl's loops become bounded
// loops here), then asserts what the README says the user sees. The demo runs
// with --port-offset 10000 so that a demo left running on the default ports
// does not get in the way; README port P is P + 10000 here. At the end, SIGINT
// must stop every child process and free every port.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { request, type Res } from '../support/http';
import { BIN } from '../support/proxy';
import { allPorts, demoPorts } from '../../examples/bookinfo/ports';

const ROOT = path.join(__dirname, '../../..');
const OFFSET = 10_000;
const PORTS = demoPorts(OFFSET);
/** A README port (8080, 15000, 9083, 15100, ...) as the test's demo has it. */
const port = (readmePort: number) => readmePort + OFFSET;
const GW = port(8080);

/** Step 7's load run, as the README writes it. */
const BENCH = 'npx wasmesh bench http://localhost:8080/productpage --rate 100 -c 10 -d 5s';

/** The steps' files, as the README names them. */
const STEP_FILES = [
  'examples/bookinfo/steps/01-reviews-v1.yaml',
  'examples/bookinfo/steps/02-reviews-90-10.yaml',
  'examples/bookinfo/steps/03-ratings-delay.yaml',
  'examples/bookinfo/steps/04-reviews-timeout.yaml',
  'examples/bookinfo/steps/05-reviews-outlier.yaml',
  'examples/bookinfo/steps/06-ratelimit.yaml',
  'examples/bookinfo/steps/07-deny-reviews-api.yaml',
  'examples/custom-filter/bundle.yaml',
];

function walkthrough(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Walkthrough');
  assert.ok(start >= 0, 'README.md has a Walkthrough section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Direct children of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) out.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Processes whose process group is one of `groups`. */
function inGroups(groups: Set<number>): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && groups.has(Number(fields[2]))) out.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function portFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or 'timeout' after `ms` (the timer does not outlive the race). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

describe('examples/bookinfo: the README walkthrough against `wasmesh demo`', () => {
  let demo: ChildProcess;
  let out = '';
  let exited: Promise<number | null>;
  let env: NodeJS.ProcessEnv;
  let children: number[] = [];

  /** `npx wasmesh ARGS` from the repository root, with the exported token. */
  const wasmesh = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const apply = async (file: string) => {
    const r = wasmesh('apply', '-f', file);
    assert.equal(r.status, 0, `apply ${file}: ${r.stdout}${r.stderr}`);
    const version = Number(/^version (\d+)$/m.exec(r.stdout)?.[1]);
    assert.ok(version > 0, r.stdout);
    // As `npx wasmesh status` would show: every proxy SYNCED on this version (bounded wait).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await get(PORTS.control, '/api/v1/proxies', { authorization: `Bearer ${env.WASMESH_TOKEN}` });
      const { proxies } = JSON.parse(res.body.toString()) as { proxies: { status: string; configVersion: number }[] };
      if (proxies.length === 7 && proxies.every((p) => p.status === 'SYNCED' && p.configVersion >= version)) break;
      assert.ok(Date.now() < deadline, `proxies not SYNCED on version ${version}: ${JSON.stringify(proxies)}`);
      await sleep(50);
    }
    return r.stdout;
  };
  const get = (p: number, urlPath: string, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<Res> =>
    request({ port: p, path: urlPath, headers, timeoutMs });
  const page = async (headers: Record<string, string> = {}) => {
    const r = await get(GW, '/productpage', headers);
    return { ...r, text: r.body.toString() };
  };
  /** `for i in $(seq N); do curl -s localhost:8080/productpage | grep '^Book Reviews'; done` */
  const reviewsLines = async (n: number): Promise<string[]> => {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const p = await page();
      assert.equal(p.status, 200, p.text);
      lines.push(...p.text.split('\n').filter((l) => l.startsWith('Book Reviews')));
    }
    return lines;
  };
  const count = (lines: string[]) => {
    const c: Record<string, number> = {};
    for (const l of lines) c[l] = (c[l] ?? 0) + 1;
    return c;
  };
  const metric = async (admin: number, name: string): Promise<number | null> => {
    const text = (await get(admin, '/stats/prometheus')).body.toString();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? null : Number(line.slice(name.length + 1));
  };

  before(async () => {
    for (const p of allPorts(PORTS)) assert.ok(await portFree(p), `port ${p} is free before the demo starts`);
    demo = spawn(process.execPath, [BIN, 'demo', '--port-offset', String(OFFSET)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    exited = new Promise((r) => demo.on('exit', (code) => r(code)));
    demo.stdout!.on('data', (d) => (out += d));
    demo.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 60_000;
    while (!out.includes('Ctrl-C stops everything')) {
      if (demo.exitCode !== null) throw new Error(`the demo exited with ${demo.exitCode}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`the demo did not start within 60 s:\n${out}`);
      await sleep(50);
    }
    children = childrenOf(demo.pid!);
    const token = /^ {2}export WASMESH_TOKEN=(\S+)$/m.exec(out)?.[1];
    const control = /^ {2}export WASMESH_CONTROL=(\S+)$/m.exec(out)?.[1];
    assert.ok(token, `the demo prints the token to export:\n${out}`);
    assert.equal(control, `http://127.0.0.1:${PORTS.control}`);
    env = { ...process.env, WASMESH_TOKEN: token, WASMESH_CONTROL: control };
  });

  after(async () => {
    // Only if a step failed before the SIGINT test: stop the demo, and its children whatever happens.
    if (demo && demo.exitCode === null && demo.signalCode === null) {
      demo.kill('SIGINT');
      await within(exited, 15_000);
    }
    for (const pid of children) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (demo && demo.exitCode === null) demo.kill('SIGKILL');
  });

  it('prints the URLs, the ports and what to try; the README walkthrough names every step file', () => {
    assert.match(out, new RegExp(`product page +http://localhost:${GW}/productpage`));
    assert.match(out, /reviews-v2 +19083 +25130\/25131\/25136/);
    assert.match(out, /npx wasmesh status/);
    assert.equal(children.length, 8, `control plane, gateway and 6 sidecars: ${children}`);
    const text = walkthrough();
    for (const f of STEP_FILES) {
      assert.ok(text.includes(`npx wasmesh apply -f ${f}`), `README walkthrough applies ${f}`);
      assert.ok(fs.existsSync(path.join(ROOT, f)), f);
    }
    const mentioned = [...text.matchAll(/examples\/bookinfo\/steps\/[\w.-]+\.yaml/g)].map((m) => m[0]);
    for (const f of mentioned) assert.ok(STEP_FILES.includes(f), `README names ${f}, which this test does not run`);
    for (const f of fs.readdirSync(path.join(ROOT, 'examples/bookinfo/steps'))) assert.ok(STEP_FILES.includes(`examples/bookinfo/steps/${f}`), `step file ${f} is in the walkthrough`);
    assert.ok(text.includes(BENCH), `README walkthrough runs ${BENCH}`);
  });

  it('0. look around: 7 proxies SYNCED; reviews spread over v1, v2 and v3', async () => {
    const status = wasmesh('status');
    assert.equal(status.status, 0, status.stderr);
    for (const id of ['istio-ingressgateway', 'productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1']) {
      assert.match(status.stdout, new RegExp(`^${id}\\s.*SYNCED`, 'm'));
    }
    const services = wasmesh('get', 'services');
    assert.match(services.stdout, /reviews\s.*3 \(3 registered\)/);
    const p = await page();
    assert.equal(p.status, 200);
    assert.match(p.text, /^Book Details: details-v1$/m);
    assert.deepEqual(count(await reviewsLines(12)), { 'Book Reviews: reviews-v1': 4, 'Book Reviews: reviews-v2': 4, 'Book Reviews: reviews-v3': 4 });
    const html = await get(GW, '/productpage', { accept: 'text/html' });
    assert.match(String(html.headers['content-type']), /text\/html/);
  });

  it('1. traffic shifting: all to v1, then 90/10 to v3', async () => {
    assert.match(await apply('examples/bookinfo/steps/01-reviews-v1.yaml'), /virtualservice\/reviews created/);
    assert.deepEqual(count(await reviewsLines(12)), { 'Book Reviews: reviews-v1': 12 });
    assert.match(await apply('examples/bookinfo/steps/02-reviews-90-10.yaml'), /virtualservice\/reviews configured/);
    const c = count(await reviewsLines(100));
    const v1 = c['Book Reviews: reviews-v1'] ?? 0;
    const v3 = c['Book Reviews: reviews-v3'] ?? 0;
    assert.equal(v1 + v3, 100, JSON.stringify(c));
    assert.ok(v3 >= 1 && v3 <= 25, `about 10 of 100 to v3: ${JSON.stringify(c)}`);
  });

  it('2. a 7 s delay on ratings, then a 2 s timeout with one retry on reviews', async () => {
    await apply('examples/bookinfo/steps/03-ratings-delay.yaml');
    let t = Date.now();
    let p = await page();
    let took = Date.now() - t;
    assert.equal(p.status, 200);
    assert.ok(took >= 6_900 && took < 11_000, `the page took ${took} ms`);
    assert.match(p.text, /^Book Reviews: reviews-v3$/m);
    assert.match(p.text, /★★★★★ \(red stars\)/);

    await apply('examples/bookinfo/steps/04-reviews-timeout.yaml');
    t = Date.now();
    p = await page();
    took = Date.now() - t;
    assert.equal(p.status, 200);
    assert.ok(took >= 1_900 && took < 4_000, `the page took ${took} ms`);
    assert.match(p.text, /^Book Reviews: unavailable$/m);
    assert.match(p.text, /HTTP 504, x-wasmesh-reason: UT, x-wasmesh-attempts: 2, after 2\.\d\d s/);
    assert.match(p.text, /^Book Details: details-v1$/m);
  });

  it('3. circuit breaking: a failing reviews-v2 is ejected after three 5xx, and comes back healed', async () => {
    await apply('examples/bookinfo/steps/05-reviews-outlier.yaml');
    const fail = await request({ port: port(9083), path: '/fail', method: 'POST' });
    assert.equal(fail.status, 200);
    assert.deepEqual(JSON.parse(fail.body.toString()), { instance: 'reviews-v2', failing: true });
    const lines = await reviewsLines(12);
    const ejectedAt = Date.now();
    assert.equal(lines.filter((l) => l === 'Book Reviews: unavailable').length, 3, lines.join('\n'));
    assert.ok(!lines.includes('Book Reviews: reviews-v2'), lines.join('\n'));
    // After the third failure (at the 9th request at the latest: v2 gets every third), only v1 and v3.
    const after3 = lines.slice(lines.lastIndexOf('Book Reviews: unavailable') + 1);
    assert.ok(after3.length >= 3, lines.join('\n'));
    assert.deepEqual(new Set(after3), new Set(['Book Reviews: reviews-v1', 'Book Reviews: reviews-v3']), lines.join('\n'));
    // curl -s localhost:15100/stats/prometheus | grep 'outlier.*reviews"'
    assert.equal(await metric(port(15100), 'wasmesh_cluster_outlier_ejected{cluster="reviews"}'), 1);
    const clusters = JSON.parse((await get(port(15100), '/clusters')).body.toString()) as { name: string; endpoints: { address: string; ejected: boolean }[] }[];
    const v2 = clusters.find((c) => c.name === 'reviews')!.endpoints.find((e) => e.address === `127.0.0.1:${port(15136)}`);
    assert.equal(v2?.ejected, true, JSON.stringify(clusters));

    const heal = await request({ port: port(9083), path: '/heal', method: 'POST' });
    assert.equal(heal.status, 200);
    // `sleep 10`, then the loop: here, a bounded poll until v2 answers again.
    let back = 0;
    for (let i = 0; i < 100 && back === 0; i++) {
      if ((await reviewsLines(1)).includes('Book Reviews: reviews-v2')) back = Date.now() - ejectedAt;
      else await sleep(250);
    }
    assert.ok(back >= 8_000 && back < 16_000, `reviews-v2 back after ${back} ms (ejected for 10 s)`);
    const again = count(await reviewsLines(6));
    assert.deepEqual(again, { 'Book Reviews: reviews-v1': 2, 'Book Reviews: reviews-v2': 2, 'Book Reviews: reviews-v3': 2 });
  });

  it('4. rate limiting: jason gets 5 requests, then 429; kim has her own bucket', async () => {
    await apply('examples/bookinfo/steps/06-ratelimit.yaml');
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) codes.push((await page({ 'end-user': 'jason' })).status);
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 429, 429, 429]);
    const limited = await page({ 'end-user': 'jason' });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['x-wasmesh-reason'], 'RL');
    assert.equal(limited.headers['x-ratelimit-limit'], '5');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    const kim = await page({ 'end-user': 'kim' });
    assert.equal(kim.status, 200);
    assert.equal(kim.text.split('\n')[0], 'Signed in as kim');
    assert.equal((await page()).status, 200);
  });

  it('5. authorization: the gateway denies the reviews API, not the page', async () => {
    await apply('examples/bookinfo/steps/07-deny-reviews-api.yaml');
    const denied = await get(GW, '/api/v1/products/0/reviews');
    assert.equal(denied.status, 403);
    assert.equal(denied.body.toString(), 'RBAC: access denied');
    assert.equal(denied.headers['x-wasmesh-reason'], 'UAEX');
    assert.equal((await get(GW, '/api/v1/products/0/ratings')).status, 403);
    const details = await get(GW, '/api/v1/products/0');
    assert.equal(details.status, 200);
    assert.equal(JSON.parse(details.body.toString()).author, 'William Shakespeare');
    const p = await page();
    assert.match(p.text, /^Book Details: details-v1$/m);
    assert.match(p.text, /^Book Reviews: reviews-v\d$/m);
  });

  it('6. a custom filter: built, applied and hot-loaded by every proxy, no restart', async () => {
    const build = wasmesh('filter', 'build', 'examples/custom-filter');
    assert.equal(build.status, 0, build.stderr);
    assert.match(build.stdout, /examples\/custom-filter\/build\/path-stats\.wasm +\d+ bytes +sha256 [0-9a-f]{64}/);
    const applied = await apply('examples/custom-filter/bundle.yaml');
    assert.match(applied, /filterbundle\/path-stats (created|configured|unchanged)/);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await page();
      const m = /^productpage (\d+)$/.exec(String(p.headers['x-path-count']));
      assert.ok(m, `x-path-count: ${p.headers['x-path-count']}`);
      seen.push(Number(m[1]));
    }
    assert.deepEqual([seen[1]! - seen[0]!, seen[2]! - seen[1]!], [1, 1], String(seen));
    assert.equal(await metric(port(15000), 'wasmesh_filter_bundle_path_stats_requests_productpage'), seen[2]);
    assert.ok((await metric(port(15100), 'wasmesh_filter_bundle_path_stats_requests_details'))! >= 3);
    assert.ok((await metric(port(15100), 'wasmesh_filter_bundle_path_stats_requests_reviews'))! >= 3);
    // Hot-loaded: the same processes as at the start.
    assert.deepEqual(childrenOf(demo.pid!).sort(), [...children].sort());
  });

  it('7. metrics: the admin endpoints and the CLI', async () => {
    assert.ok((await metric(port(15000), 'wasmesh_filter_ratelimit_per_user_rq_limited'))! >= 4);
    assert.ok((await metric(port(15000), 'wasmesh_filter_authz_denied'))! >= 2);
    // Steps 1 and 2: 12 calls, then about 90 of 100 (a weighted random pick, so not exactly).
    assert.ok((await metric(port(15100), 'wasmesh_cluster_upstream_rq_total{cluster="reviews|v1"}'))! >= 75);
    assert.ok((await metric(port(15100), 'wasmesh_cluster_upstream_rq_total{cluster="reviews|v3"}'))! >= 2);
    assert.ok((await metric(port(15100), 'wasmesh_listener_downstream_rq_xx_total{listener="outbound",code_class="2xx"}'))! > 0);
    const dump = JSON.parse((await get(port(15000), '/config_dump')).body.toString());
    assert.equal(dump.control.connected, true);
    assert.ok(dump.filters.some((f: { module: string }) => f.module.startsWith('sha256:')), 'the bundle is among the gateway filters');
    const history = wasmesh('history');
    assert.equal(history.status, 0, history.stderr);
    assert.match(history.stdout, /\(current\)/);

    // The README's load run against the gateway (its port shifted), with --json to read the result.
    const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bookinfo-bench-')), 'run.json');
    const args = BENCH.replace('npx wasmesh ', '').replace(':8080/', `:${GW}/`).split(' ');
    const bench = wasmesh(...args, '--json', json);
    assert.equal(bench.status, 0, bench.stdout + bench.stderr);
    assert.match(bench.stdout, /rate +\d+ req\/s of 100 target/);
    assert.match(bench.stdout, /status +200 × \d+/);
    assert.match(bench.stdout, /errors +none/);
    const run = JSON.parse(fs.readFileSync(json, 'utf8'));
    fs.rmSync(path.dirname(json), { recursive: true });
    assert.equal(run.targetMet, true, JSON.stringify(run.warnings));
    assert.equal(run.requests.intended, 500);
    assert.equal(run.status['200'], run.requests.completed);
    assert.equal(run.errorsTotal, 0);
    // Through the gateway and the sidecars on a shared 2-CPU machine: a loose bound, against hangs.
    assert.ok(run.latency.p50 > 0 && run.latency.p50 < 1_000, `p50 ${run.latency.p50} ms`);
  });

  it('Ctrl-C (SIGINT) stops every process and frees every port', async () => {
    const t = Date.now();
    demo.kill('SIGINT');
    const code = await within(exited, 20_000);
    assert.equal(code, 0, `the demo exits 0 on SIGINT (${Date.now() - t} ms):\n${out.slice(-2000)}`);
    assert.match(out, /stopped\.\n$/);
    for (const pid of children) assert.throws(() => process.kill(pid, 0), /ESRCH/, `child ${pid} is gone`);
    assert.deepEqual(inGroups(new Set(children)), [], 'nothing left in the children\'s process groups');
    const busy: number[] = [];
    for (const p of allPorts(PORTS)) if (!(await portFree(p))) busy.push(p);
    assert.deepEqual(busy, [], 'every port is free');
  });
});
