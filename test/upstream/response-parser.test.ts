import { strict as assert } from 'assert';
import { describe, it } from 'node:test';
import { ResponseParser, type ResponseParserOptions, type ResponseParserSink } from '../../runtime/upstream/response-parser';
import { prng } from './helpers';

interface Head {
  status: number;
  reason: string;
  headers: string[];
  hasBody: boolean;
  contentLength: number;
}

interface Outcome {
  heads: Head[];
  body: string;
  complete: boolean;
  keepAlive: boolean;
  error: string;
  /** Bytes left unconsumed after completion. */
  rest: number;
}

class Collect implements ResponseParserSink {
  heads: Head[] = [];
  body: Buffer[] = [];
  pauseEvery = 0;
  calls = 0;
  onParserHeaders(status: number, reason: string, headers: string[], hasBody: boolean, contentLength: number): boolean {
    this.heads.push({ status, reason, headers, hasBody, contentLength });
    return true;
  }
  onParserBody(chunk: Buffer): boolean {
    assert.ok(chunk.length > 0, 'empty body callback');
    this.body.push(Buffer.from(chunk));
    this.calls++;
    return this.pauseEvery === 0 || this.calls % this.pauseEvery !== 0;
  }
}

/** Feed `slices` in order; resume after pauses; stop at completion or error. */
function feed(slices: Buffer[], opts: ResponseParserOptions & { isHead?: boolean; eof?: boolean; pauseEvery?: number } = {}): Outcome {
  const sink = new Collect();
  sink.pauseEvery = opts.pauseEvery ?? 0;
  const p = new ResponseParser(sink, opts);
  p.reset(opts.isHead ?? false);
  let error = '';
  let rest = 0;
  outer: for (const s of slices) {
    let off = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const n = p.execute(s, off);
      if (n < 0) {
        error = p.error;
        break outer;
      }
      if (p.complete) {
        rest += s.length - n;
        continue outer;
      }
      if (n === s.length) break;
      off = n; // paused by the sink: resume at once
    }
  }
  if (!error && opts.eof) p.finish();
  return {
    heads: sink.heads,
    body: Buffer.concat(sink.body).toString('latin1'),
    complete: p.complete,
    keepAlive: p.keepAlive,
    error,
    rest,
  };
}

function splits(buf: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const a of at) {
    out.push(buf.subarray(prev, a));
    prev = a;
  }
  out.push(buf.subarray(prev));
  return out;
}

const R = (s: string): Buffer => Buffer.from(s, 'latin1');

