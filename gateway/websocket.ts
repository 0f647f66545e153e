import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../lib/log.ts';
import { errMessage } from '../lib/errors.ts';
import type { WatchEventSource, WatchSink } from '../lib/watch/event-source.ts';
import { watchSourceOf } from '../lib/watch/ndjson.ts';

/** kube-apiserver's watch subprotocols: each event base64-encoded, or raw in a binary frame. */
const BASE64_PROTOCOL = 'base64.binary.k8s.io';
const BINARY_PROTOCOL = 'binary.k8s.io';

/** How one event line goes out for the negotiated subprotocol; without one, as a JSON text frame. */
type Framing = 'base64' | 'binary' | 'text';

function framingOf(protocol: string): Framing {
  return protocol === BASE64_PROTOCOL ? 'base64' : protocol === BINARY_PROTOCOL ? 'binary' : 'text';
}

/** The gateway's fetch; `env.incoming` is the Node upgrade request, whose TLS socket carries the client certificate. */
type FetchFn = (req: Request, env: { incoming: IncomingMessage }) => Response | Promise<Response>;

const HOP_HEADERS = new Set(['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol']);

function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    // The handler sees an ordinary watch request; the upgrade is this module's business.
    if (HOP_HEADERS.has(k)) continue;
    headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  const scheme = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  return new Request(`${scheme}://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method: 'GET', headers });
}

/** A refused watch (401, 410, ...) is answered as plain HTTP instead of an upgrade, like kube-apiserver. */
async function refuse(socket: Duplex, res: Response): Promise<void> {
  const body = Buffer.from(await res.text());
  const head = [`HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}`, 'connection: close', `content-length: ${body.length}`];
  for (const [k, v] of res.headers) if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') head.push(`${k}: ${v}`);
  socket.end(Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n'), body]));
}

/**
 * Each event's base64 form, made once for all the watchers it goes to (they share the event's bytes),
 * and kept only as long as those bytes are.
 */
const base64Frames = new WeakMap<Uint8Array, Buffer>();

function base64Frame(json: Uint8Array): Buffer {
  let frame = base64Frames.get(json);
  if (!frame) {
    frame = Buffer.from(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('base64'), 'latin1');
    base64Frames.set(json, frame);
  }
  return frame;
}

/**
 * A watch's connection as WebSocket messages: one event per message, framed for the subprotocol. The
 * event's own bytes are queued, not a copy per connection: a text frame is the JSON as it is.
 */
function webSocketSink(ws: WebSocket, framing: Framing): WatchSink {
  return {
    write(json) {
      if (ws.readyState !== ws.OPEN) return;
      const bytes = framing === 'base64' ? base64Frame(json) : Buffer.from(json.buffer, json.byteOffset, json.byteLength);
      ws.send(bytes, { binary: framing === 'binary' });
    },
    backlog: () => ws.bufferedAmount,
    end() {
      if (ws.readyState === ws.OPEN) ws.close(1000);
    },
    // The client reads nothing: a close handshake would wait on it too.
    abort: () => ws.terminate(),
  };
}

/**
 * Watches over WebSocket: the request is served by the same watch handler as chunked HTTP, whose event
 * source is then attached to the socket instead of the response body. The handler runs before the
 * upgrade is accepted, so a watch it refuses gets its Status as an HTTP response.
 */
export function attachWebSocketWatch(server: Server, fetch: FetchFn, log: Logger): () => void {
  const wss = new WebSocketServer({
    noServer: true,
    // Never the bearer-token subprotocol a client may offer alongside: that one only carries credentials.
    handleProtocols: (protocols) => (protocols.has(BASE64_PROTOCOL) ? BASE64_PROTOCOL : protocols.has(BINARY_PROTOCOL) ? BINARY_PROTOCOL : false),
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' || url.pathname.includes('/watch/');
    if (!isWatch) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nonly watch requests can be upgraded to WebSocket\n');
      return;
    }
    socket.on('error', () => undefined);
    let source: WatchEventSource | undefined;
    // A client gone before the upgrade completes must not leave its watch subscribed.
    const abandon = () => source?.close();
    socket.once('close', abandon);
    Promise.resolve(fetch(toRequest(req), { incoming: req }))
      .then(async (res) => {
        const watch = res.status === 200 ? watchSourceOf(res.body) : undefined;
        if (!watch) return refuse(socket, res);
        source = watch;
        if (socket.destroyed) return abandon();
        wss.handleUpgrade(req, socket, head, (ws) => {
          socket.off('close', abandon);
          ws.once('close', () => watch.close());
          try {
            watch.attach(webSocketSink(ws, framingOf(ws.protocol)));
          } catch (err) {
            log.warn('websocket watch failed', { error: errMessage(err) });
            watch.close();
            ws.terminate();
          }
        });
      })
      .catch((err: unknown) => {
        log.warn('websocket watch failed', { error: errMessage(err) });
        abandon();
        socket.destroy();
      });
  };
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('upgrade', onUpgrade);
    for (const c of wss.clients) c.close(1001);
    wss.close();
  };
}
