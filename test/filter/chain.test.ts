// The chain runner on its own, with TypeScript filters: iteration order,
// stop/continue on headers and bodies, buffering caps, and filter faults.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FilterChain, type ChainSink } from '../../runtime/filter/chain';
import { DataStatus, HeadersStatus, type FilterStream, type HttpFilter, type HttpFilterFactory } from '../../runtime/filter/types';
import { FlatHeaderMap } from '../../runtime/http/header-map';

type Harness = FilterStream & ChainSink & { replies: [number, string][]; out: string[]; open: boolean };

function harness(): Harness {
  const replies: [number, string][] = [];
  const out: string[] = [];
  const h = {
    replies,
    out,
    open: true,
    get chainOpen() {
      return h.open;
    },
    info: {
      requestId: 'r',
      startTimeMs: 0,
      sourceAddress: '127.0.0.1',
      sourcePort: 0,
      listenerName: 'l',
      destinationAddress: '127.0.0.1:80',
      attempt: 0,
      upstreamHost: '',
      clusterName: '',
      bytesReceived: 0,
      bytesSent: 0,
      responseFlag: '',
      responseDetails: '',
    },
    method: 'GET',
    path: '/',
    scheme: 'http',
    requestHeaders: new FlatHeaderMap(),
    responseHeaders: null,
    responseStatus: 0,
    route: { cluster: null, hashKey: null, timeoutMs: 0, perTryTimeoutMs: 0 },
    hasCluster: () => true,
    continueRequest: () => undefined,
    continueResponse: () => undefined,
    sendLocalReply: (status: number, _b: unknown, _h: unknown, flag: string) => {
      replies.push([status, flag]);
      h.open = false;
    },
    delay: () => undefined,
    keepRequestBody: () => undefined,
    retry: () => false,
    setFlag: () => undefined,
    state: new Map(),
    requestHeadersDone: () => void out.push('req-headers'),
    requestData: (d: Buffer, end: boolean) => void out.push(`req-data ${d.toString()}${end ? ' END' : ''}`),
    responseHeadersDone: () => void out.push('resp-headers'),
    responseData: (d: Buffer, end: boolean) => void out.push(`resp-data ${d.toString()}${end ? ' END' : ''}`),
    bodyOverflow: (response: boolean, filter: string) => {
      out.push(`overflow ${response ? 'response' : 'request'} ${filter}`);
      h.open = false;
    },
  };
  return h as unknown as Harness;
}

function factory(name: string, f: (s: FilterStream) => HttpFilter, maxBufferedBody = 1024): HttpFilterFactory {
  return { name, maxBufferedBody, create: (s) => f(s) };
}

test('request callbacks run in order, response callbacks in reverse; a stop pauses until continued', () => {
  const log: string[] = [];
  let stopOnce = true;
  const mk = (n: string) =>
    factory(n, (s) => ({
      onRequestHeaders() {
        log.push(`req ${n}`);
        if (n === 'b' && stopOnce) {
          stopOnce = false;
          s.route.cluster = 'chosen-by-b';
          return HeadersStatus.StopIteration;
        }
        return HeadersStatus.Continue;
      },
      onResponseHeaders() {
        log.push(`resp ${n}`);
        return HeadersStatus.Continue;
      },
      onLog: () => void log.push(`log ${n}`),
      onDestroy: () => void log.push(`destroy ${n}`),
    }));
  const chain = new FilterChain();
  const h = harness();
  chain.start([mk('a'), mk('b'), mk('c')], h, h);
  chain.requestHeaders(true);
  assert.deepEqual(log, ['req a', 'req b']);
  assert.deepEqual(h.out, [], 'b stopped iteration: nothing dispatched');
  assert.equal(h.route.cluster, 'chosen-by-b');
  chain.continueRequest();
  assert.deepEqual(log, ['req a', 'req b', 'req c'], 'resumes after b, not from the start');
  assert.deepEqual(h.out, ['req-headers']);
  chain.responseHeaders(true);
  assert.deepEqual(h.out, ['req-headers', 'resp-headers']);
  chain.finish();
  assert.deepEqual(log.slice(3), ['resp c', 'resp b', 'resp a', 'log a', 'destroy a', 'log b', 'destroy b', 'log c', 'destroy c']);
});