const CASES: { name: string; raw: string; isHead?: boolean; eof?: boolean }[] = [
  {
    name: 'content-length with duplicate headers',
    raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Dup: a\r\nX-Dup:  b \r\nContent-Length: 11\r\n\r\nhello world',
  },
  {
    name: 'chunked with extensions and trailers',
    raw:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;foo=bar\r\nhello\r\n6 ; x="y z"\r\n world\r\nA\r\n0123456789\r\n0;last\r\nX-Trailer: t\r\nY: z\r\n\r\n',
  },
  {
    name: '100-continue and 103 before the final response',
    raw: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc',
  },
  { name: 'HEAD with content-length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n', isHead: true },
  { name: '204', raw: 'HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n' },
  { name: '304 with content-length', raw: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: "x"\r\n\r\n' },
  { name: 'close-delimited', raw: 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nsome body bytes', eof: true },
  { name: 'HTTP/1.0', raw: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi' },
  { name: 'LF-only line ends and empty reason', raw: 'HTTP/1.1 404\nA: b\n\nx', eof: true },
  { name: 'empty chunked body', raw: 'HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n0\r\n\r\n' },
  { name: 'zero content-length', raw: 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n' },
];

describe('ResponseParser', () => {
  it('parses the reference cases in one piece', () => {
    const o = feed([R(CASES[0].raw)]);
    assert.equal(o.error, '');
    assert.equal(o.heads.length, 1);
    assert.deepEqual(o.heads[0], {
      status: 200,
      reason: 'OK',
      headers: ['content-type', 'text/plain', 'x-dup', 'a', 'x-dup', 'b', 'content-length', '11'],
      hasBody: true,
      contentLength: 11,
    });
    assert.equal(o.body, 'hello world');
    assert.ok(o.complete && o.keepAlive);

    const c = feed([R(CASES[1].raw)]);
    assert.equal(c.body, 'hello world0123456789');
    assert.equal(c.heads[0].contentLength, -1);
    assert.ok(c.complete);
    assert.equal(c.rest, 0);

    const i = feed([R(CASES[2].raw)]);
    assert.equal(i.heads.length, 1, '1xx heads are not surfaced');
    assert.equal(i.heads[0].status, 201);
    assert.equal(i.body, 'abc');

    const h = feed([R(CASES[3].raw)], { isHead: true });
    assert.ok(h.complete);
    assert.equal(h.heads[0].hasBody, false);
    assert.equal(h.heads[0].contentLength, 1234);

    const n = feed([R(CASES[4].raw)]);
    assert.ok(n.complete);
    assert.equal(n.heads[0].hasBody, false);
    assert.equal(n.heads[0].contentLength, -1);

    const nm = feed([R(CASES[5].raw + 'garbage')]);
    assert.ok(nm.complete);
    assert.equal(nm.heads[0].hasBody, false);
    assert.equal(nm.heads[0].contentLength, 50);
    assert.equal(nm.rest, 7, 'bytes after a bodiless response are not consumed');

    const cd = feed([R(CASES[6].raw)]);
    assert.equal(cd.complete, false, 'close-delimited needs EOF');
    assert.equal(cd.body, 'some body bytes');
    const cd2 = feed([R(CASES[6].raw)], { eof: true });
    assert.ok(cd2.complete);
    assert.equal(cd2.keepAlive, false);

    const h10 = feed([R(CASES[7].raw)]);
    assert.ok(h10.complete);
    assert.equal(h10.keepAlive, false, 'HTTP/1.0 defaults to close');
    const h10ka = feed([R('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n')]);
    assert.equal(h10ka.keepAlive, true);

    const lf = feed([R(CASES[8].raw)], { eof: true });
    assert.equal(lf.heads[0].status, 404);
    assert.equal(lf.heads[0].reason, '');
    assert.equal(lf.body, 'x');
  });

  it('gives the same result for every split point, byte-by-byte, and random slices', () => {
    const rnd = prng(0x5eed);
    for (const tc of CASES) {
      const raw = R(tc.raw);
      const o = { isHead: tc.isHead, eof: tc.eof };
      const ref = feed([raw], o);
      assert.equal(ref.error, '', tc.name);
      assert.ok(ref.complete, tc.name);
      for (let i = 0; i <= raw.length; i++) {
        assert.deepEqual(feed(splits(raw, [i]), o), ref, `${tc.name}: split at ${i}`);
      }
      for (let i = 1; i < raw.length; i += 3) {
        for (let j = i; j < raw.length; j += 5) assert.deepEqual(feed(splits(raw, [i, j]), o), ref, `${tc.name}: split at ${i},${j}`);
      }
      const bytes: number[] = [];
      for (let i = 1; i < raw.length; i++) bytes.push(i);
      assert.deepEqual(feed(splits(raw, bytes), o), ref, `${tc.name}: byte by byte`);
      for (let k = 0; k < 200; k++) {
        const cuts = new Set<number>();
        const n = 1 + Math.floor(rnd() * 8);
        for (let c = 0; c < n; c++) cuts.add(Math.floor(rnd() * raw.length));
        const at = [...cuts].sort((a, b) => a - b);
        assert.deepEqual(feed(splits(raw, at), { ...o, pauseEvery: 1 + (k % 3) }), ref, `${tc.name}: cuts ${at}`);
      }
    }
  });

  it('parses a large chunked body cut into random slices', () => {
    const rnd = prng(42);
    const parts: string[] = [];
    let body = '';
    for (let k = 0; k < 300; k++) {
      const len = Math.floor(rnd() * 5000) + 1;
      const data = String.fromCharCode(97 + (k % 26)).repeat(len);
      body += data;
      parts.push(len.toString(k % 2 ? 16 : 16).toUpperCase() + (k % 5 === 0 ? ';e=1' : '') + '\r\n' + data + '\r\n');
    }
    const raw = R('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + parts.join('') + '0\r\n\r\n');
    for (let k = 0; k < 20; k++) {
      const at: number[] = [];
      let pos = 0;
      while (pos < raw.length) {
        pos += 1 + Math.floor(rnd() * 3000);
        if (pos < raw.length) at.push(pos);
      }
      const o = feed(splits(raw, at));
      assert.equal(o.error, '');
      assert.ok(o.complete);
      assert.equal(o.body.length, body.length);
      assert.equal(o.body, body);
    }
  });

  it('stops at the end of the response and reports leftover bytes', () => {
    const raw = R('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n');
    const sink = new Collect();
    const p = new ResponseParser(sink);
    p.reset(false);
    const n = p.execute(raw, 0);
    assert.ok(p.complete);
    assert.equal(raw.length - n, 'HTTP/1.1 200 OK\r\n'.length);
    assert.equal(p.execute(raw, n), n, 'a complete parser consumes nothing');
  });

  it('honours a false return from the sink', () => {
    const raw = R('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n');
    const sink = new Collect();
    sink.pauseEvery = 1;
    const p = new ResponseParser(sink);
    p.reset(false);
    let off = 0;
    const stops: number[] = [];
    for (let g = 0; g < 10 && !p.complete; g++) {
      off = p.execute(raw, off);
      stops.push(off);
    }
    assert.ok(p.complete);
    assert.deepEqual(
      sink.body.map((b) => b.toString()),
      ['a', 'b'],
    );
    assert.ok(stops.length >= 3, 'execute returned after each body callback');
  });

  it('strips hop-by-hop headers, content-length and fields named in Connection when asked', () => {
    const raw = R(
      'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Private\r\nKeep-Alive: timeout=5\r\nX-Private: secret\r\nProxy-Connection: x\r\n' +
        'Upgrade: h2c\r\nTE: trailers\r\nTrailer: X-T\r\nContent-Length: 1\r\nX-Keep: yes\r\n\r\nz',
    );
    const s = feed([raw], { stripHopByHop: true });
    assert.deepEqual(s.heads[0].headers, ['x-keep', 'yes']);
    assert.equal(s.heads[0].contentLength, 1);
    assert.ok(s.keepAlive);
    const all = feed([raw]);
    assert.equal(all.heads[0].headers.length, 18);
    const chunked = feed([R('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nA: 1\r\n\r\n0\r\n\r\n')], { stripHopByHop: true });
    assert.deepEqual(chunked.heads[0].headers, ['a', '1']);
    assert.equal(chunked.keepAlive, false);
  });

  it('accepts a list of identical content-length values', () => {
    const o = feed([R('HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc')]);
    assert.equal(o.error, '');
    assert.equal(o.body, 'abc');
  });

  const BAD: [string, string][] = [
    ['space before colon', 'HTTP/1.1 200 OK\r\nFoo : bar\r\n\r\n'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nFoo: bar\r\n baz\r\n\r\n'],
    ['obs-fold with tab', 'HTTP/1.1 200 OK\r\nFoo: bar\r\n\tbaz\r\n\r\n'],
    ['CTL in value', 'HTTP/1.1 200 OK\r\nFoo: b\x01r\r\n\r\n'],
    ['NUL in value', 'HTTP/1.1 200 OK\r\nFoo: b\x00r\r\n\r\n'],
    ['bare CR in value', 'HTTP/1.1 200 OK\r\nFoo: b\rr\r\n\r\n'],
    ['invalid name char', 'HTTP/1.1 200 OK\r\nFo(o: bar\r\n\r\n'],
    ['empty name', 'HTTP/1.1 200 OK\r\n: bar\r\n\r\n'],
    ['no colon', 'HTTP/1.1 200 OK\r\nFoo\r\n\r\n'],
    ['negative content-length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['non-numeric content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n'],
    ['empty content-length', 'HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n'],
    ['huge content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999\r\n\r\n'],
    ['conflicting content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['conflicting content-length list', 'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n'],
    ['content-length and transfer-encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['transfer-encoding gzip', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
    ['transfer-encoding twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['transfer-encoding in HTTP/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['status 099', 'HTTP/1.1 099 OK\r\n\r\n'],
    ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n'],
    ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n'],
    ['bad protocol name', 'HTTX/1.1 200 OK\r\n\r\n'],
    ['double space', 'HTTP/1.1  200 OK\r\n\r\n'],
    ['no space after status', 'HTTP/1.1 200OK\r\n\r\n'],
    ['CTL in reason', 'HTTP/1.1 200 O\x7fK\r\n\r\n'],
    ['leading blank line', '\r\nHTTP/1.1 200 OK\r\n\r\n'],
    ['101 switching protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['chunk size with inner space', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 5\r\nhello\r\n0\r\n\r\n'],
    ['chunk size too large', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n'],
    ['missing chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n'],
    ['negative chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n'],
    ['chunk data not followed by CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n'],
    ['bare CR after chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\rhello'],
    ['CTL in chunk extension', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a\x01\r\nhello\r\n0\r\n\r\n'],
    ['bad trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n'],
  ];

  it('rejects malformed responses at any split', () => {
    for (const [name, raw] of BAD) {
      const b = R(raw);
      const whole = feed([b]);
      assert.notEqual(whole.error, '', `${name}: expected a parse error`);
      if (!/chunk|trailer/.test(name)) assert.equal(whole.heads.length, 0, `${name}: no head delivered`);
      const bytes: number[] = [];
      for (let i = 1; i < b.length; i++) bytes.push(i);
      assert.equal(feed(splits(b, bytes)).error, whole.error, `${name}: byte by byte`);
    }
  });

  it('caps the response head size', () => {
    const big = 'HTTP/1.1 200 OK\r\nX-Big: ' + 'a'.repeat(200) + '\r\n\r\n';
    assert.match(feed([R(big)], { maxHeadBytes: 100 }).error, /too large/);
    assert.equal(feed([R(big)], { maxHeadBytes: 1000 }).error, '');
    const b = R(big);
    const bytes: number[] = [];
    for (let i = 1; i < b.length; i++) bytes.push(i);
    assert.match(feed(splits(b, bytes), { maxHeadBytes: 100 }).error, /too large/);
    // Default 64 KiB, fed in 1 KiB slices so the carry buffer grows.
    const huge = R('HTTP/1.1 200 OK\r\n' + 'X-H: ' + 'b'.repeat(70 * 1024) + '\r\n\r\n');
    const at: number[] = [];
    for (let i = 1024; i < huge.length; i += 1024) at.push(i);
    assert.match(feed(splits(huge, at)).error, /too large/);
    const ok = R('HTTP/1.1 200 OK\r\n' + 'X-H: ' + 'b'.repeat(60 * 1024) + '\r\nContent-Length: 0\r\n\r\n');
    const okAt: number[] = [];
    for (let i = 1000; i < ok.length; i += 1000) okAt.push(i);
    const r = feed(splits(ok, okAt));
    assert.equal(r.error, '');
    assert.equal(r.heads[0].headers[1].length, 60 * 1024);
  });

  it('can be reset and reused for the next response', () => {
    const sink = new Collect();
    const p = new ResponseParser(sink);
    for (let k = 0; k < 3; k++) {
      p.reset(false);
      const raw = R(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${k}`);
      assert.equal(p.execute(raw.subarray(0, 10), 0), 10);
      assert.equal(p.execute(raw, 10), raw.length);
      assert.ok(p.complete);
    }
    assert.equal(Buffer.concat(sink.body).toString(), '012');
    // finish() on a truncated body reports truncation.
    p.reset(false);
    p.execute(R('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), 0);
    assert.equal(p.finish(), false);
    assert.ok(p.headersDone && p.started && !p.complete);
  });
});
