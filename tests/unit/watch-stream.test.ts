import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KubeObject } from '../../lib/api/meta.ts';
import { findResource } from '../../lib/api/resources.ts';
import { errors, StatusError } from '../../lib/errors.ts';
import { ShutdownSignal } from '../../lib/shutdown.ts';
import { WatchHub } from '../../lib/watch/hub.ts';
import type { WatchEvent } from '../../lib/watch/types.ts';
import { watchResponse, type WatchStreamOptions } from '../../handlers/http/watch-stream.ts';
import { bookmarkIntervalSeconds } from '../../lib/watch/event-source.ts';

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;

interface WireEvent {
  type: string;
  object: { kind?: string; code?: number; reason?: string; metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> } };
}

/** Reads a watch body line by line, counting the bytes it took. */
class Lines {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buf = '';
  bytes = 0;

  constructor(res: Response) {
    this.reader = res.body!.getReader();
  }

  /** The next event, or undefined once the stream has ended. */
  async next(): Promise<WireEvent | undefined> {
    for (;;) {
      const i = this.buf.indexOf('\n');
      if (i >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        return JSON.parse(line) as WireEvent;
      }
      const { done, value } = await this.reader.read();
      if (done) return undefined;
      this.bytes += value.byteLength;
      this.buf += this.decoder.decode(value, { stream: true });
    }
  }

