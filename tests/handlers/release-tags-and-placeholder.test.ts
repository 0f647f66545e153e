import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import approvePackageRevision from '../../handlers/approve-packagerevision.ts';
import createPackageRevision from '../../handlers/create-packagerevision.ts';
import deletePackageRevision from '../../handlers/delete-packagerevision.ts';
import getPackageRevision from '../../handlers/get-packagerevision.ts';
import getPackageRevisionResources from '../../handlers/get-packagerevisionresources.ts';
import { findResource } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { jsonRequest, registerRepository, testContext } from '../support/context.ts';
import { porchRepo, tempDir, git } from '../support/git-fixtures.ts';

// Two things Porch lists that are not numbered revisions: a release tag `<package path>/<name>` (a
// Published revision -1 named after the tag) and the registered branch's placeholder, which can be
// proposed for deletion, taken back, and deleted (removing the package from the branch).

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';

interface PR {
  metadata: { name: string; resourceVersion: string };
  spec: { lifecycle: string; revision?: number; workspaceName: string; packageName: string; tasks?: Record<string, unknown>[] };
  status?: { upstreamLock?: { git?: { ref?: string; directory?: string } }; selfLock?: unknown };
}

describe('release tags and the branch placeholder', () => {
  let tmp: { path: string; remove(): void };
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  let catalog: string;

  beforeEach(async () => {
    tmp = tempDir('porch-tags-h-');
    ({ ctx, cleanup } = await testContext());
    catalog = porchRepo(tmp.path, 'catalog', [{ path: 'workloads/oai/du', revisions: 2 }, { path: 'other', revisions: 1 }]);
    // The Nephio catalog's way of releasing: a tag named for the release, not vN.
    git(catalog, ['tag', 'workloads/oai/du/v2.0.0', 'workloads/oai/du/v1']);
    const deploy = porchRepo(tmp.path, 'deploy', []);
    await registerRepository(ctx, 'catalog', catalog);
    await registerRepository(ctx, 'deploy', deploy);
  });
  afterEach(async () => {
    await cleanup();
    tmp.remove();
  });

  const get = async (name: string) => {
    const res = await getPackageRevision(ctx).request(jsonRequest('GET', `${NS}/packagerevisions/${name}`));
    return { status: res.status, body: (await res.json()) as PR };
  };
  /** Creates a PackageRevision of `spec` through the handler; it must answer 201. */
  const create = async (spec: Record<string, unknown>) => {
    const res = await createPackageRevision(ctx).request(jsonRequest('POST', `${NS}/packagerevisions`, { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' }, spec }));
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as PR;
  };
  const approval = async (pr: PR, lifecycle: string) => {
    const res = await approvePackageRevision(ctx).request(jsonRequest('PUT', `${NS}/packagerevisions/${pr.metadata.name}/approval`, { ...pr, spec: { ...pr.spec, lifecycle } }));
    return { status: res.status, body: (await res.json()) as PR & { message: string } };
  };
  const del = (name: string) => deletePackageRevision(ctx).request(jsonRequest('DELETE', `${NS}/packagerevisions/${name}`));
  const refs = () => git(catalog, ['for-each-ref', '--format=%(refname)']).split('\n');

  it('lists a tag not named vN as a Published revision -1 named after the tag, and clones from it', async () => {
    const { status, body } = await get('catalog.workloads.oai.du.v2.0.0');
    expect(status).toBe(200);
    expect(body.spec).toMatchObject({ packageName: 'workloads/oai/du', workspaceName: 'v2.0.0', revision: -1, lifecycle: 'Published' });
    expect(body.status?.selfLock).toMatchObject({ git: { ref: 'workloads/oai/du/v2.0.0' } });
    // A release tag is never the latest revision: that is the highest vN.
    expect((await get('catalog.workloads.oai.du.v2')).body.metadata).toMatchObject({ labels: { 'kpt.dev/latest-revision': 'true' } });

    const pr = await create({ repository: 'deploy', packageName: 'du', workspaceName: 'ws', tasks: [{ type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'catalog.workloads.oai.du.v2.0.0' } } } }] });
    expect(pr.status?.upstreamLock?.git).toMatchObject({ ref: 'workloads/oai/du/v2.0.0', directory: 'workloads/oai/du' });
    const prr = (await (await getPackageRevisionResources(ctx).request(jsonRequest('GET', `${NS}/packagerevisionresources/${pr.metadata.name}`))).json()) as {
      spec: { resources: Record<string, string> };
    };
    // The tag is at v1's commit, so the clone holds revision 1's content.
    expect(prr.spec.resources['cm.yaml']).toContain('revision: "1"');
  });

  it('proposes the placeholder for deletion, takes it back, and deletes it: the package leaves the branch', async () => {
    const main = (await get('catalog.other.main')).body;
    expect(main.spec).toMatchObject({ lifecycle: 'Published', revision: -1 });
    // Published, it cannot be deleted yet.
    expect((await del('catalog.other.main')).status).toBe(403);

    const proposed = await approval(main, 'DeletionProposed');
    expect(proposed.status, proposed.body.message).toBe(200);
    expect(proposed.body.spec.lifecycle).toBe('DeletionProposed');
    expect(refs()).toContain('refs/heads/deletionProposed/other/main');

    const undone = await approval(proposed.body, 'Published');
    expect(undone.status, undone.body.message).toBe(200);
    expect(undone.body.spec.lifecycle).toBe('Published');
    expect(refs()).not.toContain('refs/heads/deletionProposed/other/main');
    expect((await del('catalog.other.main')).status).toBe(403);

    // The branch moves under a proposed placeholder (another package's revision is proposed for
    // deletion and its placeholder deleted first); the proposal still holds and can be carried out.
    const again = await approval(undone.body, 'DeletionProposed');
    expect(again.status, again.body.message).toBe(200);
    const duMain = (await get('catalog.workloads.oai.du.main')).body;
    expect((await approval(duMain, 'DeletionProposed')).status).toBe(200);
    expect((await del('catalog.workloads.oai.du.main')).status).toBe(200);
    expect(git(catalog, ['log', '-1', '--format=%s', 'main'])).toBe('Delete workloads/oai/du');

    const gone = await del('catalog.other.main');
    expect(gone.status, await gone.clone().text()).toBe(200);
    expect(git(catalog, ['log', '-1', '--format=%s', 'main'])).toBe('Delete other');
    expect(git(catalog, ['ls-tree', '--name-only', 'main'])).not.toMatch(/^other$/m);
    expect(refs().filter((r) => r.startsWith('refs/heads/deletionProposed/'))).toEqual([]);
    expect((await get('catalog.other.main')).status).toBe(404);
    // The published revisions stay: only the branch copy was deleted.
    expect((await get('catalog.other.v1')).status).toBe(200);
  });

  it("moves the branch without changing another package's placeholder, whose files still read", async () => {
    const other = (await get('catalog.other.main')).body;
    const duMain = (await get('catalog.workloads.oai.du.main')).body;
    expect((await approval(duMain, 'DeletionProposed')).status).toBe(200);
    expect((await del('catalog.workloads.oai.du.main')).status).toBe(200);
    expect(git(catalog, ['log', '-1', '--format=%s', 'main'])).toBe('Delete workloads/oai/du');
    // Nothing it shows changed, so it keeps its resourceVersion and no watcher hears of it.
    expect((await get('catalog.other.main')).body).toEqual(other);
    const res = await getPackageRevisionResources(ctx).request(jsonRequest('GET', `${NS}/packagerevisionresources/catalog.other.main`));
    expect(res.status).toBe(200);
    expect(Object.keys(((await res.json()) as { spec: { resources: Record<string, string> } }).spec.resources)).toContain('Kptfile');
  });

  const repoStatus = async () => ((await ctx.store.get(REPOS, 'default', 'catalog'))?.status ?? {}) as { packageCount?: number; gitCommitHash?: string };
  const budget = { timeout: 20_000, interval: 50 };

  it('re-creates a package after its placeholder and revisions are deleted; packageCount follows every write', async () => {
    expect((await repoStatus()).packageCount).toBe(2);
    for (const name of ['catalog.other.v1', 'catalog.other.main']) {
      const cur = (await get(name)).body;
      expect((await approval(cur, 'DeletionProposed')).status).toBe(200);
      expect((await del(name)).status).toBe(200);
    }
    expect((await get('catalog.other.main')).status).toBe(404);
    // No sync ran since: the writes themselves brought status up to date.
    await expect.poll(async () => (await repoStatus()).packageCount, budget).toBe(1);
    await expect.poll(async () => (await repoStatus()).gitCommitHash, budget).toBe(git(catalog, ['rev-parse', 'main']));
    const pr = await create({ repository: 'catalog', packageName: 'other', workspaceName: 'v1' });
    expect(pr.metadata.name).toBe('catalog.other.v1');
    expect(pr.spec.lifecycle).toBe('Draft');
    expect((pr.spec.tasks ?? []).filter((t) => t.type === 'init')).toHaveLength(1);
    expect(refs()).toContain('refs/heads/drafts/other/v1');
    await expect.poll(async () => (await repoStatus()).packageCount, budget).toBe(2);
  });
});
