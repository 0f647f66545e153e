import http, { type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { KubeObject } from '../../lib/api/meta.ts';
import type { PackageRevision } from '../../lib/api/porch.ts';
import { findResource, type ResourceDescriptor } from '../../lib/api/resources.ts';
import { createDevContext } from '../../lib/bootstrap.ts';
import type { AppContext } from '../../lib/context.ts';
import type { UserInfo } from '../../lib/auth/user.ts';
import { silentLogger } from '../../lib/log.ts';
import type { ListOptions, Store, UpdateOptions, DeleteOptions, WatchOptions } from '../../lib/store/types.ts';
import { WatchHub } from '../../lib/watch/hub.ts';
import { buildGateway } from '../../gateway/app.ts';
import { attachWebSocketWatch } from '../../gateway/websocket.ts';
import { listStoreObjects } from '../../handlers/store-object/list.ts';
import { watchResponse } from '../../handlers/http/watch-stream.ts';
import { jsonRequest, registerRepository, testContext } from '../support/context.ts';
import { porchRepo } from '../support/git-fixtures.ts';
import { until } from '../support/wait-for.ts';
import { named, WatchEvents, withTimeout, type WireEvent as WatchEvent } from '../support/watch-events.ts';

// Watches through the real transports: the gateway served by @hono/node-server on a loopback port,
// chunked HTTP read with node:http and WebSocket with the ws client.

const SECRETS = findResource('', 'v1', 'secrets')!;
const ADMIN: UserInfo = { username: 'admin', groups: ['system:masters'] };
const CORE = '/api/v1/namespaces/default';
const CONFIG = '/apis/config.porch.kpt.dev/v1alpha1/namespaces/default';
const PORCH = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';

type WireEvent = WatchEvent<KubeObject & { code?: number; reason?: string }>;

/** Counts the store watches handlers hold open: the embedded store keeps its hubs to itself. */
class CountingStore implements Store {
  active = 0;
  constructor(private readonly inner: Store) {}
  get<T extends KubeObject>(res: ResourceDescriptor<T>, namespace: string | undefined, name: string) {
    return this.inner.get(res, namespace, name);
  }
  list<T extends KubeObject>(res: ResourceDescriptor<T>, opts?: ListOptions) {
    return this.inner.list(res, opts);
  }
  create<T extends KubeObject>(res: ResourceDescriptor<T>, obj: KubeObject) {
    return this.inner.create(res, obj);
  }
  update<T extends KubeObject>(res: ResourceDescriptor<T>, obj: KubeObject, opts?: UpdateOptions) {
    return this.inner.update(res, obj, opts);
  }
  delete<T extends KubeObject>(res: ResourceDescriptor<T>, namespace: string | undefined, name: string, opts?: DeleteOptions) {
    return this.inner.delete(res, namespace, name, opts);
  }
  watch(res: ResourceDescriptor, opts: WatchOptions) {
    const stop = this.inner.watch(res, opts);
    this.active++;
    let stopped = false;
    return () => {
      if (!stopped) this.active--;
      stopped = true;
      stop();
    };
  }
  currentResourceVersion() {
    return this.inner.currentResourceVersion();
  }
  close() {
    return this.inner.close();
  }
}

/** Polls a condition the server reaches asynchronously (a socket close it learns of later). */
const waitFor = (what: string, cond: () => boolean) => until(what, cond, 30_000, 10);

/** Events as a transport delivers them, awaited one by one. */
class EventQueue extends WatchEvents<WireEvent> {
  private readonly queue: WireEvent[] = [];
  private waiter: (() => void) | undefined;
  ended = false;

  push(ev: WireEvent): void {
    this.seen.push(ev);
    this.queue.push(ev);
    this.waiter?.();
  }

  end(): void {
    this.ended = true;
    this.waiter?.();
  }

  async next(ms = 30_000): Promise<WireEvent | undefined> {
    while (!this.queue.length && !this.ended) await withTimeout(new Promise<void>((r) => (this.waiter = r)), ms, 'the next watch event');
    return this.queue.shift();
  }
}

class HttpWatch extends EventQueue {
  status = 0;
  private req!: http.ClientRequest;

  static open(base: string, path: string, agent?: http.Agent): Promise<HttpWatch> {
    const w = new HttpWatch();
    return new Promise((resolve, reject) => {
      w.req = http.get(`${base}${path}`, { agent, headers: { accept: 'application/json' } }, (res: IncomingMessage) => {
        w.status = res.statusCode ?? 0;
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line) w.push(JSON.parse(line) as WireEvent);
          }
        });
        res.on('end', () => {
          if (buf.trim()) w.push(JSON.parse(buf) as WireEvent);
          w.end();
        });
        res.on('error', () => w.end());
        resolve(w);
      });
      w.req.on('error', (err) => (w.status ? w.end() : reject(err)));
    });
  }

  close(): void {
    this.req.destroy();
  }
}

