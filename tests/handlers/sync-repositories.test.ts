import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Repository } from '../../lib/api/repository.ts';
import { findResource } from '../../lib/api/resources.ts';
import { createDevContext } from '../../lib/bootstrap.ts';
import type { AppContext } from '../../lib/context.ts';
import { silentLogger } from '../../lib/log.ts';
import type { Clock } from '../../lib/sync/clock.ts';
import { parseSchedule } from '../../lib/sync/schedule.ts';
import { nowTimestamp } from '../../lib/util.ts';
import listPackageRevisions from '../../handlers/list-packagerevisions.ts';
import syncRepositories, { SYNC_PATH } from '../../handlers/sync-repositories.ts';
import { createStoreObject } from '../../handlers/store-object/create.ts';
import { patchStoreObject } from '../../handlers/store-object/patch.ts';
import { FakeClock } from '../unit/sync/fake-clock.ts';
import { jsonRequest } from '../support/context.ts';
import { PorchRepoWriter } from '../support/git-fixtures.ts';
import { startGitServer } from '../support/git-server.ts';
import { until as pollUntil, type Check } from '../support/wait-for.ts';

// The sync-repositories handler and the engine's sync behind it, with a real local bare repository
// and a real HTTP server that accepts git's requests and never answers.

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const PACKAGEREVS = findResource('config.porch.kpt.dev', 'v1alpha1', 'packagerevs')!;
const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
const REPO_BASE = '/apis/config.porch.kpt.dev/v1alpha1/namespaces/default/repositories';
const SYNC_TIMEOUT_MS = 3000;

interface Hanging {
  url: string;
  requests: number;
  close(): Promise<void>;
}

