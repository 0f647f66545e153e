import { errors } from '../errors.ts';
import type { KubeObject } from '../api/meta.ts';
import type { ChangeEvent, Unsubscribe, WatchEvent } from './types.ts';

export interface Subscription<T extends KubeObject = KubeObject> {
  /** Replay events after this resourceVersion; undefined = only new events. */
  fromRV?: number;
  /** Whether an object belongs to this watcher's selection (namespace, labels, fields). */
  filter: (obj: T) => boolean;
  send: (event: WatchEvent<T>) => void;
}

/**
 * Fan-out of change events for one resource, with a bounded history so a watcher can resume from a
 * resourceVersion. Delivery is synchronous and allocation-free per watcher beyond the event itself;
 * transports own their buffering and drop slow clients.
 */
export class WatchHub<T extends KubeObject = KubeObject> {
  /** The last `capacity` events, a ring: `start` is the oldest, `count` how many are held. */
  private readonly history: (ChangeEvent<T> | undefined)[];
  private start = 0;
  private count = 0;
  private readonly subscribers = new Set<Subscription<T>>();
  /** The lowest resourceVersion from which a watch can still resume. */
  private floorRV: number;

  constructor(
    capacity = 10_000,
    startRV = 0,
  ) {
    this.floorRV = startRV;
    this.history = new Array<ChangeEvent<T> | undefined>(Math.max(1, capacity));
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** Record that nothing before `rv` can be replayed (e.g. after a restart). */
  resetFloor(rv: number): void {
    this.floorRV = Math.max(this.floorRV, rv);
  }

  publish(ev: ChangeEvent<T>): void {
    const size = this.history.length;
    if (this.count < size) {
      this.history[(this.start + this.count) % size] = ev;
      this.count++;
    } else {
      // Full: the oldest event makes room, and resuming from before it is no longer possible.
      this.floorRV = this.history[this.start]!.rv;
      this.history[this.start] = ev;
      this.start = (this.start + 1) % size;
    }
    // Most changes have no watcher (a cold load publishes thousands): no iterator for an empty set.
    if (this.subscribers.size) for (const sub of this.subscribers) deliver(sub, ev);
  }

  subscribe(sub: Subscription<T>): Unsubscribe {
    if (sub.fromRV !== undefined) {
      if (sub.fromRV < this.floorRV)
        throw errors.gone(`too old resource version: ${sub.fromRV} (${this.floorRV})`);
      const size = this.history.length;
      for (let i = 0; i < this.count; i++) {
        const ev = this.history[(this.start + i) % size]!;
        if (ev.rv > sub.fromRV) deliver(sub, ev);
      }
    }
    this.subscribers.add(sub);
    return () => {
      this.subscribers.delete(sub);
    };
  }
}

function deliver<T extends KubeObject>(sub: Subscription<T>, ev: ChangeEvent<T>): void {
  const now = sub.filter(ev.object);
  if (ev.type === 'MODIFIED' && ev.prev) {
    const before = sub.filter(ev.prev);
    if (now && before) sub.send({ type: 'MODIFIED', object: ev.object });
    else if (now) sub.send({ type: 'ADDED', object: ev.object });
    else if (before) sub.send({ type: 'DELETED', object: ev.object });
    return;
  }
  if (now) sub.send({ type: ev.type, object: ev.object });
}
