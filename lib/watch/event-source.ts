import type { KubeObject } from '../api/meta.ts';
import { apiVersionOf, type ResourceDescriptor } from '../api/resources.ts';
import { toTable } from '../api/table.ts';
import { errors, toStatusError } from '../errors.ts';
import { processBacklogBudget, type BacklogBudget, type BudgetMember } from './backlog-budget.ts';
import type { Unsubscribe, WatchEvent } from './types.ts';

/**
 * What a source that delivers asynchronously returns from subscribe: the initial-events-end bookmark
 * (and periodic bookmarks) must wait until its initial events are actually out.
 */
export interface AsyncWatchSource {
  unsubscribe: Unsubscribe;
  /** Resolves with the resourceVersion the initial events end at, once they have all been sent. */
  initialEvents: Promise<string>;
}

export interface WatchSourceOptions {
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
  /** The bound on the bytes all watchers together may be behind by; the process-wide one by default. */
  backlogBudget?: BacklogBudget;
  /**
   * After a slow client was cut off it gets this long to read what is queued (the ERROR included)
   * before its connection is dropped.
   */
  slowClientGraceMs?: number;
  /** Lets the server end every watch at shutdown with a final event. */
  onShutdown?: (close: () => void) => Unsubscribe;
}

/** One open connection a watch writes to: chunked HTTP or a WebSocket, as the gateway framed it. */
export interface WatchSink {
  /** One event as JSON text; the sink frames it (a line, a message). */
  write(json: Uint8Array): void;
  /** Bytes written that the client has not taken yet. */
  backlog(): number;
  /** The watch is over: what is written still goes out, then the connection closes. */
  end(): void;
  /** Drop the connection now, queued events and all. */
  abort(err: Error): void;
}

const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;
const DEFAULT_BOOKMARK_SECONDS = 30;
const DEFAULT_SLOW_GRACE_MS = 10_000;

const encoder = new TextEncoder();

function json(ev: { type: string; object: unknown }): Uint8Array {
  return encoder.encode(JSON.stringify(ev));
}

// A hub hands one event to every watcher in turn: remembering the encodings of the last object means
// N watchers of the same event serialise it once per encoding (JSON or Table, and the ADDED / DELETED
// a filtered watcher sees instead of MODIFIED), and all of them queue the very same bytes. One object
// at a time keeps this from holding on to anything else.
let lastEncoded: { object: object; variants: Map<string, Uint8Array> } | undefined;

function eventJson(opts: Pick<WatchSourceOptions, 'res' | 'table'>, ev: WatchEvent): Uint8Array {
  if (lastEncoded?.object !== ev.object) lastEncoded = { object: ev.object, variants: new Map() };
  const key = `${ev.type} ${opts.table ? 'table' : 'json'} ${opts.res.group}/${opts.res.version}/${opts.res.plural}`;
  let bytes = lastEncoded.variants.get(key);
  if (!bytes) {
    bytes = json(encodeWatchEvent(opts, ev));
    lastEncoded.variants.set(key, bytes);
  }
  return bytes;
}