test('body waits while headers are stopped, then streams chunk by chunk', () => {
  const chain = new FilterChain();
  const h = harness();
  let stop = true;
  chain.start([factory('gate', () => ({ onRequestHeaders: () => (stop ? HeadersStatus.StopIteration : HeadersStatus.Continue) }))], h, h);
  chain.requestHeaders(false);
  chain.requestData(Buffer.from('ab'), false);
  assert.deepEqual(h.out, []);
  stop = false;
  chain.continueRequest();
  chain.requestData(Buffer.from('cd'), true);
  assert.deepEqual(h.out, ['req-headers', 'req-data ab', 'req-data cd END']);
});

test('StopIterationAndBuffer accumulates at that filter until the end, and later filters see it whole', () => {
  const seen: string[] = [];
  const chain = new FilterChain();
  const h = harness();
  chain.start(
    [
      factory('first', () => ({ onRequestBody: (c) => (seen.push(`first ${c.data}`), DataStatus.Continue) })),
      factory('buffer', () => ({
        onRequestBody: (c, end) => {
          if (!end) return DataStatus.StopIterationAndBuffer;
          c.data = Buffer.from(c.data.toString().toUpperCase());
          return DataStatus.Continue;
        },
      })),
      factory('last', () => ({ onRequestBody: (c) => (seen.push(`last ${c.data}`), DataStatus.Continue) })),
    ],
    h,
    h,
  );
  chain.requestHeaders(false);
  chain.requestData(Buffer.from('ab'), false);
  chain.requestData(Buffer.from('cd'), false);
  chain.requestData(Buffer.from('ef'), true);
  assert.deepEqual(seen, ['first ab', 'first cd', 'first ef', 'last ABCDEF']);
  assert.deepEqual(h.out, ['req-headers', 'req-data ABCDEF END']);
});

test('buffering past maxBufferedBody is refused', () => {
  const chain = new FilterChain();
  const h = harness();
  chain.start([factory('greedy', () => ({ onRequestBody: () => DataStatus.StopIterationAndBuffer }), 4)], h, h);
  chain.requestHeaders(false);
  chain.requestData(Buffer.from('abc'), false);
  chain.requestData(Buffer.from('de'), false);
  assert.deepEqual(h.out, ['req-headers', 'overflow request greedy']);
});

test('a body stopped at the end resumes from the next filter when the filter continues', () => {
  const chain = new FilterChain();
  const h = harness();
  const order: string[] = [];
  chain.start(
    [
      factory('async', () => ({ onResponseBody: (_c, end) => (order.push('async'), end ? DataStatus.StopIterationAndBuffer : DataStatus.Continue) })),
      factory('inner', () => ({ onResponseBody: (c) => (order.push(`inner ${c.data}`), DataStatus.Continue) })),
    ],
    h,
    h,
  );
  chain.requestHeaders(true);
  chain.responseHeaders(false);
  chain.responseData(Buffer.from('xy'), true);
  assert.deepEqual(order, ['inner xy', 'async']);
  assert.deepEqual(h.out, ['req-headers', 'resp-headers']);
  chain.continueResponse();
  assert.deepEqual(h.out, ['req-headers', 'resp-headers', 'resp-data xy END'], 'async is the outermost filter: the data goes to the client');
});

test('a filter that throws ends the stream with 503 WF and later filters do not run', () => {
  const log: string[] = [];
  const chain = new FilterChain();
  const h = harness();
  chain.start(
    [
      factory('boom', () => ({
        onRequestHeaders(): HeadersStatus {
          throw new Error('filter bug');
        },
      })),
      factory('after', () => ({ onRequestHeaders: () => (log.push('after ran'), HeadersStatus.Continue) })),
    ],
    h,
    h,
  );
  chain.requestHeaders(true);
  assert.deepEqual(h.replies, [[503, 'WF']]);
  assert.deepEqual(log, []);
  chain.finish();
});
