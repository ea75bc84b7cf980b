// The proxy stream endpoint: a WebSocket per proxy, token-checked at upgrade,
// one JSON message per text frame (runtime/control/protocol.ts).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { log } from '../../runtime/log/logger';
import { PROTOCOL_VERSION, STREAM_PATH, type FromControl, type FromProxy, type Hello } from '../../runtime/control/protocol';
import type { ControlPlane, Stream } from './control-plane';
import { ControlError } from './errors';
import { checkToken } from './http';
import type { ProxyRecord } from './registry';

interface StreamData {
  rec: ProxyRecord | null;
  stream: Stream;
  closed: boolean;
}

/** Serves the stream on `server`'s upgrades to STREAM_PATH. */
export function mountStream(server: Server, cp: ControlPlane, token: string): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20, perMessageDeflate: false });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    const refuse = (status: string, code: string, message: string) => {
      const body = JSON.stringify({ error: { code, message } });
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    if (path !== STREAM_PATH) return refuse('404 Not Found', 'NOT_FOUND', `no stream at ${path}; proxies connect to ${STREAM_PATH}`);
    try {
      checkToken(req, token);
    } catch (e) {
      return refuse('401 Unauthorized', 'UNAUTHORIZED', (e as Error).message);
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(cp, ws));
  });
  return wss;
}

function accept(cp: ControlPlane, ws: WebSocket): void {
  const d: StreamData = {
    rec: null,
    closed: false,
    stream: {
      send: (m: FromControl) => {
        if (!d.closed) ws.send(JSON.stringify(m));
      },
      sendRaw: (text: string) => {
        if (!d.closed) ws.send(text);
      },
      close: () => {
        if (!d.closed) ws.close(1000, 'closed by the control plane');
      },
    },
  };
  ws.on('message', (data, isBinary) => {
    let m: FromProxy;
    try {
      if (isBinary) throw new Error('binary frames are not part of the protocol');
      m = JSON.parse(data.toString()) as FromProxy;
    } catch (e) {
      return refuse(ws, d, 'BAD_REQUEST', `unreadable message: ${(e as Error).message}`);
    }
    handle(cp, ws, d, m);
  });
  ws.on('error', () => undefined); // 'close' follows
  ws.on('close', () => {
    d.closed = true;
    if (d.rec !== null) cp.disconnect(d.rec, d.stream);
  });
}

function handle(cp: ControlPlane, ws: WebSocket, d: StreamData, m: FromProxy): void {
  if (m.type === 'hello') {
    if (d.rec !== null) return refuse(ws, d, 'BAD_REQUEST', 'hello sent twice');
    const problem = checkHello(m);
    if (problem !== null) return refuse(ws, d, 'BAD_REQUEST', `bad hello: ${problem}`);
    d.rec = cp.connect(normalize(m), d.stream);
    log('info', `proxy ${m.nodeId} connected (${m.kind}${m.service ? ` of ${m.service}` : ''}, serving version ${m.version ?? 'none'})`);
    return;
  }
  const rec = d.rec;
  if (rec === null) return refuse(ws, d, 'BAD_REQUEST', 'the first message must be hello');
  // A proxy the sweep dropped (it stalled) but which talks again comes back.
  if (!cp.registry.proxies.has(rec.hello.nodeId)) d.rec = cp.connect(rec.hello, d.stream);
  switch (m.type) {
    case 'heartbeat':
      return cp.registry.heartbeat(d.rec!);
    case 'ack':
      return cp.ack(d.rec!, Number(m.version));
    case 'nack':
      return cp.nack(d.rec!, Number(m.version), String(m.error).slice(0, 8192));
    case 'resync':
      return cp.resync(d.rec!);
    case 'bye':
      cp.registry.remove(rec.hello.nodeId, 'said bye');
      return;
    default:
      return refuse(ws, d, 'BAD_REQUEST', `unknown message type ${JSON.stringify((m as { type?: unknown }).type)}`);
  }
}

function refuse(ws: WebSocket, d: StreamData, code: ControlError['code'], message: string): void {
  if (d.closed) return;
  ws.send(JSON.stringify({ type: 'error', code, message } satisfies FromControl));
  ws.close(1008, message.slice(0, 120));
}

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function checkHello(h: Hello): string | null {
  if (h.protocol !== PROTOCOL_VERSION) return `protocol ${JSON.stringify(h.protocol)} (this control plane speaks ${PROTOCOL_VERSION})`;
  if (typeof h.nodeId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(h.nodeId)) return 'nodeId must be letters, digits, ".", "_" or "-"';
  if (h.kind !== 'sidecar' && h.kind !== 'gateway') return 'kind must be sidecar or gateway';
  if (h.namespace !== undefined && (typeof h.namespace !== 'string' || !NAME.test(h.namespace))) return 'bad namespace';
  if (h.labels !== undefined && (typeof h.labels !== 'object' || h.labels === null || Object.values(h.labels).some((v) => typeof v !== 'string'))) return 'labels must map strings to strings';
  if (h.service !== undefined && (typeof h.service !== 'string' || !NAME.test(h.service))) return 'bad service name';
  if (h.service !== undefined && h.address === undefined) return 'a sidecar with a service needs its address';
  if (h.address !== undefined && (typeof h.address !== 'string' || !ADDRESS.test(h.address))) return 'address must be host:port';
  if (typeof h.listen !== 'object' || h.listen === null || typeof h.listen.admin !== 'string') return 'listen.admin is required';
  for (const [k, v] of Object.entries(h.listen)) if (typeof v !== 'string' || !ADDRESS.test(v)) return `listen.${k} must be host:port`;
  if (h.version !== null && !Number.isInteger(h.version)) return 'version must be an integer or null';
  if (h.configHash !== null && typeof h.configHash !== 'string') return 'configHash must be a string or null';
  return null;
}

function normalize(h: Hello): Hello {
  return { ...h, namespace: h.namespace ?? 'default', labels: h.labels ?? {} };
}