/** Accepts every connection and request, reads it, and never answers. */
async function startHangingServer(): Promise<Hanging> {
  const sockets = new Set<Socket>();
  const state = { requests: 0 };
  const server: Server = createServer((req) => {
    state.requests++;
    req.resume();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/stuck.git`,
    get requests() {
      return state.requests;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

function repository(name: string, url: string, sync?: Record<string, string>) {
  return {
    apiVersion: 'config.porch.kpt.dev/v1alpha1',
    kind: 'Repository',
    metadata: { name },
    spec: { type: 'git', git: { repo: url, branch: 'main' }, ...(sync ? { sync } : {}) },
  };
}

// Syncs here take milliseconds: poll often.
const until = <T>(what: string, check: Check<T>) => pollUntil(what, check, 30_000, 25);

describe('sync-repositories handler and repository sync', () => {
  let dataDir: string;
  let ctx: AppContext | undefined;
  let hanging: Hanging;
  let writer: PorchRepoWriter;
  let goodUrl: string;

  async function open(opts: { syncTimeoutMs?: number; clock?: Clock } = {}): Promise<AppContext> {
    ctx = await createDevContext({
      dataDir: join(dataDir, 'data'),
      log: silentLogger,
      durable: false,
      // Long enough that the sync timeout, not git's own per-request deadline, is what ends a hang.
      gitTimeoutMs: 60_000,
      sync: { repositorySyncTimeoutMs: opts.syncTimeoutMs ?? SYNC_TIMEOUT_MS, reconcilingAfterMs: 300, pruneGraceMs: 0, clock: opts.clock },
    });
    return ctx;
  }

  async function close(): Promise<void> {
    if (!ctx) return;
    ctx.shutdown.fire();
    await ctx.engine.stop();
    await ctx.store.close();
    ctx = undefined;
  }

  async function status(c: AppContext, name: string): Promise<NonNullable<Repository['status']>> {
    const r = (await c.store.get(REPOS, 'default', name)) as Repository | undefined;
    return r?.status ?? {};
  }

  const ready = (s: NonNullable<Repository['status']>) => s.conditions?.find((c) => c.type === 'Ready');

  async function revisionNames(c: AppContext): Promise<string[]> {
    const res = await listPackageRevisions(c).request(jsonRequest('GET', `${NS}/packagerevisions`));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { metadata: { name: string } }[] };
    return body.items.map((i) => i.metadata.name).sort();
  }

  async function create(c: AppContext, obj: unknown): Promise<Repository> {
    const res = await createStoreObject(REPOS)(c).request(jsonRequest('POST', REPO_BASE, obj));
    expect(res.status).toBe(201);
    return (await res.json()) as Repository;
  }

  // Written once; each test changes a copy of its own.
  let seedDir: string;
  let seed: PorchRepoWriter;
  beforeAll(async () => {
    seedDir = await mkdtemp(join(tmpdir(), 'porch-sync-seed-'));
    seed = PorchRepoWriter.create(join(seedDir, 'good.git'));
    seed.publish('a', 'v1', 1);
    seed.publish('b', 'v1', 1);
    // Written with the fixture's 2023 clock: a draft nobody touched for a long time.
    seed.draft('c', 'ws');
  });

  afterAll(async () => {
    await rm(seedDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'porch-sync-handler-'));
    hanging = await startHangingServer();
    goodUrl = join(dataDir, 'good.git');
    writer = seed.copyTo(goodUrl);
  });

  afterEach(async () => {
    await close();
    await hanging.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a hanging repository times out while the other syncs and lists at once', async () => {
    const c = await open();
    await create(c, repository('stuck', hanging.url));
    await create(c, repository('good', goodUrl));

    // The good repository is ready before the stuck one's sync gives up: had it waited for the
    // stuck one, that would have timed out first.
    await until('good Ready', async () => ready(await status(c, 'good'))?.status === 'True');
    expect(ready(await status(c, 'stuck'))?.reason).not.toBe('Error');
    const reconciling = await until('stuck Reconciling', async () => {
      const cond = ready(await status(c, 'stuck'));
      return cond?.reason === 'Reconciling' ? cond : undefined;
    });
    expect(reconciling).toMatchObject({ status: 'False', message: 'Repository sync in progress' });
    expect(hanging.requests).toBeGreaterThan(0);

    // Listing answers now, while the stuck sync still hangs.
    const names = await revisionNames(c);
    expect(ready(await status(c, 'stuck'))?.reason).toBe('Reconciling');
    expect(names).toEqual(expect.arrayContaining(['good.a.v1', 'good.b.v1', 'good.c.ws']));
    expect(names.filter((n) => n.startsWith('stuck.'))).toEqual([]);

    const stuck = await until('stuck timed out', async () => {
      const cond = ready(await status(c, 'stuck'));
      return cond?.reason === 'Error' ? cond : undefined;
    });
    expect(stuck.status).toBe('False');
    expect(stuck.message).toBe('repository sync timed out after 3s');

    // One request for every repository: answers once the stuck one gives up, and the good one's
    // sync is over (and recorded) well before that.
    const before = (await status(c, 'good')).lastFullSyncTime!;
    await new Promise((r) => setTimeout(r, 1100 - (Date.now() % 1000)));
    const started = Date.now();
    const pending = Promise.resolve(syncRepositories(c).request(new Request(`http://internal${SYNC_PATH}`, { method: 'POST' })));
    let settled = false;
    void pending.finally(() => (settled = true));
    const moved = await until('good lastFullSyncTime moves', async () => {
      const t = (await status(c, 'good')).lastFullSyncTime;
      return t && t !== before ? t : undefined;
    });
    expect(settled).toBe(false);
    expect(Date.parse(moved)).toBeGreaterThan(Date.parse(before));
    const res = await pending;
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(SYNC_TIMEOUT_MS - 50);
    const body = (await res.json()) as { synced: { name: string; ready: boolean; message: string; revisions: number; gitCommitHash?: string }[] };
    const byName = Object.fromEntries(body.synced.map((s) => [s.name, s]));
    expect(byName.good).toMatchObject({ ready: true, message: 'Repository Ready', gitCommitHash: writer.head() });
    expect(byName.good.revisions).toBeGreaterThanOrEqual(3);
    expect(byName.stuck).toMatchObject({ ready: false, message: 'repository sync timed out after 3s', revisions: 0 });
  });

  it('a remote repository loads with one ref advertisement and one fetch; a later sync asks for the advertisement alone', async () => {
    const server = await startGitServer({ root: dataDir });
    try {
      const c = await open();
      await create(c, repository('remote', `${server.url}/good.git`));
      await until('remote Ready', async () => ready(await status(c, 'remote'))?.status === 'True');
      expect(await revisionNames(c)).toEqual(['remote.a.main', 'remote.a.v1', 'remote.b.main', 'remote.b.v1', 'remote.c.ws']);
      const advertisement = 'GET /good.git/info/refs?service=git-upload-pack';
      expect(server.requests).toEqual([advertisement, 'POST /good.git/git-upload-pack']);
      const res = await syncRepositories(c).request(new Request(`http://internal${SYNC_PATH}`, { method: 'POST' }));
      expect(res.status).toBe(200);
      expect(server.requests).toEqual([advertisement, 'POST /good.git/git-upload-pack', advertisement]);
    } finally {
      await close();
      await server.stop();
    }
  });

  it('bad requests: name without namespace, unknown repository, runOnceAt that is not a time', async () => {
    const c = await open();
    const h = syncRepositories(c);
    const post = (q: string) => h.request(new Request(`http://internal${SYNC_PATH}?${q}`, { method: 'POST' }));
    const noNs = await post('name=x');
    expect(noNs.status).toBe(400);
    expect(((await noNs.json()) as { kind: string }).kind).toBe('Status');
    expect((await post('namespace=default&name=nope')).status).toBe(404);
    expect((await post('namespace=default&name=x&runOnceAt=soon')).status).toBe(400);
    const invalid = await createStoreObject(REPOS)(c).request(jsonRequest('POST', REPO_BASE, repository('cron', goodUrl, { schedule: '*/5 * * *' })));
    expect(invalid.status).toBe(422);
    const st = (await invalid.json()) as { details: { causes: { field: string }[] } };
    expect(st.details.causes.map((x) => x.field)).toEqual(['spec.sync.schedule']);
  });

  it('scheduled syncs keep Porch\'s status fields; runOnceAt is recorded; gone revisions lose their metadata; delete cleans up', async () => {
    const clock = new FakeClock(Date.now());
    const c = await open({ clock });
    const scheduler = c.scheduler!;
    try {
      const cron = parseSchedule('*/5 * * * *');
      if (!cron.ok) throw new Error(cron.error);
      await create(c, repository('good', goodUrl, { schedule: '*/5 * * * *' }));
      const first = await until('first sync', async () => {
        const s = await status(c, 'good');
        return ready(s)?.status === 'True' ? s : undefined;
      });
      const next1 = cron.schedule.next(clock.now());
      expect(first).toMatchObject({
        observedGeneration: 1,
        packageCount: 3,
        gitCommitHash: writer.head(),
        nextFullSyncTime: nowTimestamp(new Date(next1)),
      });
      expect(ready(first)).toMatchObject({ reason: 'Ready', observedGeneration: 1, message: `Repository Ready (next sync scheduled at: ${nowTimestamp(new Date(next1))})` });
      const stale = first.conditions?.find((x) => x.type === 'StaleDrafts');
      expect(stale).toMatchObject({ status: 'True', reason: 'StaleDrafts' });
      expect(stale?.message).toMatch(/^1 draft package revision\(s\) not changed for more than 30d: good\.c\.ws$/);

      // Metadata of two revisions (one held by a user's finalizer), then git loses both behind the API's back.
      for (const [name, finalizers] of [['good.a.v1', []], ['good.b.v1', ['example.com/audit']]] as const)
        await c.store.create(PACKAGEREVS, {
          apiVersion: 'config.porch.kpt.dev/v1alpha1',
          kind: 'PackageRev',
          metadata: { name, namespace: 'default', labels: { 'internal.porch.kpt.dev/repository': 'good', team: 'x' }, finalizers: [...finalizers] },
          spec: {},
        });
      writer.deleteRef('refs/tags/a/v1');
      writer.deleteRef('refs/tags/b/v1');
      writer.commitOnBranch('a', undefined, 'drop a');
      writer.commitOnBranch('b', undefined, 'drop b');
      writer.publish('d', 'v1', 1);
      // lastFullSyncTime has one-second resolution.
      await new Promise((r) => setTimeout(r, 1100 - (Date.now() % 1000)));

      // Nothing happens until the schedule says so.
      await clock.advanceTo(next1 - 1000);
      expect((await status(c, 'good')).gitCommitHash).toBe(first.gitCommitHash);
      await clock.advanceTo(next1);
      const second = await until('scheduled sync', async () => {
        const s = await status(c, 'good');
        return s.gitCommitHash === writer.head() ? s : undefined;
      });
      const next2 = cron.schedule.next(next1);
      expect(next2 - next1).toBe(300_000);
      expect(Date.parse(second.lastFullSyncTime!)).toBeGreaterThan(Date.parse(first.lastFullSyncTime!));
      expect(second).toMatchObject({ packageCount: 2, nextFullSyncTime: nowTimestamp(new Date(next2)) });
      expect(ready(second)?.message).toBe(`Repository Ready (next sync scheduled at: ${nowTimestamp(new Date(next2))})`);
      expect(await revisionNames(c)).toEqual(expect.arrayContaining(['good.d.v1']));
      expect((await revisionNames(c)).filter((n) => n.startsWith('good.a.') || n.startsWith('good.b.'))).toEqual([]);
      expect(await c.store.get(PACKAGEREVS, 'default', 'good.a.v1')).toBeUndefined();
      const held = await c.store.get(PACKAGEREVS, 'default', 'good.b.v1');
      expect(held?.metadata.deletionTimestamp).toBeTruthy();
      expect(held?.metadata.finalizers).toEqual(['example.com/audit']);

      // runOnceAt: a spec change (synced at once, generation 2), then a firing at that time, recorded.
      const runOnceAt = nowTimestamp(new Date(next1 + 60_000));
      const patched = await patchStoreObject(REPOS)(c).request(
        jsonRequest('PATCH', `${REPO_BASE}/good`, { spec: { sync: { schedule: '*/5 * * * *', runOnceAt } } }, 'application/merge-patch+json'),
      );
      expect(patched.status).toBe(200);
      await until('generation 2 observed', async () => (await status(c, 'good')).observedGeneration === 2);
      expect((await status(c, 'good')).observedRunOnceAt).toBeUndefined();
      expect(scheduler.planner.nextSyncTime('default', 'good')?.getTime()).toBe(Date.parse(runOnceAt));
      await clock.advanceTo(Date.parse(runOnceAt));
      const once = await until('observedRunOnceAt', async () => {
        const s = await status(c, 'good');
        return s.observedRunOnceAt ? s : undefined;
      });
      expect(once.observedRunOnceAt).toBe(runOnceAt);
      expect(once.nextFullSyncTime).toBe(nowTimestamp(new Date(next2)));
      await until('planner saw it recorded', () => scheduler.planner.planned('default', 'good')?.runOnceAt === undefined);

      // Deleting the Repository closes its cache, drops its PackageRevs and its schedule.
      await c.store.create(PACKAGEREVS, {
        apiVersion: 'config.porch.kpt.dev/v1alpha1',
        kind: 'PackageRev',
        metadata: { name: 'good.d.v1', namespace: 'default', labels: { 'internal.porch.kpt.dev/repository': 'good' } },
        spec: {},
      });
      await c.store.delete(REPOS, 'default', 'good');
      await until('cache closed', () => c.engine.repository('default', 'good') === undefined);
      await until('PackageRev removed', async () => (await c.store.get(PACKAGEREVS, 'default', 'good.d.v1')) === undefined);
      expect(await revisionNames(c)).toEqual([]);
      await until('unscheduled', () => !scheduler.planner.keys().includes('default/good'));
    } finally {
      scheduler.stop();
    }
  });

  it('after a restart the API serves the last state at once while a hanging repository loads', async () => {
    let c = await open();
    await create(c, repository('good', goodUrl));
    await create(c, repository('stuck', hanging.url));
    await until('good Ready', async () => ready(await status(c, 'good'))?.status === 'True');
    const before = (await status(c, 'good')).lastFullSyncTime!;
    await close();
    await new Promise((r) => setTimeout(r, 1100 - (Date.now() % 1000)));

    // The stuck repository's start-up sync hangs until its 60 s timeout: whatever runs before that
    // did not wait for it.
    c = await open({ syncTimeoutMs: 60_000 });
    let initialDone = false;
    void c.scheduler!.initialSync.then(() => (initialDone = true));
    // Start-up does not wait for any remote: the list answers from the last state.
    expect(await revisionNames(c)).toEqual(expect.arrayContaining(['good.a.v1', 'good.b.v1', 'good.c.ws']));
    expect(initialDone).toBe(false);
    // The stuck repository (never fetched) has nothing to serve and takes no writes yet.
    expect(c.engine.repository('default', 'stuck')?.loaded).toBe(false);
    // Start-up syncs run in parallel: the good one is synced again while the stuck one still hangs.
    await until('good synced again', async () => (await status(c, 'good')).lastFullSyncTime !== before);
    await new Promise((r) => setTimeout(r, 100));
    expect(initialDone).toBe(false);
  });
});
