import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../lib/api/meta.ts';
import { WatchHub } from '../../lib/watch/hub.ts';
import type { WatchEvent } from '../../lib/watch/types.ts';
import { StatusError } from '../../lib/errors.ts';

function obj(name: string, rv: number, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Thing', metadata: { name, namespace: 'ns', resourceVersion: String(rv), ...(labels ? { labels } : {}) } };
}

const summary = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`);

describe('WatchHub', () => {
  it('replays the history after a resourceVersion, then follows new events', () => {
    const hub = new WatchHub(100, 10);
    hub.publish({ type: 'ADDED', object: obj('a', 11), rv: 11 });
    hub.publish({ type: 'ADDED', object: obj('b', 12), rv: 12 });
    const got: WatchEvent[] = [];
    hub.subscribe({ fromRV: 11, filter: () => true, send: (e) => got.push(e) });
    hub.publish({ type: 'DELETED', object: obj('a', 13), rv: 13 });
    expect(summary(got)).toEqual(['ADDED b@12', 'DELETED a@13']);
  });

  it('refuses a resourceVersion older than its history with 410 Expired', () => {
    const hub = new WatchHub(2, 10);
    for (let rv = 11; rv <= 14; rv++) hub.publish({ type: 'ADDED', object: obj(`o${rv}`, rv), rv });
    let err: unknown;
    try {
      hub.subscribe({ fromRV: 11, filter: () => true, send: () => undefined });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).toStatus()).toMatchObject({ code: 410, reason: 'Expired' });
    expect(hub.size).toBe(0);
    const got: WatchEvent[] = [];
    hub.subscribe({ fromRV: 12, filter: () => true, send: (e) => got.push(e) });
    expect(summary(got)).toEqual(['ADDED o13@13', 'ADDED o14@14']);
  });

  it('turns a change into ADDED or DELETED for a watcher whose selection the object enters or leaves', () => {
    const hub = new WatchHub();
    const got: WatchEvent[] = [];
    hub.subscribe({ filter: (o) => o.metadata.labels?.tier === 'gold', send: (e) => got.push(e) });
    const plain = obj('a', 1);
    const gold = obj('a', 2, { tier: 'gold' });
    const gold2 = obj('a', 3, { tier: 'gold', x: 'y' });
    const silver = obj('a', 4, { tier: 'silver' });
    hub.publish({ type: 'ADDED', object: plain, rv: 1 });
    hub.publish({ type: 'MODIFIED', object: gold, prev: plain, rv: 2 });
    hub.publish({ type: 'MODIFIED', object: gold2, prev: gold, rv: 3 });
    hub.publish({ type: 'MODIFIED', object: silver, prev: gold2, rv: 4 });
    hub.publish({ type: 'DELETED', object: obj('a', 5, { tier: 'silver' }), rv: 5 });
    expect(summary(got)).toEqual(['ADDED a@2', 'MODIFIED a@3', 'DELETED a@4']);
  });

  it('delivers one event to each of 500 watchers and forgets them when they unsubscribe', () => {
    const hub = new WatchHub();
    const counts = new Array<number>(500).fill(0);
    const unsubs = counts.map((_, i) => hub.subscribe({ filter: () => true, send: () => counts[i]++ }));
    expect(hub.size).toBe(500);
    hub.publish({ type: 'ADDED', object: obj('a', 1), rv: 1 });
    expect(counts.every((c) => c === 1)).toBe(true);
    for (const u of unsubs) u();
    expect(hub.size).toBe(0);
    hub.publish({ type: 'ADDED', object: obj('b', 2), rv: 2 });
    expect(counts.every((c) => c === 1)).toBe(true);
  });
});
