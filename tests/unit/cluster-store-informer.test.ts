import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../lib/api/meta.ts';
import { errors, StatusError } from '../../lib/errors.ts';
import { silentLogger } from '../../lib/log.ts';
import { Informer, parseResourceVersion, type InformerSource } from '../../lib/store/cluster-informer.ts';
import type { RawWatchEvent } from '../../lib/store/kube-client.ts';
import type { WatchEvent } from '../../lib/watch/types.ts';
import { until as pollUntil } from '../support/wait-for.ts';

// The informer's list/watch/relist logic, driven by a FAKE list-watch source (an in-memory stand-in
// for the API server's list and watch endpoints) so each step of the protocol can be played exactly.

function obj(name: string, rv: number, uid = `uid-${name}`, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Thing', metadata: { name, namespace: 'ns', uid, resourceVersion: String(rv) }, ...extra };
}

interface OpenWatch {
  fromRV: string;
  emit(type: string, object: unknown): void;
  end(err?: unknown): void;
  stopped: boolean;
}

/** FAKE list-watch source: `listResult` answers lists; every watch call is recorded and driven by the test. */
function fakeSource() {
  const state = {
    listResult: { items: [] as KubeObject[], resourceVersion: '0' } as { items: KubeObject[]; resourceVersion: string },
    listError: undefined as unknown,
    lists: 0,
    watches: [] as OpenWatch[],
  };
  const source: InformerSource = {
    async list() {
      state.lists += 1;
      if (state.listError) throw state.listError;
      return structuredClone(state.listResult);
    },
    async watch(rv, onEvent: (ev: RawWatchEvent) => void, onDone: (err?: unknown) => void) {
      let ended = false;
      const w: OpenWatch = {
        fromRV: rv,
        stopped: false,
        emit: (type, object) => {
          if (!ended && !w.stopped) onEvent({ type, object: structuredClone(object) });
        },
        end: (err) => {
          if (ended || w.stopped) return;
          ended = true;
          onDone(err);
        },
      };
      state.watches.push(w);
      return { stop: () => (w.stopped = true) };
    },
  };
  return { state, source };
}

// The informer reacts within milliseconds of the stand-in source: poll often.
const until = (what: string, check: () => boolean) => pollUntil(what, check, 30_000, 5);