export function encodeWatchEvent(opts: Pick<WatchSourceOptions, 'res' | 'table'>, ev: WatchEvent): WatchEvent<unknown> {
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

/** Holds what a watch writes until the gateway has a connection for it. */
class PendingSink implements WatchSink {
  readonly chunks: Uint8Array[] = [];
  private bytes = 0;
  ended = false;
  aborted: Error | undefined;

  write(json: Uint8Array): void {
    this.chunks.push(json);
    this.bytes += json.byteLength;
  }
  backlog(): number {
    return this.bytes;
  }
  end(): void {
    this.ended = true;
  }
  abort(err: Error): void {
    this.aborted = err;
  }
}

/**
 * A watch as its handler hands it over: subscribed from the start (so a 410 is thrown before any
 * response exists), with its bookmarks, timeout, shutdown event and slow-client limit, and written to
 * whichever connection the gateway attaches. Until then its events wait, counted against the limit.
 */
export class WatchEventSource {
  private sink: WatchSink;
  private attached = false;
  /** Events are still being produced for this client. */
  private live = true;
  /** The sink was told to end or abort: nothing more is written. */
  private ended = false;
  /**
   * The initial events are exempt from the buffer limit: the client cannot have read anything yet, and
   * they are no more than a list response would hold.
   */
  private initialising = true;
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: Unsubscribe = () => undefined;
  private unShutdown: Unsubscribe = () => undefined;
  private readonly pending = new PendingSink();
  private readonly maxBuffered: number;
  private readonly budget: BacklogBudget;
  private readonly member: BudgetMember = {
    backlog: () => this.sink.backlog(),
    droppable: () => this.live && !this.initialising,
    drop: () => this.cutOffSlowClient(),
  };

  constructor(private readonly opts: WatchSourceOptions) {
    this.sink = this.pending;
    this.maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
    this.budget = opts.backlogBudget ?? processBacklogBudget;
    const source = opts.subscribe(
      (ev) => this.push(eventJson(opts, ev)),
      (err) => this.endWithError(err),
    );
    this.unsubscribe = isAsyncSource(source) ? source.unsubscribe : source;
    // The source may have failed while subscribing, before there was anything to unsubscribe.
    if (!this.live) {
      this.unsubscribe();
      return;
    }
    // Counted from here on: a source that failed while subscribing is never closed by anyone.
    this.budget.add(this.member);
    if (isAsyncSource(source)) source.initialEvents.then((rv) => this.initialEventsSent(rv), (err: unknown) => this.endWithError(err));
    else this.initialEventsSent(opts.currentResourceVersion());
    if (opts.timeoutSeconds) this.timers.push(setTimeout(() => this.end(), opts.timeoutSeconds * 1000));
    if (opts.onShutdown) this.unShutdown = opts.onShutdown(() => this.endWithError(errors.unavailable('the server is shutting down; watch again', 1)));
  }

  /** Hands the watch to its connection: what waited is written first. Once only. */
  attach(sink: WatchSink): void {
    if (this.attached) throw new Error('watch already attached to a connection');
    this.attached = true;
    this.sink = sink;
    // Dropped before it had a connection: nothing of what waited is delivered.
    if (this.pending.aborted) {
      sink.abort(this.pending.aborted);
      return;
    }
    for (const chunk of this.pending.chunks) sink.write(chunk);
    this.pending.chunks.length = 0;
    if (this.pending.ended) sink.end();
  }

  /** The connection is gone (or done): stop producing and let go of every timer. */
  close(): void {
    this.budget.remove(this.member);
    this.stopProducing();
    this.ended = true;
    this.clearTimers();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.length = 0;
  }

  private stopProducing(): void {
    if (!this.live) return;
    this.live = false;
    this.unsubscribe();
    this.unShutdown();
    this.clearTimers();
  }

  private end(): void {
    this.stopProducing();
    if (this.ended) return;
    this.ended = true;
    this.sink.end();
  }

  private endWithError(err: unknown): void {
    if (!this.live) return;
    this.sink.write(json({ type: 'ERROR', object: toStatusError(err).toStatus() }));
    this.end();
  }

  private cutOffSlowClient(): void {
    this.budget.remove(this.member);
    this.sink.write(json({ type: 'ERROR', object: errors.timeout('watch client too slow: the event buffer overflowed; re-list and watch again').toStatus() }));
    this.end();
    // A client that reads nothing at all would otherwise hold its connection and buffer forever.
    this.timers.push(setTimeout(() => this.sink.abort(new Error('watch client too slow')), this.opts.slowClientGraceMs ?? DEFAULT_SLOW_GRACE_MS));
  }

  private push(bytes: Uint8Array): void {
    if (!this.live) return;
    if (!this.initialising && this.sink.backlog() > this.maxBuffered) {
      this.cutOffSlowClient();
      return;
    }
    this.sink.write(bytes);
    this.budget.wrote(this.member);
  }

  private bookmark(rv: string, initialEnd = false): void {
    this.push(json({ type: 'BOOKMARK', object: bookmarkObject(this.opts.res, rv, initialEnd) }));
  }

  private initialEventsSent(rv: string): void {
    this.initialising = false;
    if (!this.live) return;
    if (this.opts.initialEventsEnd && this.opts.bookmarks) this.bookmark(rv, true);
    if (!this.opts.bookmarks) return;
    const every = bookmarkIntervalSeconds(this.opts.bookmarkIntervalSeconds) * 1000;
    this.timers.push(setInterval(() => this.bookmark(this.opts.currentResourceVersion()), every));
  }
}
