import { strict as assert } from 'assert';
import { describe, it } from 'node:test';
import { NEED_MORE, PARSE_ERROR, ResponseFramer } from '../../bench/tool/http1';

/** Feed `wire` split at `cuts`; returns [end offset in wire, status, keepAlive] or the error. */
function frame(wire: string, cuts: number[], head = false): { end: number; status: number; keepAlive: boolean; bytes: number } | string {
  const b = Buffer.from(wire, 'latin1');
  const f = new ResponseFramer();
  f.reset(head);
  const points = [0, ...cuts.filter((c) => c > 0 && c < b.length), b.length];
  for (let k = 0; k + 1 < points.length; k++) {
    // each read arrives in its own buffer (as with onread)
    const part = Buffer.from(b.subarray(points[k], points[k + 1]));
    const r = f.feed(part, 0, part.length);
    if (r === PARSE_ERROR) return f.error;
    if (r !== NEED_MORE) return { end: points[k] + r, status: f.status, keepAlive: f.keepAlive, bytes: f.bytes };
  }
  if (f.finishOnClose()) return { end: b.length, status: f.status, keepAlive: f.keepAlive, bytes: f.bytes };
  return 'incomplete';
}

const CASES: Array<{ name: string; wire: string; end?: number; status: number; keepAlive?: boolean; head?: boolean; tail?: string }> = [
  { name: 'content-length', wire: 'HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 5\r\n\r\nhello', status: 200 },
  { name: 'upper-case names, LF only', wire: 'HTTP/1.1 201 Created\nCONTENT-LENGTH:  3\n\nabc', status: 201 },
  {
    name: 'chunked with extensions and trailers',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n',
    status: 200,
  },
  { name: 'chunked, no trailers', wire: 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n', status: 200 },
  { name: '1xx before the final response', wire: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno', status: 404 },
  { name: '204 has no body', wire: 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n', status: 204 },
  { name: '304 has no body', wire: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', status: 304 },
  { name: 'HEAD has no body', wire: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', status: 200, head: true },
  { name: 'Connection: close', wire: 'HTTP/1.1 503 Busy\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n', status: 503, keepAlive: false },
  { name: 'HTTP/1.0 without keep-alive', wire: 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx', status: 200, keepAlive: false },
  { name: 'HTTP/1.0 keep-alive', wire: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx', status: 200, keepAlive: true },
  { name: 'close-delimited body', wire: 'HTTP/1.1 200 OK\r\n\r\nuntil the end', status: 200, keepAlive: false },
  { name: 'stops at the end of the response', wire: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1', status: 200, tail: 'HTTP/1.1' },
];

describe('bench tool: response framer', () => {
  for (const c of CASES) {
    it(`${c.name}, split at every offset`, () => {
      const total = Buffer.byteLength(c.wire, 'latin1');
      const expectEnd = total - (c.tail?.length ?? 0);
      for (let cut = 0; cut < total; cut++) {
        for (const cuts of [[cut], [cut, cut + 1], [cut, cut + 3]]) {
          const r = frame(c.wire, cuts, c.head);
          assert.equal(typeof r, 'object', `${c.name} cut at ${cuts}: ${r as string}`);
          const o = r as { end: number; status: number; keepAlive: boolean; bytes: number };
          assert.equal(o.end, expectEnd, `end, cut at ${cuts}`);
          assert.equal(o.status, c.status);
          assert.equal(o.keepAlive, c.keepAlive ?? true);
          assert.equal(o.bytes, expectEnd, `bytes, cut at ${cuts}`);
        }
      }
    });
  }

  it('rejects what cannot be framed', () => {
    assert.equal(frame('HTTX/1.1 200 OK\r\n\r\n', []), 'invalid status line');
    assert.equal(frame('HTTP/1.1 2x0 OK\r\n\r\n', []), 'invalid status code');
    assert.equal(frame('HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n', []), 'invalid content-length');
    assert.equal(frame('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', []), 'invalid chunk size');
  });

  it('reuses one framer for consecutive responses', () => {
    const f = new ResponseFramer();
    const a = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na', 'latin1');
    for (let i = 0; i < 3; i++) {
      f.reset(false);
      assert.equal(f.feed(a, 0, a.length), a.length);
      assert.equal(f.status, 200);
    }
  });
});
