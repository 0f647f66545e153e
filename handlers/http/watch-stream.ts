import type { KubeObject } from '../../lib/api/meta.ts';
import { apiVersionOf, type ResourceDescriptor } from '../../lib/api/resources.ts';
import { toTable } from '../../lib/api/table.ts';
import { errors, toStatusError } from '../../lib/errors.ts';
import type { Unsubscribe, WatchEvent } from '../../lib/watch/types.ts';

/**
 * What a source that delivers asynchronously returns from subscribe: the initial-events-end bookmark
 * (and periodic bookmarks) must wait until its initial events are actually out.
 */
export interface AsyncWatchSource {
  unsubscribe: Unsubscribe;
  /** Resolves with the resourceVersion the initial events end at, once they have all been sent. */
  initialEvents: Promise<string>;
}

export interface WatchStreamOptions {
  res: ResourceDescriptor;
  table: boolean;
  timeoutSeconds?: number;
  bookmarks: boolean;
  /** Seconds between bookmarks when they are allowed; default PORCH_BOOKMARK_INTERVAL_SECONDS or 30. */
  bookmarkIntervalSeconds?: number;
  /** Mark the end of the initial ADDED events with a bookmark (sendInitialEvents). */
  initialEventsEnd: boolean;
  /** The version a bookmark may carry: no event at or below it may still be on its way. */
  currentResourceVersion: () => string;
  /**
   * Starts delivery; may throw a StatusError (e.g. 410 Gone) before anything is sent, which becomes the
   * HTTP response. `fail` ends the watch with an ERROR event carrying the error as a Status.
   */
  subscribe: (send: (ev: WatchEvent) => void, fail: (err: unknown) => void) => Unsubscribe | AsyncWatchSource;
  /** Bytes a client may fall behind before it is cut off with an ERROR event. */
  maxBufferedBytes?: number;
  /**
   * After a slow client was cut off it gets this long to read what is queued (the ERROR included)
   * before its connection is dropped.
   */
  slowClientGraceMs?: number;
  /** Lets the server end every watch at shutdown with a final event. */
  onShutdown?: (close: () => void) => Unsubscribe;
}

const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;
const DEFAULT_BOOKMARK_SECONDS = 30;
const DEFAULT_SLOW_GRACE_MS = 10_000;

const encoder = new TextEncoder();

function frame(ev: { type: string; object: unknown }): Uint8Array {
  return encoder.encode(JSON.stringify(ev) + '\n');
}

// A hub hands one event to every watcher in turn: remembering the last encoding means N watchers of
// the same event serialise it once. One slot keeps this from holding on to anything else.
let lastEncoded: { object: object; type: string; table: boolean; res: ResourceDescriptor; bytes: Uint8Array } | undefined;

