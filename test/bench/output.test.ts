// `wasmesh bench` output: the CLI's report, the --json file and the SVG plots.
import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, it } from 'node:test';
import { decode } from '../../bench/tool/histogram';
import type { BenchResult } from '../../bench/tool/run';
import { parseBenchArgs } from '../../bench/tool/cli';
import { checkXml, countingServer, OK_CL } from './helpers';

const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'wasmesh.js');

function wasmesh(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('bench tool: output', () => {
  it('--json, --plot, --spectrum, --progress, then bench plot overlays two runs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmesh-bench-out-'));
    const srv = await countingServer((_n, sock) => sock.write(OK_CL));
    try {
      const url = `http://127.0.0.1:${srv.port}/`;
      const a = await wasmesh(['bench', url, '--rate', '300', '-c', '2', '-d', '1s', '-w', '0', '--json', path.join(dir, 'a.json'), '--plot', path.join(dir, 'a.svg'), '--spectrum', '--progress', '--label', 'run A']);
      assert.equal(a.code, 0, a.stderr);
      assert.match(a.stdout, /open loop at 300 req\/s/);
      assert.match(a.stdout, /rate +300 req\/s of 300 target \(100\.0 %\)/);
      assert.match(a.stdout, /latency +\S+/);
      assert.match(a.stdout, /Percentile TotalCount 1\/\(1-Percentile\)/);
      assert.match(a.stderr, /measuring +\d/); // non-TTY progress: one line per second
      const b = await wasmesh(['bench', url, '--max', '-c', '2', '-t', '2', '-d', '0.5s', '-w', '0', '--json', path.join(dir, 'b.json')]);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /closed loop/);

      const ra = JSON.parse(fs.readFileSync(path.join(dir, 'a.json'), 'utf8')) as BenchResult;
      const rb = JSON.parse(fs.readFileSync(path.join(dir, 'b.json'), 'utf8')) as BenchResult;
      assert.equal(ra.tool, 'wasmesh bench');
      assert.equal(ra.mode, 'open');
      assert.equal(ra.label, 'run A');
      assert.equal(ra.targetRps, 300);
      assert.equal(ra.requests.completed, 300);
      assert.equal(ra.status['200'], 300);
      assert.equal(ra.latency.count, 300);
      for (const k of ['p50', 'p90', 'p99', 'p999', 'max'] as const) assert.equal(typeof ra.latency[k], 'number');
      assert.ok(ra.latency.p50 <= ra.latency.p99 && ra.latency.p99 <= ra.latency.max);
      assert.ok(ra.spectrum.length > 10);
      for (let i = 1; i < ra.spectrum.length; i++) {
        assert.ok(ra.spectrum[i]!.percentile > ra.spectrum[i - 1]!.percentile);
        assert.ok(ra.spectrum[i]!.ms >= ra.spectrum[i - 1]!.ms);
      }
      assert.equal(ra.spectrum[ra.spectrum.length - 1]!.percentile, 100);
      assert.equal(decode(ra.histograms.latency).totalCount, 300);
      assert.equal(rb.mode, 'closed');
      assert.equal(rb.targetRps, null);
      assert.equal(rb.options.workers, 2);
      assert.ok(rb.requests.completed > 0);

      const one = fs.readFileSync(path.join(dir, 'a.svg'), 'utf8');
      const names1 = checkXml(one);
      assert.equal(names1[0], 'svg');
      assert.equal(names1.filter((n) => n === 'polyline').length, 1);
      assert.match(one, />99%</);
      assert.match(one, />run A @ 300 rps</);

      const p = await wasmesh(['bench', 'plot', path.join(dir, 'a.json'), path.join(dir, 'b.json'), '-o', path.join(dir, 'cmp.svg'), '--title', 'A <vs> B']);
      assert.equal(p.code, 0, p.stderr);
      const cmp = fs.readFileSync(path.join(dir, 'cmp.svg'), 'utf8');
      const names = checkXml(cmp);
      assert.equal(names[0], 'svg');
      assert.equal(names.filter((n) => n === 'polyline').length, 2);
      assert.ok(names.includes('text') && names.includes('line'));
      assert.match(cmp, /A &lt;vs&gt; B/);
      // Legends are the runs' labels; the file name only tells apart runs that share a label.
      assert.match(cmp, />run A @ 300 rps</);
      assert.match(cmp, new RegExp(`>${url.replace(/[.?]/g, '\\$&')} \\(max\\)<`));
      fs.copyFileSync(path.join(dir, 'a.json'), path.join(dir, 'a2.json'));
      const same = await wasmesh(['bench', 'plot', path.join(dir, 'a.json'), path.join(dir, 'a2.json'), '-o', path.join(dir, 'same.svg')]);
      assert.equal(same.code, 0, same.stderr);
      const sameSvg = fs.readFileSync(path.join(dir, 'same.svg'), 'utf8');
      assert.match(sameSvg, />a: run A @ 300 rps</);
      assert.match(sameSvg, />a2: run A @ 300 rps</);
      for (const label of ['0%', '90%', '99%']) assert.ok(cmp.includes(`>${label}<`), label);
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad command lines', async () => {
    assert.throws(() => parseBenchArgs(['http://x/']), /--rate R .* or --max/);
    assert.throws(() => parseBenchArgs(['http://x/', '--max', '--rate', '5']), /either/);
    assert.throws(() => parseBenchArgs(['http://x/', '--max', '-H', 'nocolon']), /Name: value/);
    assert.throws(() => parseBenchArgs(['http://x/', '--max', '--bogus', '1']), /unknown option --bogus/);
    assert.throws(() => parseBenchArgs(['http://x/', '--max', '-d', 'soon']), /--duration/);
    const c = parseBenchArgs(['http://x/', '-R', '100', '-H', 'X-A: 1', '--header', 'X-B:2', '-d', '500ms', '--timeout', '2s', '-m', 'post', '-b', 'hi']);
    assert.equal(c.options.mode, 'open');
    assert.equal(c.options.duration, 0.5);
    assert.equal(c.options.timeoutMs, 2000);
    assert.equal(c.options.method, 'POST');
    assert.deepEqual(c.options.headers, [['X-A', '1'], ['X-B', '2']]);
    assert.equal(c.options.body?.toString(), 'hi');
    const r = await wasmesh(['bench', 'http://127.0.0.1:1/', '--max', '--nope', '1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --nope/);
  });
});
