// The chain runner on its own: no filter kind is loadable from config yet,
// so these are TypeScript filters driven through the real FilterChain.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FilterChain } from '../../runtime/filter/chain';
import { HeadersStatus, type FilterStream, type HttpFilter, type HttpFilterFactory } from '../../runtime/filter/types';
import { FlatHeaderMap } from '../../runtime/http/header-map';

function stream(): FilterStream & { replies: [number, string][] } {
  const replies: [number, string][] = [];
  return {
    replies,
    info: { requestId: 'r', startTimeMs: 0, sourceAddress: '127.0.0.1', sourcePort: 0, listenerName: 'l', attempt: 0, upstreamHost: '' },
    requestHeaders: new FlatHeaderMap(),
    responseHeaders: null,
    route: { cluster: null, hashKey: null, timeoutMs: 0, perTryTimeoutMs: 0, retryRequested: false },
    bufferedRequestBody: () => null,
    bufferedResponseBody: () => null,
    continueRequest: () => undefined,
    continueResponse: () => undefined,
    sendLocalReply: (status, _b, _h, flag) => void replies.push([status, flag]),
    state: new Map(),
  };
}

function factory(name: string, f: (s: FilterStream) => HttpFilter): HttpFilterFactory {
  return { name, create: (s) => f(s) };
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
  const s = stream();
  chain.start([mk('a'), mk('b'), mk('c')], s);
  assert.equal(chain.runRequestHeaders(true), false, 'b stopped iteration');
  assert.deepEqual(log, ['req a', 'req b']);
  assert.equal(s.route.cluster, 'chosen-by-b');
  assert.equal(chain.runRequestHeaders(true), true, 'resumes after b, not from the start');
  assert.deepEqual(log, ['req a', 'req b', 'req c']);
  assert.equal(chain.hasResponseFilters(), true);
  chain.runResponseHeaders(true);
  chain.finish();
  assert.deepEqual(log.slice(3), ['resp c', 'resp b', 'resp a', 'log a', 'destroy a', 'log b', 'destroy b', 'log c', 'destroy c']);
});

test('a filter that throws ends the stream with 503 WF and later filters do not run', () => {
  const log: string[] = [];
  const chain = new FilterChain();
  const s = stream();
  chain.start(
    [
      factory('boom', () => ({
        onRequestHeaders(): HeadersStatus {
          throw new Error('filter bug');
        },
      })),
      factory('after', () => ({ onRequestHeaders: () => (log.push('after ran'), HeadersStatus.Continue) })),
    ],
    s,
  );
  assert.equal(chain.runRequestHeaders(true), false);
  assert.deepEqual(s.replies, [[503, 'WF']]);
  assert.deepEqual(log, []);
  chain.finish();
});
