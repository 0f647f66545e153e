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
  private readonly history: ChangeEvent<T>[] = [];
  private readonly subscribers = new Set<Subscription<T>>();
  /** The lowest resourceVersion from which a watch can still resume. */
  private floorRV: number;

  constructor(
    private readonly capacity = 10_000,
    startRV = 0,
  ) {
    this.floorRV = startRV;
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** Record that nothing before `rv` can be replayed (e.g. after a restart). */
  resetFloor(rv: number): void {
    this.floorRV = Math.max(this.floorRV, rv);
  }

  publish(ev: ChangeEvent<T>): void {
    this.history.push(ev);
    if (this.history.length > this.capacity) {
      const dropped = this.history.splice(0, this.history.length - this.capacity);
      this.floorRV = dropped[dropped.length - 1].rv;
    }
    for (const sub of this.subscribers) deliver(sub, ev);
  }

  subscribe(sub: Subscription<T>): Unsubscribe {
    if (sub.fromRV !== undefined) {
      if (sub.fromRV < this.floorRV)
        throw errors.gone(`too old resource version: ${sub.fromRV} (${this.floorRV})`);
      for (const ev of this.history) if (ev.rv > sub.fromRV) deliver(sub, ev);
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
