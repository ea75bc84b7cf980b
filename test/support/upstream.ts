// Real upstream HTTP servers for tests, on 127.0.0.1 with an OS-chosen port.
import * as http from 'node:http';
import * as net from 'node:net';

export interface Upstream {
  server: http.Server;
  port: number;
  address: string;
  hits: number;
  close(): Promise<void>;
}

export async function startUpstream(handler: http.RequestListener, label = ''): Promise<Upstream> {
  const u: Upstream = {
    server: null as unknown as http.Server,
    port: 0,
    address: '',
    hits: 0,
    close: async () => {
      u.server.closeAllConnections();
      await new Promise<void>((r) => u.server.close(() => r()));
    },
  };
  u.server = http.createServer((req, res) => {
    u.hits++;
    if (label) res.setHeader('x-upstream', label);
    handler(req, res);
  });
  u.server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', () => r()));
  u.port = (u.server.address() as net.AddressInfo).port;
  u.address = `127.0.0.1:${u.port}`;
  return u;
}

/** A raw TCP upstream for protocol-level cases (malformed responses, resets). */
export async function startRawUpstream(onConn: (s: net.Socket) => void): Promise<{ port: number; address: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConn(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A port with nothing listening on it (bound then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}
