// Minimal HTTP client helpers for tests (node:http, one connection per call unless an agent is given).
import * as http from 'node:http';

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function request(o: { port: number; path?: string; method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | string; agent?: http.Agent; timeoutMs?: number }): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: o.port, path: o.path ?? '/', method: o.method ?? 'GET', headers: o.headers, agent: o.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(o.timeoutMs ?? 10_000, () => req.destroy(new Error('client timeout')));
    if (o.body !== undefined) req.end(o.body);
    else req.end();
  });
}
