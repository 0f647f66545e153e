import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../lib/log.ts';

/** kube-apiserver's subprotocol that wraps each frame in base64; plain JSON frames otherwise. */
const BASE64_PROTOCOL = 'base64.binary.k8s.io';

type FetchFn = (req: Request) => Response | Promise<Response>;

function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    // The handler sees an ordinary watch request; the upgrade is this module's business.
    if (['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol'].includes(k)) continue;
    headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method: 'GET', headers });
}

async function pump(res: Response, ws: WebSocket, base64: boolean): Promise<void> {
  const send = (line: string) => ws.send(base64 ? Buffer.from(line).toString('base64') : line);
  if (res.status !== 200 || !res.body) {
    send(await res.text());
    ws.close(1000);
    return;
  }
  const reader = res.body.getReader();
  ws.on('close', () => void reader.cancel().catch(() => undefined));
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line && ws.readyState === ws.OPEN) send(line);
    }
  }
  if (ws.readyState === ws.OPEN) ws.close(1000);
}

/**
 * Watches over WebSocket: the upgrade is accepted here and the request is served by the same watch
 * handler as chunked HTTP, each newline-delimited event becoming one message.
 */
export function attachWebSocketWatch(server: Server, fetch: FetchFn, log: Logger): () => void {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(BASE64_PROTOCOL) ? BASE64_PROTOCOL : false),
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' || url.pathname.includes('/watch/');
    if (!isWatch) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\r\nonly watch requests can be upgraded to WebSocket\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const base64 = ws.protocol === BASE64_PROTOCOL;
      Promise.resolve(fetch(toRequest(req)))
        .then((res) => pump(res, ws, base64))
        .catch((err: unknown) => {
          log.warn('websocket watch failed', { error: err instanceof Error ? err.message : String(err) });
          ws.close(1011);
        });
    });
  };
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('upgrade', onUpgrade);
    for (const c of wss.clients) c.close(1001);
    wss.close();
  };
}
