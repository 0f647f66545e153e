import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../lib/api/meta.ts';
import { OrderedProjection } from '../../lib/watch/projection.ts';
import { RecentResults } from '../../lib/watch/recent.ts';
import type { WatchEvent } from '../../lib/watch/types.ts';

function obj(name: string, rv: number): KubeObject {
  return { apiVersion: 'v1', kind: 'Thing', metadata: { name, namespace: 'ns', resourceVersion: String(rv) } };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** A projection whose reads are resolved by the test, one deferred per source version. */
function harness(opts: { lookahead?: number; current?: () => string; start?: string } = {}) {
  const reads = new Map<string, Deferred<KubeObject | undefined>>();
  const started: string[] = [];
  const sent: WatchEvent[] = [];
  const failures: unknown[] = [];
  const keyOf = (o: KubeObject) => `${o.metadata.name}@${o.metadata.resourceVersion}`;
  const p = new OrderedProjection<KubeObject, KubeObject>({
    read: (source) => {
      const d = deferred<KubeObject | undefined>();
      reads.set(keyOf(source), d);
      started.push(keyOf(source));
      return d.promise;
    },
    deleted: (source) => ({ ...source, kind: 'Gone' }),
    send: (ev) => sent.push(ev),
    fail: (err) => failures.push(err),
    currentResourceVersion: opts.current ?? (() => '1000'),
    startResourceVersion: opts.start ?? '10',
    lookahead: opts.lookahead,
  });
  const read = (name: string, rv: number) => {
    const d = reads.get(`${name}@${rv}`);
    if (!d) throw new Error(`no read started for ${name}@${rv}; started: ${started.join(', ')}`);
    return d;
  };
  const summary = () => sent.map((e) => `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion} ${e.object.kind}`);
  return { p, read, started, sent, failures, summary };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('OrderedProjection', () => {
  it('delivers in push order even when later reads finish first', async () => {
    const h = harness();
    h.p.push({ type: 'ADDED', object: obj('a', 11) });
    h.p.push({ type: 'ADDED', object: obj('b', 12) });
    h.p.push({ type: 'MODIFIED', object: obj('a', 13) });
    h.read('a', 13).resolve({ ...obj('a', 13), kind: 'Read' });
    h.read('b', 12).resolve({ ...obj('b', 12), kind: 'Read' });
    await flush();
    expect(h.sent).toEqual([]);
    h.read('a', 11).resolve({ ...obj('a', 11), kind: 'Read' });
    await flush();
    expect(h.summary()).toEqual(['ADDED a@11 Read', 'ADDED b@12 Read', 'MODIFIED a@13 Read']);
    expect(h.p.pending).toBe(0);
  });

  it('starts at most `lookahead` reads ahead and never reads for a DELETED', async () => {
    const h = harness({ lookahead: 2 });
    h.p.push({ type: 'ADDED', object: obj('a', 11) });
    h.p.push({ type: 'DELETED', object: obj('x', 12) });
    h.p.push({ type: 'ADDED', object: obj('b', 13) });
    h.p.push({ type: 'ADDED', object: obj('c', 14) });
    expect(h.started).toEqual(['a@11', 'b@13']);
    h.read('a', 11).resolve(obj('a', 11));
    await flush();
    expect(h.started).toEqual(['a@11', 'b@13', 'c@14']);
    h.read('b', 13).resolve(obj('b', 13));
    h.read('c', 14).resolve(obj('c', 14));
    await flush();
    expect(h.summary()).toEqual(['ADDED a@11 Thing', 'DELETED x@12 Gone', 'ADDED b@13 Thing', 'ADDED c@14 Thing']);
  });

  it('skips a superseded version: a skipped ADDED makes the next MODIFIED the ADDED', async () => {
    const h = harness();
    h.p.push({ type: 'ADDED', object: obj('a', 11) });
    h.p.push({ type: 'MODIFIED', object: obj('a', 12) });
    h.p.push({ type: 'MODIFIED', object: obj('b', 13) });
    h.p.push({ type: 'MODIFIED', object: obj('b', 14) });
    h.read('a', 11).resolve(undefined);
    h.read('a', 12).resolve(obj('a', 12));
    h.read('b', 13).resolve(undefined);
    h.read('b', 14).resolve(obj('b', 14));
    await flush();
    expect(h.summary()).toEqual(['ADDED a@12 Thing', 'MODIFIED b@14 Thing']);
  });

  it('sends nothing for an object whose only ADDED was skipped and which is then deleted', async () => {
    const h = harness();
    h.p.push({ type: 'ADDED', object: obj('a', 11) });
    h.p.push({ type: 'DELETED', object: obj('a', 12) });
    h.p.push({ type: 'DELETED', object: obj('b', 13) });
    h.read('a', 11).resolve(undefined);
    await flush();
    expect(h.summary()).toEqual(['DELETED b@13 Gone']);
  });

  it('offers bookmarks only up to what has been delivered', async () => {
    let current = '20';
    const h = harness({ start: '10', current: () => current });
    expect(h.p.resourceVersion()).toBe('20');
    h.p.push({ type: 'ADDED', object: obj('a', 15) });
    h.p.push({ type: 'ADDED', object: obj('b', 16) });
    current = '16';
    expect(h.p.resourceVersion()).toBe('10');
    h.read('a', 15).resolve(obj('a', 15));
    await flush();
    expect(h.p.resourceVersion()).toBe('15');
    h.read('b', 16).resolve(obj('b', 16));
    await flush();
    expect(h.p.resourceVersion()).toBe('16');
  });

  it('uses the given watermark for list items, so older object versions do not move it back', async () => {
    const h = harness({ start: '50' });
    h.p.push({ type: 'ADDED', object: obj('old', 3) }, 50);
    h.p.push({ type: 'MODIFIED', object: obj('new', 51) });
    h.read('old', 3).resolve(obj('old', 3));
    await flush();
    expect(h.p.resourceVersion()).toBe('50');
  });

  it('resolves a barrier after everything before it, and not before', async () => {
    const h = harness();
    h.p.push({ type: 'ADDED', object: obj('a', 11) });
    let passed = false;
    const barrier = h.p.barrier().then(() => (passed = true));
    h.p.push({ type: 'ADDED', object: obj('b', 12) });
    await flush();
    expect(passed).toBe(false);
    h.read('a', 11).resolve(obj('a', 11));
    await barrier;
    expect(h.summary()).toEqual(['ADDED a@11 Thing']);
  });

  it('fails once on a read error and delivers nothing after it', async () => {
    const h = harness();
    h.p.push({ type: 'ADDED', object: obj('a', 11) });
    h.p.push({ type: 'ADDED', object: obj('b', 12) });
    h.read('b', 12).resolve(obj('b', 12));
    h.read('a', 11).reject(new Error('git broke'));
    await flush();
    expect(h.failures.map((e) => (e as Error).message)).toEqual(['git broke']);
    expect(h.sent).toEqual([]);
    h.p.push({ type: 'DELETED', object: obj('c', 13) });
    await flush();
    expect(h.sent).toEqual([]);
  });

  it('stops delivering when closed while a read is in flight', async () => {
    const h = harness();
    h.p.push({ type: 'ADDED', object: obj('a', 11) });
    h.p.close();
    h.read('a', 11).resolve(obj('a', 11));
    await flush();
    expect(h.sent).toEqual([]);
    expect(h.p.pending).toBe(0);
  });

  it('keeps order over a long queue of many events', async () => {
    const h = harness({ lookahead: 8 });
    const n = 5000;
    for (let i = 0; i < n; i++) h.p.push({ type: i % 3 === 0 ? 'DELETED' : 'MODIFIED', object: obj(`o${i}`, 100 + i) });
    let resolved = 0;
    for (let round = 0; h.sent.length < n && round < n; round++) {
      for (const key of h.started.slice(resolved)) {
        resolved++;
        const [name, rv] = key.split('@');
        h.read(name, Number(rv)).resolve(obj(name, Number(rv)));
      }
      await flush();
    }
    expect(h.sent.map((e) => Number(e.object.metadata.resourceVersion))).toEqual(Array.from({ length: n }, (_, i) => 100 + i));
  });
});

describe('RecentResults', () => {
  it('shares one read between callers of the same key', async () => {
    const r = new RecentResults<number>(4, 4);
    let reads = 0;
    const read = async () => ++reads;
    const [a, b] = await Promise.all([r.get('k', read), r.get('k', read)]);
    expect([a, b, reads]).toEqual([1, 1, 1]);
    expect(await r.get('k', read)).toBe(1);
  });

  it('forgets the least recently used entry beyond its capacity', async () => {
    const r = new RecentResults<string>(2, 4);
    const reads: string[] = [];
    const read = (k: string) => async () => (reads.push(k), k);
    await r.get('a', read('a'));
    await r.get('b', read('b'));
    await r.get('a', read('a'));
    await r.get('c', read('c'));
    await r.get('a', read('a'));
    await r.get('b', read('b'));
    expect(reads).toEqual(['a', 'b', 'c', 'b']);
  });

  it('does not remember a failure', async () => {
    const r = new RecentResults<string>(4, 4);
    await expect(r.get('k', async () => Promise.reject(new Error('once')))).rejects.toThrow('once');
    expect(await r.get('k', async () => 'ok')).toBe('ok');
  });

  it('runs at most `concurrency` reads at once', async () => {
    const r = new RecentResults<number>(100, 3);
    let running = 0;
    let peak = 0;
    const gates: Deferred<void>[] = [];
    const all = Array.from({ length: 10 }, (_, i) =>
      r.get(String(i), async () => {
        running++;
        peak = Math.max(peak, running);
        const g = deferred<void>();
        gates.push(g);
        await g.promise;
        running--;
        return i;
      }),
    );
    for (let done = 0; done < 10; ) {
      await flush();
      const open = gates.splice(0);
      expect(open.length).toBeLessThanOrEqual(3);
      for (const g of open) g.resolve();
      done += open.length;
    }
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
  });
});
