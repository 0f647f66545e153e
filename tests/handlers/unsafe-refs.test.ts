import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import getPackageRevision from '../../handlers/get-packagerevision.ts';
import listPackageRevisions from '../../handlers/list-packagerevisions.ts';
import { findResource } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { jsonRequest, registerRepository, syncRepository, testContext } from '../support/context.ts';
import { git, porchRepo, tempDir } from '../support/git-fixtures.ts';

// A branch or tag pushed behind the server's back whose tree holds a path git refuses to check out
// (`.GIT/config`, `x/.Git/hooks/...`). git's own porcelain will not write such trees, so they are
// built with `git mktree`, as a hostile client could push them.

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';

/** A commit on top of main whose package `pkg` also holds `<dir>/<gitDir>/config`. */
function hostileCommit(bare: string, pkg: string, dir: string, gitDir: string): string {
  const blob = git(bare, ['hash-object', '-w', '--stdin'], { input: '[core]\n\thooksPath = /tmp\n' });
  let inner = git(bare, ['mktree'], { input: `100644 blob ${blob}\tconfig\n` });
  inner = git(bare, ['mktree'], { input: `040000 tree ${inner}\t${gitDir}\n` });
  const pkgEntries = git(bare, ['ls-tree', `main:${pkg}`]);
  const pkgTree = dir ? git(bare, ['mktree'], { input: `${pkgEntries}\n040000 tree ${inner}\t${dir}\n` }) : git(bare, ['mktree'], { input: `${pkgEntries}\n${git(bare, ['ls-tree', inner])}\n` });
  const rootEntries = git(bare, ['ls-tree', 'main']).split('\n').filter((l) => !l.endsWith(`\t${pkg}`));
  const root = git(bare, ['mktree'], { input: `${rootEntries.join('\n')}\n040000 tree ${pkgTree}\t${pkg}\n` });
  return git(bare, ['commit-tree', root, '-p', 'main', '-m', 'pushed behind the server']);
}

describe('refs whose trees git refuses to check out', () => {
  let tmp: { path: string; remove(): void };
  let ctx: AppContext;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    tmp = tempDir('porch-unsafe-h-');
    ({ ctx, cleanup } = await testContext());
  });
  afterEach(async () => {
    await cleanup();
    tmp.remove();
  });

  it('are skipped and reported on the Repository, which stays Ready with every other revision', async () => {
    const bare = porchRepo(tmp.path, 'hostile', [{ path: 'app', revisions: 1 }]);
    git(bare, ['update-ref', 'refs/heads/drafts/app/evil', hostileCommit(bare, 'app', '', '.GIT')]);
    git(bare, ['tag', 'app/v7', hostileCommit(bare, 'app', 'x', '.Git')]);
    const repo = await registerRepository(ctx, 'hostile', bare);

    const status = (await ctx.store.get(REPOS, 'default', 'hostile'))?.status as { conditions: { type: string; status: string; message: string }[] };
    expect(status.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    const skipped = status.conditions.find((c) => c.type === 'SkippedRefs');
    expect(skipped?.status).toBe('True');
    expect(skipped?.message).toContain('refs/heads/drafts/app/evil');
    expect(skipped?.message).toContain('refs/tags/app/v7');

    const list = await listPackageRevisions(ctx).request(jsonRequest('GET', `${NS}/packagerevisions`));
    expect(list.status).toBe(200);
    const names = ((await list.json()) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);
    expect(names).toEqual(['hostile.app.main', 'hostile.app.v1']);
    expect((await getPackageRevision(ctx).request(jsonRequest('GET', `${NS}/packagerevisions/hostile.app.evil`))).status).toBe(404);

    // Once the refs are gone the report goes too.
    git(bare, ['update-ref', '-d', 'refs/heads/drafts/app/evil']);
    git(bare, ['tag', '-d', 'app/v7']);
    await syncRepository(ctx, repo);
    const after = (await ctx.store.get(REPOS, 'default', 'hostile'))?.status as { conditions: { type: string }[] };
    expect(after.conditions.map((c) => c.type)).not.toContain('SkippedRefs');
  });

  it('leaves out a package of the registered branch whose tree is unsafe, and serves the others', async () => {
    const bare = porchRepo(tmp.path, 'hostile', [{ path: 'app', revisions: 1 }, { path: 'other', revisions: 1 }]);
    git(bare, ['update-ref', 'refs/heads/main', hostileCommit(bare, 'other', 'x', '.git')]);
    await registerRepository(ctx, 'hostile', bare);

    const status = (await ctx.store.get(REPOS, 'default', 'hostile'))?.status as { conditions: { type: string; status: string; message: string }[] };
    expect(status.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    expect(status.conditions.find((c) => c.type === 'SkippedRefs')?.message).toContain('refs/heads/main:other');
    const list = await listPackageRevisions(ctx).request(jsonRequest('GET', `${NS}/packagerevisions`));
    const names = ((await list.json()) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);
    expect(names).toEqual(['hostile.app.main', 'hostile.app.v1', 'hostile.other.v1']);
  });
});