  async rest(): Promise<WireEvent[]> {
    const out: WireEvent[] = [];
    for (let ev = await this.next(); ev; ev = await this.next()) out.push(ev);
    return out;
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

function repo(name: string, rv: number, padding = 0): KubeObject {
  return {
    apiVersion: 'config.porch.kpt.dev/v1alpha1',
    kind: 'Repository',
    metadata: { name, namespace: 'default', resourceVersion: String(rv), ...(padding ? { annotations: { pad: 'x'.repeat(padding) } } : {}) },
    spec: { type: 'git', git: { repo: 'https://example.com/r.git' } },
  };
}

/** The options of a plain watch of Repositories (no table, bookmarks or initial-events-end), as the handlers pass them. */
const PLAIN = { res: REPOS, table: false, bookmarks: false, initialEventsEnd: false };

/** A watch of a hub with every option defaulted the way the handlers pass them. */
function hubWatch(hub: WatchHub, overrides: Partial<WatchStreamOptions> = {}, initial: KubeObject[] = []): Response {
  let rv = 100;
  return watchResponse({
    ...PLAIN,
    currentResourceVersion: () => String(rv),
    subscribe: (send) => {
      for (const o of initial) send({ type: 'ADDED', object: o });
      return hub.subscribe({ filter: () => true, send: (ev) => ((rv = Number(ev.object.metadata.resourceVersion)), send(ev)) });
    },
    ...overrides,
  });
}

const summary = (events: (WireEvent | undefined)[]) => events.map((e) => (e ? `${e.type} ${e.object.metadata?.name ?? e.object.kind}` : 'END'));

afterEach(() => {
  vi.useRealTimers();
  delete process.env.PORCH_BOOKMARK_INTERVAL_SECONDS;
});

describe('watchResponse (chunked NDJSON watch)', () => {
  it('sends the initial events and then each published change, one JSON line each', async () => {
    const hub = new WatchHub();
    const res = hubWatch(hub, {}, [repo('a', 1)]);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const lines = new Lines(res);
    hub.publish({ type: 'MODIFIED', object: repo('a', 101), prev: repo('a', 1), rv: 101 });
    hub.publish({ type: 'DELETED', object: repo('a', 102), rv: 102 });
    expect(summary([await lines.next(), await lines.next(), await lines.next()])).toEqual(['ADDED a', 'MODIFIED a', 'DELETED a']);
    await lines.cancel();
    expect(hub.size).toBe(0);
  });

  it('encodes the same event as a Table for one watcher and as the object for another', async () => {
    const hub = new WatchHub();
    const asTable = new Lines(hubWatch(hub, { table: true }));
    const asObject = new Lines(hubWatch(hub));
    hub.publish({ type: 'ADDED', object: repo('a', 101), rv: 101 });
    expect((await asTable.next())?.object.kind).toBe('Table');
    expect((await asObject.next())?.object.kind).toBe('Repository');
    await asTable.cancel();
    await asObject.cancel();
  });

  it('ends the stream after timeoutSeconds and unsubscribes', async () => {
    const hub = new WatchHub();
    const started = Date.now();
    const lines = new Lines(hubWatch(hub, { timeoutSeconds: 1 }));
    expect(hub.size).toBe(1);
    expect(await lines.next()).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(hub.size).toBe(0);
  });

  it('marks the end of the initial events and sends bookmarks at the configured interval', async () => {
    const hub = new WatchHub();
    const lines = new Lines(hubWatch(hub, { bookmarks: true, initialEventsEnd: true, bookmarkIntervalSeconds: 0.05 }, [repo('a', 1)]));
    const added = await lines.next();
    const end = await lines.next();
    expect(added?.type).toBe('ADDED');
    expect(end).toMatchObject({ type: 'BOOKMARK', object: { kind: 'Repository', metadata: { resourceVersion: '100', annotations: { 'k8s.io/initial-events-end': 'true' } } } });
    hub.publish({ type: 'ADDED', object: repo('b', 120), rv: 120 });
    expect((await lines.next())?.type).toBe('ADDED');
    const periodic = await lines.next();
    expect(periodic).toMatchObject({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '120' } } });
    expect(periodic?.object.metadata?.annotations).toBeUndefined();
    await lines.cancel();
  });

  it('takes the bookmark period from PORCH_BOOKMARK_INTERVAL_SECONDS when the handler gives none', async () => {
    expect(bookmarkIntervalSeconds()).toBe(30);
    process.env.PORCH_BOOKMARK_INTERVAL_SECONDS = 'soon';
    expect(bookmarkIntervalSeconds()).toBe(30);
    process.env.PORCH_BOOKMARK_INTERVAL_SECONDS = '0.05';
    expect(bookmarkIntervalSeconds()).toBe(0.05);
    expect(bookmarkIntervalSeconds(7)).toBe(7);
    const hub = new WatchHub();
    const lines = new Lines(hubWatch(hub, { bookmarks: true }));
    expect((await lines.next())?.type).toBe('BOOKMARK');
    await lines.cancel();
  });

  it('sends no bookmarks unless the client allowed them', async () => {
    vi.useFakeTimers();
    const hub = new WatchHub();
    const lines = new Lines(hubWatch(hub, { bookmarks: false, initialEventsEnd: true, bookmarkIntervalSeconds: 1 }));
    vi.advanceTimersByTime(10_000);
    hub.publish({ type: 'ADDED', object: repo('a', 101), rv: 101 });
    expect(summary([await lines.next()])).toEqual(['ADDED a']);
    await lines.cancel();
  });

  it('for an asynchronous source, sends the initial-events-end bookmark only after its initial events', async () => {
    let release!: (rv: string) => void;
    let push!: (ev: WatchEvent) => void;
    const lines = new Lines(
      watchResponse({
        ...PLAIN,
        bookmarks: true,
        initialEventsEnd: true,
        bookmarkIntervalSeconds: 3600,
        currentResourceVersion: () => '999',
        subscribe: (send) => {
          push = send;
          return { unsubscribe: () => undefined, initialEvents: new Promise<string>((ok) => (release = ok)) };
        },
      }),
    );
    push({ type: 'ADDED', object: repo('a', 1) });
    expect(summary([await lines.next()])).toEqual(['ADDED a']);
    push({ type: 'ADDED', object: repo('b', 2) });
    release('42');
    expect(summary([await lines.next()])).toEqual(['ADDED b']);
    expect(await lines.next()).toMatchObject({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '42', annotations: { 'k8s.io/initial-events-end': 'true' } } } });
    await lines.cancel();
  });

  it('lets a 410 from subscribe escape before anything is sent', () => {
    const hub = new WatchHub(1, 50);
    hub.publish({ type: 'ADDED', object: repo('a', 51), rv: 51 });
    hub.publish({ type: 'ADDED', object: repo('b', 52), rv: 52 });
    let err: unknown;
    try {
      watchResponse({
        ...PLAIN,
        currentResourceVersion: () => '52',
        subscribe: (send) => hub.subscribe({ fromRV: 50, filter: () => true, send }),
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBe(410);
    expect(hub.size).toBe(0);
  });

  it('ends the watch with an ERROR Status when the source fails', async () => {
    const hub = new WatchHub();
    let fail!: (err: unknown) => void;
    const lines = new Lines(
      watchResponse({
        ...PLAIN,
        currentResourceVersion: () => '1',
        subscribe: (send, f) => {
          fail = f;
          return hub.subscribe({ filter: () => true, send });
        },
      }),
    );
    fail(errors.unavailable('git is down'));
    expect(await lines.rest()).toEqual([
      { type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 503, reason: 'ServiceUnavailable', message: 'git is down' }) },
    ]);
    expect(hub.size).toBe(0);
  });

  it('ends every watch with an ERROR event at shutdown', async () => {
    const hub = new WatchHub();
    const shutdown = new ShutdownSignal();
    const a = new Lines(hubWatch(hub, { onShutdown: shutdown.onShutdown }));
    const b = new Lines(hubWatch(hub, { onShutdown: shutdown.onShutdown }));
    shutdown.fire();
    for (const lines of [a, b]) expect((await lines.rest()).map((e) => [e.type, e.object.code])).toEqual([['ERROR', 503]]);
    expect(hub.size).toBe(0);
  });

  it('cuts off a client that stops reading: an ERROR event, no more buffering than the limit', async () => {
    const hub = new WatchHub();
    const maxBufferedBytes = 8 * 1024;
    const lines = new Lines(hubWatch(hub, { maxBufferedBytes }));
    let published = 0;
    let largestFrame = 0;
    for (let rv = 101; rv <= 2100 && hub.size > 0; rv++, published++) {
      const o = repo(`r${rv}`, rv, 300);
      largestFrame = Math.max(largestFrame, JSON.stringify({ type: 'ADDED', object: o }).length + 1);
      hub.publish({ type: 'ADDED', object: o, rv });
    }
    expect(hub.size).toBe(0);
    expect(published).toBeLessThan(2000);
    const events = await lines.rest();
    const last = events.pop();
    expect(last).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 504, reason: 'Timeout' } });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.type === 'ADDED')).toBe(true);
    expect(lines.bytes).toBeLessThanOrEqual(maxBufferedBytes + largestFrame + 512);
  });

  it('drops a cut-off client that still reads nothing once the grace period is over', async () => {
    vi.useFakeTimers();
    const hub = new WatchHub();
    const res = hubWatch(hub, { maxBufferedBytes: 1024, slowClientGraceMs: 5000 });
    for (let rv = 101; hub.size > 0; rv++) hub.publish({ type: 'ADDED', object: repo(`r${rv}`, rv, 200), rv });
    vi.advanceTimersByTime(5000);
    await expect(res.body!.getReader().read()).rejects.toThrow('watch client too slow');
  });

  it('does not count the initial events against the buffer limit', async () => {
    const hub = new WatchHub();
    const initial = Array.from({ length: 50 }, (_, i) => repo(`r${i}`, i + 1, 500));
    const lines = new Lines(hubWatch(hub, { maxBufferedBytes: 1024 }, initial));
    expect(hub.size).toBe(1);
    const got: WireEvent[] = [];
    for (let i = 0; i < 50; i++) got.push((await lines.next())!);
    expect(got.map((e) => e.object.metadata?.name)).toEqual(initial.map((o) => o.metadata.name));
    hub.publish({ type: 'ADDED', object: repo('after', 200), rv: 200 });
    expect(summary([await lines.next()])).toEqual(['ADDED after']);
    await lines.cancel();
  });

  it('unsubscribes and stops its timers when the client goes away', async () => {
    vi.useFakeTimers();
    const hub = new WatchHub();
    const lines = new Lines(hubWatch(hub, { bookmarks: true, bookmarkIntervalSeconds: 1, timeoutSeconds: 60 }));
    expect(hub.size).toBe(1);
    expect(vi.getTimerCount()).toBe(2);
    await lines.cancel();
    expect(hub.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