const summary = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`);

describe('cluster-store informer', () => {
  const informers: Informer[] = [];
  const make = (source: InformerSource) => {
    const inf = new Informer(source, { name: 'things', log: silentLogger, initialBackoffMs: 10, maxBackoffMs: 40 });
    informers.push(inf);
    return inf;
  };
  afterEach(async () => {
    await Promise.all(informers.splice(0).map((i) => i.stop()));
  });
  /** An informer over a new FAKE source listing `items` at `resourceVersion`, once it has listed and opened its watch. */
  const watching = async (items: KubeObject[], resourceVersion: string) => {
    const { state, source } = fakeSource();
    state.listResult = { items, resourceVersion };
    const inf = make(source);
    await inf.ready(1_000);
    await until('watch', () => state.watches.length === 1);
    return { state, inf };
  };

  it('lists, serves reads from the cache, then watches from the list resourceVersion', async () => {
    const { state, source } = fakeSource();
    state.listResult = { items: [obj('a', 5), obj('b', 7)], resourceVersion: '9' };
    const inf = make(source);
    await inf.ready(1_000);
    expect(inf.get('ns', 'a')?.metadata.resourceVersion).toBe('5');
    expect(inf.get('ns', 'missing')).toBeUndefined();
    expect(inf.resourceVersion).toBe(9);
    await until('watch', () => state.watches.length === 1);
    expect(state.watches[0].fromRV).toBe('9');
    expect(state.lists).toBe(1);
    // Cached objects are frozen: a caller cannot change the cache by accident.
    expect(Object.isFrozen(inf.get('ns', 'a')?.metadata)).toBe(true);
  });

  it('applies watch events in order, skips repeats, and moves on with bookmarks', async () => {
    const { state, inf } = await watching([obj('a', 5)], '9');
    const seen: WatchEvent[] = [];
    inf.hub.subscribe({ filter: () => true, send: (e) => seen.push(e) });
    const w = state.watches[0];
    w.emit('ADDED', obj('b', 10));
    w.emit('MODIFIED', obj('a', 11, 'uid-a', { spec: { x: 1 } }));
    w.emit('MODIFIED', obj('a', 11, 'uid-a', { spec: { x: 1 } })); // a repeat after a resumed watch
    w.emit('DELETED', obj('b', 12));
    w.emit('DELETED', obj('nothere', 13));
    expect(summary(seen)).toEqual(['ADDED b@10', 'MODIFIED a@11', 'DELETED b@12']);
    expect(inf.get('ns', 'b')).toBeUndefined();
    expect(inf.get('ns', 'a')?.spec).toEqual({ x: 1 });
    expect(inf.resourceVersion).toBe(13);

    const reached = inf.waitUntil(() => inf.resourceVersion >= 20, 2_000);
    w.emit('BOOKMARK', { kind: 'Thing', apiVersion: 'v1', metadata: { resourceVersion: '20' } });
    expect(await reached).toBe(true);
    expect(seen).toHaveLength(3);
    expect(await inf.waitUntil(() => inf.resourceVersion >= 99, 50)).toBe(false);
  });

  it('resumes a watch that ended from the last resourceVersion seen, without listing again', async () => {
    const { state, inf } = await watching([], '3');
    state.watches[0].emit('ADDED', obj('a', 4));
    state.watches[0].end();
    await until('second watch', () => state.watches.length === 2);
    expect(state.watches[1].fromRV).toBe('4');
    state.watches[1].end(new Error('connect ECONNREFUSED'));
    await until('third watch', () => state.watches.length === 3);
    expect(state.watches[2].fromRV).toBe('4');
    expect(state.lists).toBe(1);
    expect(inf.relists).toBe(0);
  });

  it('lists again after 410 Gone (ERROR event or HTTP 410) and tells watchers what changed meanwhile', async () => {
    const { state, inf } = await watching([obj('keep', 2), obj('change', 3), obj('gone', 4), obj('recreated', 5)], '6');
    const seen: WatchEvent[] = [];
    inf.hub.subscribe({ filter: () => true, send: (e) => seen.push(e) });

    // While we were away: one changed, one deleted, one deleted and made again, one new.
    state.listResult = {
      items: [obj('keep', 2), obj('change', 20), obj('recreated', 21, 'uid-recreated-2'), obj('new', 22)],
      resourceVersion: '30',
    };
    state.watches[0].emit('ERROR', errors.gone('too old resource version: 6 (25)').toStatus());
    await until('relist and watch', () => state.watches.length === 2);
    expect(state.lists).toBe(2);
    expect(inf.relists).toBe(1);
    expect(state.watches[1].fromRV).toBe('30');
    expect(summary(seen).sort()).toEqual(['ADDED new@22', 'ADDED recreated@21', 'DELETED gone@4', 'DELETED recreated@5', 'MODIFIED change@20'].sort());
    expect(inf.get('ns', 'gone')).toBeUndefined();
    expect(inf.get('ns', 'recreated')?.metadata.uid).toBe('uid-recreated-2');

    // A watch refused with HTTP 410 (as the dev gateway does) relists too.
    state.listResult = { items: [obj('keep', 2)], resourceVersion: '40' };
    state.watches[1].end(new StatusError(410, 'Expired', 'too old resource version'));
    await until('second relist', () => state.watches.length === 3);
    expect(inf.relists).toBe(2);
    expect(state.watches[2].fromRV).toBe('40');
    expect([...inf.values()].map((o) => o.metadata.name)).toEqual(['keep']);
  });

  it('lets our own watchers resume from a resourceVersion it still holds, and 410 before its first list', async () => {
    const { state, inf } = await watching([obj('a', 5)], '10');
    state.watches[0].emit('ADDED', obj('b', 11));
    state.watches[0].emit('ADDED', obj('c', 12));
    const resumed: WatchEvent[] = [];
    inf.hub.subscribe({ fromRV: 11, filter: () => true, send: (e) => resumed.push(e) });
    expect(summary(resumed)).toEqual(['ADDED c@12']);
    expect(() => inf.hub.subscribe({ fromRV: 9, filter: () => true, send: () => undefined })).toThrow(/too old resource version/);
  });

  it('retries a failing list with backoff and reports 503 with the reason until it works', async () => {
    const { state, source } = fakeSource();
    state.listError = errors.notFound({ group: 'config.porch.kpt.dev', resource: 'repositories' }, '');
    const inf = make(source);
    const err = await inf.ready(150).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBe(503);
    expect((err as StatusError).message).toMatch(/things is not synced.*not found/);
    expect(state.lists).toBeGreaterThan(1);
    state.listError = undefined;
    state.listResult = { items: [obj('a', 1)], resourceVersion: '2' };
    await inf.ready(2_000);
    expect(inf.get('ns', 'a')).toBeDefined();
  });

  it('stops at once, even while waiting to retry', async () => {
    const { state, source } = fakeSource();
    state.listError = new Error('connect ECONNREFUSED');
    const inf = new Informer(source, { name: 'things', log: silentLogger, initialBackoffMs: 60_000 });
    inf.start();
    await until('first list', () => state.lists === 1);
    const t0 = Date.now();
    await inf.stop();
    // Far below the 60 s backoff: stop() did not wait for the retry.
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(await inf.waitUntil(() => inf.isSynced, 10_000)).toBe(false);
  });

  it('accepts only the integer resourceVersions of an etcd-backed server', () => {
    expect(parseResourceVersion('123')).toBe(123);
    expect(parseResourceVersion('')).toBe(0);
    expect(() => parseResourceVersion('abc')).toThrow(/unsupported resourceVersion/);
    expect(() => parseResourceVersion('-1')).toThrow(/unsupported resourceVersion/);
  });
});
