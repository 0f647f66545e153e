import type { WatchEventSource, WatchSink } from './event-source.ts';

// Chunked HTTP framing of a watch: one JSON event per line, as kubectl and client-go read it.

const NEWLINE = new Uint8Array([0x0a]);

/** The watch behind each body built here, so the gateway can give it another connection instead. */
const sources = new WeakMap<ReadableStream<Uint8Array>, WatchEventSource>();

/** The watch a response body streams, if it is one: a WebSocket upgrade takes it from here. */
export function watchSourceOf(body: ReadableStream<Uint8Array> | null): WatchEventSource | undefined {
  return body ? sources.get(body) : undefined;
}

/**
 * A newline-delimited JSON body for a watch. The watch is attached when the body is first read, so a
 * body that is never read (the gateway took the watch for a WebSocket) writes nothing.
 */
export function ndjsonBody(source: WatchEventSource): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let attached = false;
  /** Closed or errored: nothing more can be enqueued. */
  let done = false;
  /** The watch ended: close once the client has read what is queued. */
  let closing = false;

  const finish = () => {
    done = true;
    source.close();
  };
  const enqueue = (bytes: Uint8Array) => {
    try {
      controller.enqueue(bytes);
    } catch {
      // the client went away and the stream is cancelled already
    }
  };
  const sink: WatchSink = {
    write(json) {
      if (done) return;
      enqueue(json);
      enqueue(NEWLINE);
    },
    // desiredSize is minus the bytes queued and not yet taken by the socket (highWaterMark is 0).
    backlog: () => -(controller.desiredSize ?? 0),
    end() {
      if (done) return;
      closing = true;
      if (sink.backlog() <= 0) {
        controller.close();
        finish();
      }
    },
    abort(err) {
      if (done) return;
      controller.error(err);
      finish();
    },
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      // Called when the client waits for data and nothing is queued.
      pull() {
        if (!attached) {
          attached = true;
          source.attach(sink);
        } else if (closing && !done) {
          controller.close();
          finish();
        }
      },
      cancel() {
        done = true;
        source.close();
      },
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  sources.set(body, source);
  return body;
}

/** A watch as the HTTP response a handler answers. */
export function ndjsonResponse(source: WatchEventSource): Response {
  return new Response(ndjsonBody(source), {
    status: 200,
    headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' },
  });
}
