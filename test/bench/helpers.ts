// Test servers for the load tool: raw sockets, every request counted.
import * as net from 'net';

export const OK_CL = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Pad: abc\r\n\r\nhello', 'latin1');
export const OK_CHUNKED = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer-A: 1\r\n\r\n', 'latin1');

export interface CountingServer {
  port: number;
  /** Requests received (complete heads; the tool's requests in these tests have no body). */
  count(): number;
  connections(): number;
  close(): Promise<void>;
}

/**
 * The faults both error tests inject: request 5 is never answered (a
 * timeout), request 10 gets a TCP reset. True when `n` was one of them.
 */
export function timeoutOrReset(n: number, sock: net.Socket): boolean {
  if (n === 5) return true; // never answered: timeout
  if (n === 10) {
    sock.resetAndDestroy();
    return true;
  }
  return false;
}

/**
 * A keep-alive server that counts requests and answers each with
 * `respond(n, sock)` (n = 1, 2, ... in arrival order over all connections).
 */
export function countingServer(respond: (n: number, sock: net.Socket) => void): Promise<CountingServer> {
  let n = 0;
  let conns = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    conns++;
    sockets.add(sock);
    sock.setNoDelay(true);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
    let state = 0; // matches \r\n\r\n across reads
    sock.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i++) {
        const c = d[i];
        if (c === 13) state = state === 2 ? 3 : 1;
        else if (c === 10) {
          if (state === 3) {
            state = 0;
            respond(++n, sock);
          } else state = state === 1 ? 2 : 0;
        } else state = 0;
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        count: () => n,
        connections: () => conns,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** A port nothing listens on (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Minimal XML well-formedness check (enough for the hand-written SVG): every
 * tag closes in order, attributes are quoted, entities are known. Returns the
 * element names in document order.
 */
export function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    m = re.exec(body);
    if (!m) throw new Error(`XML: cannot parse at ${pos}: ${body.slice(pos, pos + 40)}`);
    pos = re.lastIndex;
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(m[5])) throw new Error(`XML: bad entity in "${m[5].slice(0, 40)}"`);
      if (stack.length === 0 && m[5].trim() !== '') throw new Error('XML: text outside the root element');
      continue;
    }
    const [, close, name, , selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`XML: </${name}> closes <${open}>`);
    } else {
      if (stack.length === 0 && names.length > 0) throw new Error('XML: more than one root element');
      names.push(name!);
      if (!selfClose) stack.push(name!);
    }
  }
  if (stack.length) throw new Error(`XML: unclosed <${stack.join('>, <')}>`);
  return names;
}
