import type { KubeObject } from '../api/meta.ts';
import type { WatchEvent } from './types.ts';

export interface ProjectionOptions<S extends KubeObject, T extends KubeObject> {
  /**
   * The object to deliver for an ADDED or MODIFIED source object, or undefined when the source has
   * already moved past that version (a later event for it is then on its way). May reject: the watch
   * then fails.
   */
  read: (source: S) => Promise<T | undefined>;
  /** What a DELETED event carries; built without reading, the source may be gone. */
  deleted: (source: S) => T;
  send: (ev: WatchEvent<T>) => void;
  fail: (err: unknown) => void;
  /** The source's resourceVersion now, for when nothing is waiting to be delivered. */
  currentResourceVersion: () => string;
  /** Up to where the watcher is known complete before anything is delivered (the list or the resume point). */
  startResourceVersion: string;
  /** Reads started ahead of the one being waited for. */
  lookahead?: number;
}

interface Pending<S, T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  source: S;
  /** Once this is delivered, a resume from here misses nothing. */
  watermark: number;
  result?: Promise<T | undefined>;
}

type Item<S, T> = Pending<S, T> | { marker: () => void };

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

/**
 * A watch whose objects are derived asynchronously from another watch's objects (e.g. a revision's
 * files read from git), delivered in the source's order. Versions superseded before they could be read
 * are skipped, so each delivered object is exactly the state its resourceVersion names; a skipped
 * ADDED turns the object's next event into the ADDED, and if that next event is a DELETED the object
 * was never shown and nothing is sent.
 */
export class OrderedProjection<S extends KubeObject, T extends KubeObject> {
  // A queue as an array and a head index: shifting a long initial list one by one would be quadratic.
  private items: Item<S, T>[] = [];
  private head = 0;
  /** Items before this index have had their read started (or need none). */
  private scan = 0;
  private inFlight = 0;
  private draining = false;
  private closed = false;
  private delivered: number;
  /** Objects whose ADDED was skipped: the watcher has not seen them yet. */
  private readonly unseen = new Set<string>();
  private readonly lookahead: number;

  constructor(private readonly opts: ProjectionOptions<S, T>) {
    this.delivered = Number(opts.startResourceVersion);
    this.lookahead = Math.max(1, opts.lookahead ?? 4);
  }

  /** Number of events taken in and not yet delivered. */
  get pending(): number {
    return this.items.length - this.head;
  }

  /**
   * Take in a source event. `watermark` defaults to the object's own resourceVersion; the initial
   * ADDED events of a list pass the list's version instead, since their own versions are older.
   */
  push(ev: WatchEvent<S>, watermark?: number): void {
    if (this.closed || (ev.type !== 'ADDED' && ev.type !== 'MODIFIED' && ev.type !== 'DELETED')) return;
    this.items.push({ type: ev.type, source: ev.object, watermark: watermark ?? Number(ev.object.metadata.resourceVersion) });
    this.startReads();
    void this.drain();
  }

  /** Resolves once everything pushed before it has been delivered. */
  barrier(): Promise<void> {
    return new Promise<void>((marker) => {
      this.items.push({ marker });
      void this.drain();
    });
  }

  /**
   * The version a bookmark may carry now: with events still waiting, the current version would let a
   * client resuming from it miss them, so it is the watermark of the last one delivered.
   */
  resourceVersion(): string {
    return this.pending === 0 ? this.opts.currentResourceVersion() : String(this.delivered);
  }

  close(): void {
    this.closed = true;
    this.items = [];
    this.head = this.scan = 0;
  }

  private startReads(): void {
    if (this.scan < this.head) this.scan = this.head;
    while (this.scan < this.items.length && this.inFlight < this.lookahead) {
      const item = this.items[this.scan++];
      if (!('marker' in item) && item.type !== 'DELETED' && !item.result) this.begin(item);
    }
  }

  private begin(item: Pending<S, T>): Promise<T | undefined> {
    this.inFlight++;
    const result = this.opts.read(item.source);
    item.result = result;
    const settled = () => {
      this.inFlight--;
      if (!this.closed) this.startReads();
    };
    result.then(settled, settled);
    return result;
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.closed && this.pending) {
        const head = this.items[this.head];
        if ('marker' in head) {
          this.shift();
          head.marker();
          continue;
        }
        let object: T | undefined;
        if (head.type === 'DELETED') object = this.opts.deleted(head.source);
        else {
          try {
            object = await (head.result ?? this.begin(head));
          } catch (err) {
            if (!this.closed) {
              this.close();
              this.opts.fail(err);
            }
            return;
          }
          if (this.closed) return;
        }
        this.shift();
        this.delivered = Math.max(this.delivered, head.watermark);
        this.deliver(head.type, head.source, object);
      }
    } finally {
      this.draining = false;
    }
  }

  private shift(): void {
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.scan = Math.max(0, this.scan - this.head);
      this.head = 0;
    }
  }

  private deliver(type: Pending<S, T>['type'], source: S, object: T | undefined): void {
    const key = keyOf(source);
    if (type === 'DELETED') {
      if (!this.unseen.delete(key) && object) this.opts.send({ type, object });
      return;
    }
    if (object === undefined) {
      if (type === 'ADDED') this.unseen.add(key);
      return;
    }
    this.opts.send({ type: this.unseen.delete(key) ? 'ADDED' : type, object });
  }
}