class WsWatch extends EventQueue {
  closeCode: number | undefined;
  constructor(readonly ws: WebSocket) {
    super();
    const base64 = ws.protocol === 'base64.binary.k8s.io';
    ws.on('message', (data: WebSocket.RawData) => {
      const text = data.toString();
      this.push(JSON.parse(base64 ? Buffer.from(text, 'base64').toString('utf8') : text) as WireEvent);
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.end();
    });
  }

  static open(base: string, path: string, protocols?: string[]): Promise<WsWatch> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${path}`, protocols);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsWatch(ws)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  close(): void {
    this.ws.close();
  }
}

interface Gateway {
  url: string;
  server: Server;
  close(): Promise<void>;
}

async function startGateway(fetch: (req: Request) => Response | Promise<Response>): Promise<Gateway> {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }) as unknown as Server;
  if (!server.listening) await once(server, 'listening');
  const detach = attachWebSocketWatch(server, fetch, silentLogger);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: async () => {
      detach();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function api(base: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeObject> {
  const res = await fetch(`${base}${path}`, { method, headers: body ? { 'content-type': contentType } : {}, body: body ? JSON.stringify(body) : undefined });
  const out = (await res.json()) as KubeObject;
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

const secret = (name: string, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) },
  stringData: { k: 'v' },
});

const summary = (evs: WireEvent[]) => evs.map((e) => `${e.type} ${e.object.metadata?.name}`);

describe('watch transports against the gateway', () => {
  let ctx: AppContext;
  let store: CountingStore;
  let cleanup: () => Promise<void>;
  let dir: string;
  let bare: string;
  let gw: Gateway;
  const open: { close(): void }[] = [];
  const track = <T extends { close(): void }>(w: T): T => (open.push(w), w);
  const watchHttp = async (path: string, agent?: http.Agent) => {
    const w = track(await HttpWatch.open(gw.url, path, agent));
    if (w.status !== 200) throw new Error(`watch ${path} refused: ${w.status} ${JSON.stringify(await w.next())}`);
    return w;
  };
  const watchWs = async (path: string, protocols?: string[]) => track(await WsWatch.open(gw.url, path, protocols));
  const draft = (pkg: string, ws: string) =>
    ({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' }, spec: { packageName: pkg, workspaceName: ws, repository: 'blueprints' } }) as PackageRevision;

  beforeAll(async () => {
    const t = await testContext();
    cleanup = t.cleanup;
    store = new CountingStore(t.ctx.store);
    ctx = { ...t.ctx, store };
    dir = await mkdtemp(join(tmpdir(), 'watch-transports-'));
    bare = porchRepo(dir, 'blueprints', [{ path: 'basens', revisions: 1 }]);
    await registerRepository(ctx, 'blueprints', bare);
    const app = buildGateway(ctx, { authenticate: async () => ADMIN });
    gw = await startGateway(app.fetch);
  });
  afterEach(() => {
    for (const w of open.splice(0)) w.close();
    delete process.env.PORCH_BOOKMARK_INTERVAL_SECONDS;
  });
  afterAll(async () => {
    await gw?.close();
    await cleanup?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('chunked HTTP: a repositories watch sees a Repository created and deleted through the API', async () => {
    const w = await watchHttp(`${CONFIG}/repositories?watch=true`);
    expect(w.status).toBe(200);
    await w.until(named('blueprints', 'ADDED'), 'the existing repository');
    await api(gw.url, 'POST', `${CONFIG}/repositories`, {
      apiVersion: 'config.porch.kpt.dev/v1alpha1',
      kind: 'Repository',
      metadata: { name: 'second' },
      spec: { type: 'git', git: { repo: bare, branch: 'main' } },
    });
    await w.until(named('second', 'ADDED'), 'the created repository');
    await api(gw.url, 'DELETE', `${CONFIG}/repositories/second`);
    await w.until(named('second', 'DELETED'), 'the deleted repository');
    // The engine drops the repository's cache from the store watch, a moment later: the tests after
    // this one watch revisions and must not see the second repository's (shared) packages.
    await waitFor('the deleted repository to be closed', () => !ctx.engine.repository('default', 'second'));
  });

  it('WebSocket: each event is one JSON text message', async () => {
    const w = await watchWs(`${CORE}/secrets?watch=true`);
    expect(w.ws.protocol).toBe('');
    const binary: boolean[] = [];
    w.ws.on('message', (_d: WebSocket.RawData, isBinary: boolean) => binary.push(isBinary));
    await api(gw.url, 'POST', `${CORE}/secrets`, secret('ws-plain'));
    const ev = (await w.until(named('ws-plain'), 'the secret')).pop()!;
    expect(ev.type).toBe('ADDED');
    expect(ev.object.kind).toBe('Secret');
    expect(binary.every((b) => !b)).toBe(true);
  });

  it('WebSocket with base64.binary.k8s.io: each event is one base64-encoded message', async () => {
    const raw: string[] = [];
    const w = await watchWs(`${PORCH}/packagerevisions?watch=true&fieldSelector=spec.packageName=wsb64`, ['base64.binary.k8s.io']);
    expect(w.ws.protocol).toBe('base64.binary.k8s.io');
    w.ws.on('message', (d: WebSocket.RawData) => raw.push(d.toString()));
    const pr = await ctx.ops.create('default', draft('wsb64', 'ws'), ADMIN);
    const ev = (await w.until(named(pr.metadata.name!), 'the draft')).pop()!;
    expect(ev.type).toBe('ADDED');
    expect(raw[0]).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(JSON.parse(Buffer.from(raw[0], 'base64').toString('utf8')).object.metadata.name).toBe(pr.metadata.name);
  });

  it('WebSocket with binary.k8s.io: each event is one binary message', async () => {
    const frames: { binary: boolean; text: string }[] = [];
    const w = await watchWs(`${CORE}/secrets?watch=true&fieldSelector=type%3Dexample.com%2Fbinary`, ['binary.k8s.io']);
    expect(w.ws.protocol).toBe('binary.k8s.io');
    w.ws.on('message', (d: WebSocket.RawData, binary: boolean) => frames.push({ binary, text: d.toString() }));
    await api(gw.url, 'POST', `${CORE}/secrets`, { ...secret('ws-binary'), type: 'example.com/binary' });
    await w.until(named('ws-binary', 'ADDED'), 'the secret');
    expect(frames[0].binary).toBe(true);
    expect(JSON.parse(frames[0].text)).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'ws-binary' } } });
  });

  it('refuses a WebSocket watch from a too-old resourceVersion with an HTTP 410 Status', async () => {
    const err = await WsWatch.open(gw.url, `${PORCH}/packagerevisions?watch=true&resourceVersion=1`).then(
      () => undefined,
      (e: { statusCode?: number; body?: string }) => e,
    );
    expect(err?.statusCode).toBe(410);
    expect(JSON.parse(err?.body ?? '{}')).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    await waitFor('no revision watchers', () => ctx.engine.revisionHub.size === 0);
  });

  it('answers a too-old resourceVersion over chunked HTTP with a 410 Status, for each engine resource', async () => {
    for (const plural of ['packagerevisions', 'packagerevisionresources', 'packages']) {
      const res = await fetch(`${gw.url}${PORCH}/${plural}?watch=true&resourceVersion=1`);
      expect(res.status, plural).toBe(410);
      expect(await res.json()).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    }
  });

  it('ends chunked and WebSocket watches after timeoutSeconds', async () => {
    const started = Date.now();
    const h = await watchHttp(`${CORE}/secrets?watch=true&timeoutSeconds=1`);
    const w = await watchWs(`${PORCH}/packagerevisionresources?watch=true&timeoutSeconds=1`);
    await withTimeout(h.until(() => false, 'the end').catch(() => undefined), 30_000, 'the chunked watch to end');
    expect(h.ended).toBe(true);
    await withTimeout(w.until(() => false, 'the end').catch(() => undefined), 30_000, 'the WebSocket watch to end');
    expect(w.closeCode).toBe(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('sends bookmarks when allowed, every PORCH_BOOKMARK_INTERVAL_SECONDS', async () => {
    process.env.PORCH_BOOKMARK_INTERVAL_SECONDS = '0.2';
    const h = await watchHttp(`${CORE}/secrets?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`);
    const initial = await h.until((e) => e.type === 'BOOKMARK', 'the initial-events-end bookmark');
    const end = initial.pop()!;
    expect(end.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    const periodic = (await h.until((e) => e.type === 'BOOKMARK', 'a periodic bookmark')).pop()!;
    expect(periodic.object).toMatchObject({ kind: 'Secret', apiVersion: 'v1' });
    expect(periodic.object.metadata.annotations).toBeUndefined();
    const rv = Number(periodic.object.metadata.resourceVersion);
    expect(rv).toBeGreaterThanOrEqual(Number(end.object.metadata.resourceVersion));
    expect(rv).toBeLessThanOrEqual(Number(store.currentResourceVersion()));

    const prr = await watchWs(`${PORCH}/packagerevisionresources?watch=true&allowWatchBookmarks=true`);
    const prrInitial = await prr.until((e) => e.type === 'BOOKMARK', 'the resources initial-events-end bookmark');
    expect(prrInitial.map((e) => e.type)).toContain('ADDED');
    const prrPeriodic = (await prr.until((e) => e.type === 'BOOKMARK', 'a periodic resources bookmark')).pop()!;
    expect(prrPeriodic.object.kind).toBe('PackageRevisionResources');
    const prrRv = Number(prrPeriodic.object.metadata.resourceVersion);
    expect(prrRv).toBeGreaterThanOrEqual(Number(prrInitial.at(-1)?.object.metadata.resourceVersion));
    expect(prrRv).toBeLessThanOrEqual(Number(ctx.engine.currentResourceVersion()));
  });

  it('applies label selectors to every event: an object leaving the selection is DELETED', async () => {
    const w = await watchHttp(`${CORE}/secrets?watch=true&labelSelector=tier%3Dgold`);
    const ws = await watchWs(`${CORE}/secrets?watch=true&labelSelector=tier%3Dgold`);
    await api(gw.url, 'POST', `${CORE}/secrets`, secret('s1'));
    await api(gw.url, 'PATCH', `${CORE}/secrets/s1`, { metadata: { labels: { tier: 'gold' } } }, 'application/merge-patch+json');
    await api(gw.url, 'PATCH', `${CORE}/secrets/s1`, { metadata: { labels: { tier: 'gold', more: 'x' } } }, 'application/merge-patch+json');
    await api(gw.url, 'PATCH', `${CORE}/secrets/s1`, { metadata: { labels: { tier: 'silver' } } }, 'application/merge-patch+json');
    await api(gw.url, 'DELETE', `${CORE}/secrets/s1`);
    await api(gw.url, 'POST', `${CORE}/secrets`, secret('s2', { tier: 'gold' }));
    const expected = ['ADDED s1', 'MODIFIED s1', 'DELETED s1', 'ADDED s2'];
    expect(summary(await w.until(named('s2'), 's2'))).toEqual(expected);
    expect(summary(await ws.until(named('s2'), 's2'))).toEqual(expected);
    expect(w.seen[2].object.metadata.labels).toMatchObject({ tier: 'silver' });
  });

  it('applies field selectors to every event, for store and engine resources', async () => {
    const w = await watchHttp(`${CORE}/secrets?watch=true&fieldSelector=type%3Dexample.com%2Fspecial`);
    await api(gw.url, 'POST', `${CORE}/secrets`, secret('f0'));
    await api(gw.url, 'POST', `${CORE}/secrets`, { ...secret('f1'), type: 'example.com/special' });
    await api(gw.url, 'DELETE', `${CORE}/secrets/f0`);
    await api(gw.url, 'DELETE', `${CORE}/secrets/f1`);
    expect(summary(await w.until(named('f1', 'DELETED'), 'f1 deleted'))).toEqual(['ADDED f1', 'DELETED f1']);

    const drafts = await watchHttp(`${PORCH}/packagerevisions?watch=true&fieldSelector=spec.lifecycle%3DDraft,spec.packageName%3Dsel`);
    const labelled = await watchWs(`${PORCH}/packagerevisions?watch=true&labelSelector=team%3Da`);
    const pr = await ctx.ops.create('default', draft('sel', 'ws'), ADMIN);
    const name = pr.metadata.name!;
    await drafts.until(named(name, 'ADDED'), 'the draft');
    let cur = ctx.engine.getRevision('default', name).pr;
    await ctx.ops.update('default', name, { ...cur, metadata: { ...cur.metadata, labels: { team: 'a' } } } as PackageRevision, ADMIN);
    await labelled.until(named(name, 'ADDED'), 'the revision entering the label selection');
    cur = ctx.engine.getRevision('default', name).pr;
    await ctx.ops.update('default', name, { ...cur, metadata: { ...cur.metadata, labels: { team: 'b' } }, spec: { ...cur.spec, lifecycle: 'Proposed' } } as PackageRevision, ADMIN);
    const leftLabels = (await labelled.until(named(name, 'DELETED'), 'the revision leaving the label selection')).pop()!;
    expect(leftLabels.object.metadata.labels?.team).toBe('b');
    const leftDrafts = (await drafts.until(named(name, 'DELETED'), 'the revision leaving the Draft selection')).pop()!;
    expect((leftDrafts.object as PackageRevision).spec.lifecycle).toBe('Proposed');
  });

  it('leaves no subscribers behind once clients disconnect', async () => {
    await waitFor('earlier watches to be gone', () => store.active === 0 && ctx.engine.revisionHub.size === 0 && ctx.engine.packageHub.size === 0);
    const ws: { close(): void }[] = [];
    for (let i = 0; i < 5; i++) {
      ws.push(await HttpWatch.open(gw.url, `${CORE}/secrets?watch=true`));
      ws.push(await HttpWatch.open(gw.url, `${PORCH}/packagerevisions?watch=true`));
      ws.push(await WsWatch.open(gw.url, `${CONFIG}/repositories?watch=true`));
      ws.push(await WsWatch.open(gw.url, `${PORCH}/packagerevisionresources?watch=true`, ['base64.binary.k8s.io']));
      ws.push(await HttpWatch.open(gw.url, `/apis/porch.kpt.dev/v1alpha1/watch/namespaces/default/packages`));
    }
    await waitFor('every watch subscribed', () => store.active === 10 && ctx.engine.revisionHub.size === 10 && ctx.engine.packageHub.size === 5);
    for (const w of ws) w.close();
    await waitFor('every watch unsubscribed', () => store.active === 0 && ctx.engine.revisionHub.size === 0 && ctx.engine.packageHub.size === 0);
  });

  it('delivers one event to each of 500 concurrent watchers of one hub', async () => {
    await waitFor('earlier watches to be gone', () => ctx.engine.revisionHub.size === 0);
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    try {
      const watchers = await Promise.all(Array.from({ length: 500 }, () => watchHttp(`${PORCH}/packagerevisions?watch=true&fieldSelector=spec.packageName%3Dfanout`, agent)));
      await waitFor('500 subscribers', () => ctx.engine.revisionHub.size === 500);
      const pr = await ctx.ops.create('default', draft('fanout', 'ws'), ADMIN);
      const firsts = await Promise.all(watchers.map((w) => w.next()));
      expect(firsts.every((e) => e?.type === 'ADDED' && e.object.metadata.name === pr.metadata.name)).toBe(true);
      for (const w of watchers) w.close();
      await waitFor('500 unsubscribed', () => ctx.engine.revisionHub.size === 0);
    } finally {
      agent.destroy();
    }
  });
});

describe('slow watch clients over a real socket', () => {
  const big = (rv: number): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `s${rv}`, namespace: 'default', resourceVersion: String(rv) }, data: { blob: 'x'.repeat(8 * 1024) } });
  let hub: WatchHub;
  let gw: Gateway;

  beforeAll(async () => {
    hub = new WatchHub(16);
    gw = await startGateway(() =>
      watchResponse({
        res: SECRETS,
        table: false,
        bookmarks: false,
        initialEventsEnd: false,
        currentResourceVersion: () => '1',
        subscribe: (send) => hub.subscribe({ filter: () => true, send }),
        maxBufferedBytes: 256 * 1024,
        slowClientGraceMs: 300,
      }),
    );
  });
  afterAll(async () => {
    await gw?.close();
  });

  /**
   * Publish until the hub has no subscriber left; how many events that took (bounded, so a server that
   * never cuts off fails). Bursts stay well under the limit and the server gets to write between them,
   * so the socket and kernel buffers fill first, as with a real stalled client.
   */
  async function publishUntilCutOff(limit: number): Promise<number> {
    let n = 0;
    while (hub.size > 0 && n < limit) {
      for (let i = 0; i < 4; i++, n++) hub.publish({ type: 'ADDED', object: big(n + 1), rv: n + 1 });
      await new Promise((r) => setImmediate(r));
    }
    return n;
  }

  async function serverSocketClosed(gw: Gateway, trigger: () => Promise<Socket>): Promise<{ client: Socket; closed: Promise<unknown> }> {
    const accepted = once(gw.server, 'connection') as Promise<[Socket]>;
    const client = await trigger();
    const [serverSide] = await accepted;
    // Not events.once: the server may destroy the socket with an error, which once() would reject on.
    return { client, closed: new Promise((r) => serverSide.once('close', r)) };
  }

  // Raw requests from a client that never reads: whatever the server sends piles up.
  const stalledClients: [transport: string, request: string][] = [
    ['a chunked watch', 'GET /watch HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n'],
    [
      'a WebSocket watch',
      'GET /watch?watch=true HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ],
  ];

  it.each(stalledClients)('cuts off %s whose client reads nothing, then drops its connection', async (_transport, request) => {
    const { client, closed } = await serverSocketClosed(gw, async () => {
      const s = connect(Number(new URL(gw.url).port), '127.0.0.1');
      await once(s, 'connect');
      s.write(request);
      s.pause();
      return s;
    });
    await waitFor('the watch to subscribe', () => hub.size === 1);
    // 8 KiB events; 20,000 of them would be ~160 MiB if the server kept buffering.
    const published = await publishUntilCutOff(20_000);
    expect(hub.size).toBe(0);
    expect(published).toBeLessThan(20_000);
    await withTimeout(closed, 30_000, 'the server to drop the connection');
    client.destroy();
  });

  it('keeps serving a client that reads, however many events', async () => {
    const w = await HttpWatch.open(gw.url, '/watch');
    await waitFor('the watch to subscribe', () => hub.size === 1);
    // 16 MiB in all, 64 times the limit, in bursts the client keeps up with.
    for (let rv = 1; rv <= 2000; rv++) {
      hub.publish({ type: 'ADDED', object: big(rv), rv });
      if (rv % 8 === 0) await w.until(named(`s${rv}`), `event ${rv}`);
    }
    expect(hub.size).toBe(1);
    expect(w.seen.filter((e) => e.type === 'ERROR')).toEqual([]);
    w.close();
    await waitFor('the watch to unsubscribe', () => hub.size === 0);
  });
});

describe('a store watch after a restart', () => {
  it('answers a resourceVersion from before the restart with 410 Expired', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'watch-restart-'));
    try {
      const first = await createDevContext({ dataDir, log: silentLogger, durable: false });
      await first.store.create(SECRETS, secret('before'));
      const rv = first.store.currentResourceVersion();
      await first.engine.stop();
      const second = await createDevContext({ dataDir, log: silentLogger, durable: false });
      try {
        const list = listStoreObjects(SECRETS)(second);
        const gone = await list.request(jsonRequest('GET', `${CORE}/secrets?watch=true&resourceVersion=1`));
        expect(gone.status).toBe(410);
        expect(await gone.json()).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
        const ok = await list.request(jsonRequest('GET', `${CORE}/secrets?watch=true&resourceVersion=${rv}`));
        expect(ok.status).toBe(200);
        await ok.body?.cancel();
      } finally {
        await second.engine.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
