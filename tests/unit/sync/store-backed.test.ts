import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Repository } from '../../../lib/api/repository.ts';
import { findResource, RESOURCES } from '../../../lib/api/resources.ts';
import { silentLogger } from '../../../lib/log.ts';
import { EmbeddedStore } from '../../../lib/store/embedded.ts';
import { SyncPlanner, type SyncRequest } from '../../../lib/sync/planner.ts';
import { pruneOrphanedPackageRevs } from '../../../lib/sync/prune.ts';
import { RepositoryStatusWriter } from '../../../lib/sync/status.ts';
import { followRepositories } from '../../../lib/sync/repository-feed.ts';
import { FakeClock, settle } from './fake-clock.ts';

// The parts of lib/sync that talk to a store, against the real embedded store.

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const PACKAGEREVS = findResource('config.porch.kpt.dev', 'v1alpha1', 'packagerevs')!;

function repo(name: string, sync?: Record<string, string>) {
  return {
    apiVersion: 'config.porch.kpt.dev/v1alpha1',
    kind: 'Repository',
    metadata: { name, namespace: 'default' },
    spec: { type: 'git', git: { repo: `https://example.com/${name}.git` }, ...(sync ? { sync } : {}) },
  };
}

function packageRev(name: string, repository: string, finalizers: string[] = []) {
  return {
    apiVersion: 'config.porch.kpt.dev/v1alpha1',
    kind: 'PackageRev',
    metadata: { name, namespace: 'default', labels: { 'internal.porch.kpt.dev/repository': repository }, finalizers },
    spec: {},
  };
}

describe('lib/sync with the embedded store', () => {
  let dir: string;
  let store: EmbeddedStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-sync-'));
    store = await EmbeddedStore.open(join(dir, 'store'), RESOURCES, { durable: false });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('followRepositories plans every Repository, re-plans on change and drops it on delete', async () => {
    await store.create(REPOS, repo('existing', { schedule: '0 * * * *' }));
    const clock = new FakeClock(Date.parse('2025-01-01T00:00:30Z'));
    const fired: SyncRequest[] = [];
    const planner = new SyncPlanner({ clock, defaultPeriodMs: 0, log: silentLogger, fire: async (r) => void fired.push(r) });
    const stop = await followRepositories(store, planner, silentLogger);
    try {
      expect(planner.keys()).toEqual(['default/existing']);
      expect(planner.nextSyncTime('default', 'existing')?.toISOString()).toBe('2025-01-01T01:00:00.000Z');

      const created = (await store.create(REPOS, repo('added', { schedule: '*/10 * * * *' }))) as Repository;
      await settle();
      expect(planner.nextSyncTime('default', 'added')?.toISOString()).toBe('2025-01-01T00:10:00.000Z');

      await store.update(REPOS, { ...created, spec: { ...created.spec, sync: { schedule: '*/2 * * * *' } } });
      await settle();
      expect(planner.nextSyncTime('default', 'added')?.toISOString()).toBe('2025-01-01T00:02:00.000Z');

      await store.delete(REPOS, 'default', 'existing');
      await settle();
      expect(planner.keys()).toEqual(['default/added']);
      await clock.advanceTo(Date.parse('2025-01-01T01:00:00Z'));
      expect(fired.filter((r) => r.name === 'existing')).toEqual([]);
      expect(fired.filter((r) => r.name === 'added')).toHaveLength(30);
    } finally {
      stop();
      planner.stop();
    }
  });

  it('pruneOrphanedPackageRevs deletes metadata of revisions gone from git, only of its repository, and lets finalizers hold', async () => {
    await store.create(PACKAGEREVS, packageRev('blue.a.ws', 'blue'));
    await store.create(PACKAGEREVS, packageRev('blue.gone.ws', 'blue'));
    await store.create(PACKAGEREVS, packageRev('blue.held.ws', 'blue', ['example.com/keep']));
    await store.create(PACKAGEREVS, packageRev('red.gone.ws', 'red'));
    const exists = (name: string) => name === 'blue.a.ws';

    // Created after the cut-off: too young to judge (its commit may not have been listed yet).
    const young = await pruneOrphanedPackageRevs({ store, namespace: 'default', repository: 'blue', exists, createdBefore: Date.now() - 60_000, log: silentLogger });
    expect(young).toEqual({ deleted: [], held: [] });

    const result = await pruneOrphanedPackageRevs({ store, namespace: 'default', repository: 'blue', exists, createdBefore: Date.now() + 5_000, log: silentLogger });
    expect(result).toEqual({ deleted: ['blue.gone.ws'], held: [{ name: 'blue.held.ws', finalizers: ['example.com/keep'] }] });
    const left = (await store.list(PACKAGEREVS)).items;
    expect(left.map((m) => m.metadata.name).sort()).toEqual(['blue.a.ws', 'blue.held.ws', 'red.gone.ws']);
    const held = left.find((m) => m.metadata.name === 'blue.held.ws')!;
    expect(held.metadata.deletionTimestamp).toBeTruthy();

    // Already being deleted: not touched again.
    const again = await pruneOrphanedPackageRevs({ store, namespace: 'default', repository: 'blue', exists, createdBefore: Date.now() + 5_000, log: silentLogger });
    expect(again).toEqual({ deleted: [], held: [] });
  });

  it("a sync's status takes the git state of when it is written: an API write that landed after the sync listed is kept", async () => {
    const created = (await store.create(REPOS, repo('raced'))) as Repository;
    const writer = new RepositoryStatusWriter(store, silentLogger);
    let git = { packageCount: 1, gitCommitHash: 'a'.repeat(40) };
    const outcome = { reason: 'Ready' as const, message: 'Repository Ready', ...git, currentGitState: () => git };
    git = { packageCount: 2, gitCommitHash: 'b'.repeat(40) };
    await writer.gitState(created, git);
    await writer.write(created, outcome);
    const status = ((await store.get(REPOS, 'default', 'raced')) as Repository).status;
    expect(status).toMatchObject({ packageCount: 2, gitCommitHash: 'b'.repeat(40) });
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
  });
});
