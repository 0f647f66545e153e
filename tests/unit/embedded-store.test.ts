import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findResource, RESOURCES } from '../../lib/api/resources.ts';
import { parseLabelSelector } from '../../lib/api/selectors.ts';
import { StatusError } from '../../lib/errors.ts';
import { EmbeddedStore } from '../../lib/store/embedded.ts';
import type { WatchEvent } from '../../lib/watch/types.ts';

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;

function repo(name: string, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'config.porch.kpt.dev/v1alpha1',
    kind: 'Repository',
    metadata: { name, namespace: 'default', labels },
    spec: { type: 'git', git: { repo: `https://example.com/${name}.git` } },
  };
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (err) {
    if (err instanceof StatusError) return err.code;
    throw err;
  }
}

describe('EmbeddedStore', () => {
  let dir: string;
  let store: EmbeddedStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-'));
    store = await EmbeddedStore.open(dir, RESOURCES, { durable: false });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates, reads back and lists with label selectors', async () => {
    const a = await store.create(REPOS, repo('a', { team: 'x' }));
    await store.create(REPOS, repo('b', { team: 'y' }));
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.metadata.generation).toBe(1);
    expect((await store.get(REPOS, 'default', 'a'))?.spec).toEqual(repo('a').spec);
    const { items } = await store.list(REPOS, { namespace: 'default', labelSelector: parseLabelSelector('team in (x)') });
    expect(items.map((i) => i.metadata.name)).toEqual(['a']);
    expect(await statusOf(store.create(REPOS, repo('a')))).toBe(409);
  });

  it('refuses a stale resourceVersion with 409 and bumps generation only on spec changes', async () => {
    const a = await store.create(REPOS, repo('a'));
    const labelled = await store.update(REPOS, { ...structuredClone(a), metadata: { ...a.metadata, labels: { k: 'v' } } });
    expect(labelled.metadata.generation).toBe(1);
    expect(Number(labelled.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    const stale = { ...structuredClone(a), spec: { type: 'git', git: { repo: 'https://example.com/other.git' } } };
    expect(await statusOf(store.update(REPOS, stale))).toBe(409);
    const fresh = await store.update(REPOS, { ...stale, metadata: { ...stale.metadata, resourceVersion: labelled.metadata.resourceVersion } });
    expect(fresh.metadata.generation).toBe(2);
  });

  it('keeps status out of main-resource updates and spec out of status updates', async () => {
    const a = await store.create(REPOS, repo('a'));
    const withStatus = await store.update(REPOS, { ...structuredClone(a), status: { packageCount: 3 } }, { subresource: 'status' });
    expect(withStatus.status).toEqual({ packageCount: 3 });
    const main = await store.update(REPOS, { ...structuredClone(withStatus), status: { packageCount: 99 } });
    expect(main.status).toEqual({ packageCount: 3 });
  });

  it('honours finalizers: delete marks, removing the last finalizer deletes', async () => {
    const a = await store.create(REPOS, { ...repo('a'), metadata: { ...repo('a').metadata, finalizers: ['example.com/hold'] } });
    const marked = await store.delete(REPOS, 'default', 'a');
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    expect(await store.get(REPOS, 'default', 'a')).toBeDefined();
    await store.update(REPOS, { ...structuredClone(marked), metadata: { ...marked.metadata, finalizers: [] } });
    expect(await store.get(REPOS, 'default', 'a')).toBeUndefined();
    expect(a.metadata.name).toBe('a');
  });

  it('survives a reopen, and ignores temp files a crash left behind', async () => {
    await store.create(REPOS, repo('a'));
    const nsDir = join(dir, REPOS.group, REPOS.plural, 'default');
    await writeFile(join(nsDir, 'a.json.tmp-1-abcd'), '{"torn":');
    const again = await EmbeddedStore.open(dir, RESOURCES, { durable: false });
    expect((await again.get(REPOS, 'default', 'a'))?.metadata.name).toBe('a');
    expect(await readdir(nsDir)).toEqual(['a.json']);
    const saved = JSON.parse(await readFile(join(nsDir, 'a.json'), 'utf8'));
    expect(saved.spec.git.repo).toBe('https://example.com/a.git');
  });

  it('watches: replays after a resourceVersion, filters by labels and sees objects leave the selection', async () => {
    const a = await store.create(REPOS, repo('a', { team: 'x' }));
    const events: WatchEvent[] = [];
    const stop = store.watch(REPOS, {
      namespace: 'default',
      labelSelector: parseLabelSelector('team=x'),
      resourceVersion: a.metadata.resourceVersion,
      send: (e) => events.push(e),
    });
    await store.create(REPOS, repo('b', { team: 'y' }));
    const cur = (await store.get(REPOS, 'default', 'a'))!;
    await store.update(REPOS, { ...structuredClone(cur), metadata: { ...cur.metadata, labels: { team: 'y' } } });
    stop();
    await store.create(REPOS, repo('c', { team: 'x' }));
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['DELETED:a']);
  });

  it('answers 410 Gone for a resourceVersion from before a restart', async () => {
    const a = await store.create(REPOS, repo('a'));
    await store.create(REPOS, repo('b'));
    const again = await EmbeddedStore.open(dir, RESOURCES, { durable: false });
    expect(() => again.watch(REPOS, { resourceVersion: a.metadata.resourceVersion, send: () => undefined })).toThrowError(/too old/);
  });

  it('publishes events in resourceVersion order when writes run in parallel', async () => {
    const seen: number[] = [];
    store.watch(REPOS, { resourceVersion: store.currentResourceVersion(), send: (e) => seen.push(Number(e.object.metadata.resourceVersion)) });
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.create(REPOS, repo(`r${i}`))));
    expect(seen).toHaveLength(30);
    expect([...seen].sort((x, y) => x - y)).toEqual(seen);
  });
});

describe('namespaces resource', () => {
  it('is cluster-scoped', () => {
    const ns = findResource('', 'v1', 'namespaces')!;
    expect(ns.namespaced).toBe(false);
  });
});