function eventFrame(opts: Pick<WatchStreamOptions, 'res' | 'table'>, ev: WatchEvent): Uint8Array {
  const l = lastEncoded;
  if (l && l.object === ev.object && l.type === ev.type && l.table === opts.table && l.res === opts.res) return l.bytes;
  const bytes = frame(encodeWatchEvent(opts, ev));
  lastEncoded = { object: ev.object, type: ev.type, table: opts.table, res: opts.res, bytes };
  return bytes;
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

/** The bookmark period: tests shorten it through the environment without touching every handler. */
export function bookmarkIntervalSeconds(explicit?: number): number {
  if (explicit !== undefined && explicit > 0) return explicit;
  const fromEnv = Number(process.env.PORCH_BOOKMARK_INTERVAL_SECONDS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_BOOKMARK_SECONDS;
}

function isAsyncSource(s: Unsubscribe | AsyncWatchSource): s is AsyncWatchSource {
  return typeof s !== 'function';
}

/** A newline-delimited JSON watch over chunked HTTP, as kubectl and client-go read it. */
export function watchResponse(opts: WatchStreamOptions): Response {
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Events are still being produced for this client. */
  let live = true;
  /** The stream is closed or errored: nothing more can be enqueued. */
  let ended = false;
  /** Cut off as too slow: the stream closes once the client has read what is queued. */
  let draining = false;
  /**
   * The initial events are exempt from the buffer limit: the client cannot have read anything yet, and
   * they are no more than a list response would hold.
   */
  let initialising = true;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: Unsubscribe = () => undefined;
  let unShutdown: Unsubscribe = () => undefined;

  const stopProducing = () => {
    if (!live) return;
    live = false;
    unsubscribe();
    unShutdown();
    for (const t of timers) clearTimeout(t);
    timers.length = 0;
  };

  const end = () => {
    stopProducing();
    if (ended) return;
    ended = true;
    try {
      controller.close();
    } catch {
      // the client went away and the stream is cancelled already
    }
  };

  const endWithError = (err: unknown) => {
    if (!live) return;
    enqueue(frame({ type: 'ERROR', object: toStatusError(err).toStatus() }));
    end();
  };

  const enqueue = (bytes: Uint8Array) => {
    try {
      controller.enqueue(bytes);
    } catch {
      // the stream is going away anyway
    }
  };

  const cutOffSlowClient = () => {
    enqueue(frame({ type: 'ERROR', object: errors.timeout('watch client too slow: the event buffer overflowed; re-list and watch again').toStatus() }));
    stopProducing();
    draining = true;
    // A client that reads nothing at all would otherwise hold its connection and buffer forever.
    const drop = setTimeout(() => {
      if (ended) return;
      ended = true;
      controller.error(new Error('watch client too slow'));
    }, opts.slowClientGraceMs ?? DEFAULT_SLOW_GRACE_MS);
    timers.push(drop);
  };

  const push = (bytes: Uint8Array) => {
    if (!live) return;
    // desiredSize is minus the bytes queued and not yet taken by the socket (highWaterMark is 0).
    if (!initialising && (controller.desiredSize ?? 0) < -maxBuffered) {
      cutOffSlowClient();
      return;
    }
    controller.enqueue(bytes);
  };

  const send = (ev: WatchEvent) => push(eventFrame(opts, ev));
  const bookmark = (rv: string, initialEnd = false) => push(frame({ type: 'BOOKMARK', object: bookmarkObject(opts.res, rv, initialEnd) }));

  const initialEventsSent = (rv: string) => {
    initialising = false;
    if (!live) return;
    if (opts.initialEventsEnd && opts.bookmarks) bookmark(rv, true);
    if (!opts.bookmarks) return;
    const every = bookmarkIntervalSeconds(opts.bookmarkIntervalSeconds) * 1000;
    timers.push(setInterval(() => bookmark(opts.currentResourceVersion()), every));
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      // Runs inside the constructor, so a subscribe that throws (410 Gone) throws out of watchResponse.
      start(c) {
        controller = c;
        const source = opts.subscribe(send, endWithError);
        unsubscribe = isAsyncSource(source) ? source.unsubscribe : source;
        // The source may have failed while subscribing, before there was anything to unsubscribe.
        if (!live) {
          unsubscribe();
          return;
        }
        if (isAsyncSource(source)) source.initialEvents.then(initialEventsSent, endWithError);
        else initialEventsSent(opts.currentResourceVersion());
        if (opts.timeoutSeconds) timers.push(setTimeout(end, opts.timeoutSeconds * 1000));
        if (opts.onShutdown)
          unShutdown = opts.onShutdown(() => endWithError(errors.unavailable('the server is shutting down; watch again', 1)));
      },
      // Called when the client waits for data and nothing is queued: a cut-off client has read it all.
      pull() {
        if (draining && !ended) {
          ended = true;
          for (const t of timers) clearTimeout(t);
          controller.close();
        }
      },
      cancel() {
        stopProducing();
        ended = true;
        for (const t of timers) clearTimeout(t);
      },
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  return new Response(stream, {
    status: 200,
    headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' },
  });
}
