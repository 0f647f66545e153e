import type { KubeObject } from '../../lib/api/meta.ts';
import { apiVersionOf, type ResourceDescriptor } from '../../lib/api/resources.ts';
import { toTable } from '../../lib/api/table.ts';
import { errors } from '../../lib/errors.ts';
import type { Unsubscribe, WatchEvent } from '../../lib/watch/types.ts';

export interface WatchStreamOptions {
  res: ResourceDescriptor;
  table: boolean;
  timeoutSeconds?: number;
  bookmarks: boolean;
  /** Seconds between bookmarks when they are allowed. */
  bookmarkIntervalSeconds?: number;
  /** Mark the end of the initial ADDED events with a bookmark (sendInitialEvents). */
  initialEventsEnd: boolean;
  currentResourceVersion: () => string;
  /** Starts delivery; may throw a StatusError (e.g. 410 Gone) before anything is sent. */
  subscribe: (send: (ev: WatchEvent) => void) => Unsubscribe;
  /** Bytes a client may fall behind before it is cut off with an ERROR event. */
  maxBufferedBytes?: number;
  /** Lets the server end every watch at shutdown with a final event. */
  onShutdown?: (close: () => void) => Unsubscribe;
}

const encoder = new TextEncoder();

function frame(ev: { type: string; object: unknown }): Uint8Array {
  return encoder.encode(JSON.stringify(ev) + '\n');
}

export function encodeWatchEvent(opts: Pick<WatchStreamOptions, 'res' | 'table'>, ev: WatchEvent): WatchEvent<unknown> {
  if (!opts.table || ev.type === 'BOOKMARK' || ev.type === 'ERROR') return ev;
  return { type: ev.type, object: toTable(opts.res, [ev.object], ev.object.metadata.resourceVersion, 'Metadata') };
}

export function bookmarkObject(res: ResourceDescriptor, rv: string, initialEnd = false): KubeObject {
  const metadata: KubeObject['metadata'] = { resourceVersion: rv };
  if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  return { apiVersion: apiVersionOf(res), kind: res.kind, metadata };
}

/** A newline-delimited JSON watch over chunked HTTP, as kubectl and client-go read it. */
export function watchResponse(opts: WatchStreamOptions): Response {
  const maxBuffered = opts.maxBufferedBytes ?? 16 * 1024 * 1024;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const early: Uint8Array[] = [];
  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: Unsubscribe = () => undefined;
  let unShutdown: Unsubscribe = () => undefined;

  const finish = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    unShutdown();
    for (const t of timers) clearTimeout(t), clearInterval(t);
    try {
      controller?.close();
    } catch {
      // already closed by the client going away
    }
  };

  const push = (bytes: Uint8Array) => {
    if (closed) return;
    if (!controller) {
      early.push(bytes);
      return;
    }
    if ((controller.desiredSize ?? 0) < -maxBuffered) {
      // The client reads slower than events arrive: end its watch rather than buffer without bound.
      const status = errors.timeout('watch client too slow: the event buffer overflowed; re-list and watch again').toStatus();
      try {
        controller.enqueue(frame({ type: 'ERROR', object: status }));
      } catch {
        // ignore: the stream is going away anyway
      }
      finish();
      return;
    }
    controller.enqueue(bytes);
  };

  const send = (ev: WatchEvent) => {
    push(frame(encodeWatchEvent(opts, ev)));
  };

  unsubscribe = opts.subscribe(send);
  if (opts.initialEventsEnd && opts.bookmarks) push(frame({ type: 'BOOKMARK', object: bookmarkObject(opts.res, opts.currentResourceVersion(), true) }));

  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        for (const b of early) c.enqueue(b);
        early.length = 0;
        if (opts.timeoutSeconds) timers.push(setTimeout(finish, opts.timeoutSeconds * 1000));
        if (opts.bookmarks) {
          const every = (opts.bookmarkIntervalSeconds ?? 30) * 1000;
          timers.push(setInterval(() => push(frame({ type: 'BOOKMARK', object: bookmarkObject(opts.res, opts.currentResourceVersion()) })), every));
        }
        if (opts.onShutdown)
          unShutdown = opts.onShutdown(() => {
            push(frame({ type: 'ERROR', object: errors.unavailable('the server is shutting down; watch again', 1).toStatus() }));
            finish();
          });
      },
      cancel() {
        finish();
      },
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  return new Response(stream, {
    status: 200,
    headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' },
  });
}
