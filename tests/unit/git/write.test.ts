import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openGitRepository, type IsoGitRepository } from '../../../lib/git/repository.ts';
import { approvalCommitMessage, draftCommitMessage } from '../../../lib/git/trailer.ts';
import { GitConflictError, GitUnavailableError, type GitRepositoryOptions } from '../../../lib/git/types.ts';
import { createBareRepo, fsck, git, kptfile, packageFiles, PorchRepoWriter, tempDir } from '../../support/git-fixtures.ts';

const ALICE = { name: 'Alice', email: 'alice@example.com' };
const tmp = tempDir();
afterAll(() => tmp.remove());

let n = 0;
function fresh(opts: Partial<GitRepositoryOptions> = {}): { w: PorchRepoWriter; repo: IsoGitRepository } {
  const w = PorchRepoWriter.create(join(tmp.path, `r${++n}.git`), { directory: opts.directory });
  const repo = openGitRepository({ url: w.gitdir, branch: 'main', directory: '', createBranch: false, workDir: join(tmp.path, `w${n}`), ...opts });
  return { w, repo };
}

function parents(w: PorchRepoWriter, commit: string): string[] {
  return w.git(['rev-list', '--parents', '-n1', commit]).split(' ').slice(1);
}

function message(w: PorchRepoWriter, commit: string): string {
  const raw = w.git(['cat-file', 'commit', commit], { raw: true });
  return raw.slice(raw.indexOf('\n\n') + 2);
}

function msg(pkg: string, ws: string, task?: Record<string, unknown>): string {
  return draftCommitMessage({ package: pkg, workspaceName: ws, revision: '0', task });
}

describe('open', () => {
  it('creates the branch with Porch’s initial commit when createBranch is set', async () => {
    const gitdir = createBareRepo(join(tmp.path, 'empty.git'));
    const repo = openGitRepository({ url: gitdir, branch: 'main', directory: '', createBranch: true, workDir: tmp.path });
    await repo.open();
    const head = git(gitdir, ['rev-parse', 'refs/heads/main']);
    expect(git(gitdir, ['log', '-1', '--format=%s|%an|%ae|%cn|%ce', head])).toBe(
      'Initial commit: Creating main branch|Package Orchestration Service|porch@kpt.dev|Package Orchestration Service|porch@kpt.dev',
    );
    expect(git(gitdir, ['ls-tree', '--name-only', head])).toBe('README.md');
    expect(git(gitdir, ['show', `${head}:README.md`])).toBe('Created by porch');
    await repo.open();
    expect(git(gitdir, ['rev-parse', 'refs/heads/main'])).toBe(head);
    expect((await repo.listRevisions()).branchCommit).toBe(head);
    fsck(gitdir);
  });

  it('creates a branch other than main next to existing ones', async () => {
    const { w } = fresh();
    const repo = openGitRepository({ url: w.gitdir, branch: 'deploy', directory: '', createBranch: true, workDir: tmp.path });
    await repo.open();
    expect(w.resolve('refs/heads/deploy')).toBeDefined();
    expect(w.resolve('refs/heads/deploy')).not.toBe(w.head());
  });

  it('fails when the branch is missing and createBranch is off, as Porch does', async () => {
    const gitdir = createBareRepo(join(tmp.path, 'nobranch.git'));
    const repo = openGitRepository({ url: gitdir, branch: 'main', directory: '', createBranch: false, workDir: tmp.path });
    await expect(repo.open()).rejects.toThrow(/branch "main" (does not|doesn't) exist/);
    // Listing still answers (nothing there yet).
    expect(await repo.listRevisions()).toEqual({ revisions: [], branchCommit: '', skipped: [] });
  });

  it('fails to list a local repository that vanished, rather than listing it empty', async () => {
    const { w, repo } = fresh();
    await repo.open();
    expect((await repo.listRevisions()).branchCommit).toBe(w.head());
    rmSync(w.gitdir, { recursive: true, force: true });
    await expect(repo.listRevisions()).rejects.toBeInstanceOf(GitUnavailableError);
  });

  it('fails for a path that is not a repository', async () => {
    const repo = openGitRepository({ url: join(tmp.path, 'nothing-here'), branch: 'main', directory: '', createBranch: true, workDir: tmp.path });
    await expect(repo.open()).rejects.toBeInstanceOf(GitUnavailableError);
  });
});

describe('commitPackage', () => {
  it('creates a draft off the branch head, then updates it with compare-and-swap', async () => {
    const { w, repo } = fresh();
    await repo.open();
    const ref = 'refs/heads/drafts/net/basens/ws1';
    const files = { Kptfile: kptfile('basens'), 'ns.yaml': 'kind: Namespace\n', 'sub/x.yaml': 'x: 1\n' };
    const c1 = await repo.commitPackage({ ref, packagePath: 'net/basens', resources: files, message: msg('net/basens', 'ws1', { type: 'init' }), author: ALICE, expectedOld: null });
    expect(w.resolve(ref)).toBe(c1);
    expect(parents(w, c1)).toEqual([w.head()]);
    expect(w.git(['log', '-1', '--format=%an <%ae>|%cn <%ce>', c1])).toBe('Alice <alice@example.com>|Package Orchestration Service <porch@kpt.dev>');
    expect(message(w, c1)).toBe(msg('net/basens', 'ws1', { type: 'init' }));
    expect(w.git(['ls-tree', '-r', '--name-only', c1]).split('\n').sort()).toEqual(['README.md', 'net/basens/Kptfile', 'net/basens/ns.yaml', 'net/basens/sub/x.yaml']);
    expect(await repo.readResources(c1, 'net/basens')).toEqual(files);

    // Creating again must fail: the ref exists.
    await expect(repo.commitPackage({ ref, packagePath: 'net/basens', resources: files, message: 'x', author: ALICE, expectedOld: null })).rejects.toBeInstanceOf(GitConflictError);

    // The whole directory is replaced: files not given disappear.
    const c2 = await repo.commitPackage({ ref, packagePath: 'net/basens', resources: { Kptfile: kptfile('basens') }, message: msg('net/basens', 'ws1'), author: ALICE, expectedOld: c1 });
    expect(parents(w, c2)).toEqual([c1]);
    expect(Object.keys(await repo.readResources(c2, 'net/basens'))).toEqual(['Kptfile']);

    // A stale expectation is refused and changes nothing.
    await expect(repo.commitPackage({ ref, packagePath: 'net/basens', resources: files, message: 'x', author: ALICE, expectedOld: c1 })).rejects.toBeInstanceOf(GitConflictError);
    expect(w.resolve(ref)).toBe(c2);
    fsck(w.gitdir);
  });

  it('uses baseCommit as the parent when given, and works on an empty repository', async () => {
    const { w, repo } = fresh();
    w.publish('app', 'ws1', 1);
    const base = w.head()!;
    w.publish('other', 'ws1', 1);
    const c = await repo.commitPackage({ ref: 'refs/heads/drafts/app/ws2', packagePath: 'app', resources: packageFiles('app', 'b'), message: 'm', author: ALICE, expectedOld: null, baseCommit: base });
    expect(parents(w, c)).toEqual([base]);

    const gitdir = createBareRepo(join(tmp.path, 'blank.git'));
    const blank = openGitRepository({ url: gitdir, branch: 'main', directory: 'dir', createBranch: false, workDir: tmp.path });
    const root = await blank.commitPackage({ ref: 'refs/heads/drafts/dir/app/ws1', packagePath: 'app', resources: { Kptfile: kptfile('app') }, message: 'm', author: ALICE, expectedOld: null });
    expect(parents(new PorchRepoWriter(gitdir), root)).toEqual([]);
    expect(git(gitdir, ['ls-tree', '-r', '--name-only', root])).toBe('dir/app/Kptfile');
    const l = await blank.listRevisions();
    expect(l.revisions.map((r) => `${r.kind} ${r.packagePath} ${r.workspace}`)).toEqual(['draft app ws1']);
    fsck(gitdir);
  });

  it('serialises concurrent writers: exactly one of two racing updates wins', async () => {
    const { w, repo } = fresh();
    const ref = 'refs/heads/drafts/app/ws1';
    const c0 = await repo.commitPackage({ ref, packagePath: 'app', resources: packageFiles('app', '0'), message: 'm', author: ALICE, expectedOld: null });
    const results = await Promise.allSettled(
      [1, 2, 3].map((i) => repo.commitPackage({ ref, packagePath: 'app', resources: packageFiles('app', String(i)), message: `m${i}`, author: ALICE, expectedOld: c0 })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(GitConflictError);
    const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<string>;
    expect(w.resolve(ref)).toBe(winner.value);
  });

  it('notices a ref moved by someone else (git CLI) since it was read', async () => {
    const { w, repo } = fresh();
    const ref = 'refs/heads/drafts/app/ws1';
    const c0 = await repo.commitPackage({ ref, packagePath: 'app', resources: packageFiles('app', '0'), message: 'm', author: ALICE, expectedOld: null });
    const theirs = w.amendDraft('app', 'ws1', packageFiles('app', 'theirs'));
    await expect(repo.commitPackage({ ref, packagePath: 'app', resources: packageFiles('app', 'ours'), message: 'm', author: ALICE, expectedOld: c0 })).rejects.toBeInstanceOf(GitConflictError);
    expect(w.resolve(ref)).toBe(theirs);
  });
});

describe('refs', () => {
  it('moveRef creates the target then deletes the source', async () => {
    const { w, repo } = fresh();
    const c = w.draft('app', 'ws1');
    await repo.moveRef('refs/heads/drafts/app/ws1', 'refs/heads/proposed/app/ws1', c);
    expect(w.resolve('refs/heads/drafts/app/ws1')).toBeUndefined();
    expect(w.resolve('refs/heads/proposed/app/ws1')).toBe(c);
    await expect(repo.moveRef('refs/heads/drafts/app/ws1', 'refs/heads/proposed/app/ws1', c)).rejects.toBeInstanceOf(GitConflictError);
    const other = w.draft('app', 'ws2');
    await expect(repo.moveRef('refs/heads/proposed/app/ws1', 'refs/heads/drafts/app/ws1', other)).rejects.toBeInstanceOf(GitConflictError);
    expect(w.resolve('refs/heads/proposed/app/ws1')).toBe(c);
  });

  it('updateRef and deleteRef compare before they swap', async () => {
    const { w, repo } = fresh();
    const merge = w.publish('app', 'ws1', 1);
    const dp = 'refs/heads/deletionProposed/app/v1';
    await repo.updateRef(dp, merge, null);
    expect(w.resolve(dp)).toBe(merge);
    await expect(repo.updateRef(dp, merge, null)).rejects.toBeInstanceOf(GitConflictError);
    const init = w.git(['rev-list', '--max-parents=0', 'main']);
    await expect(repo.updateRef(dp, init, init)).rejects.toBeInstanceOf(GitConflictError);
    await repo.updateRef(dp, init, merge);
    expect(w.resolve(dp)).toBe(init);
    await expect(repo.deleteRef(dp, merge)).rejects.toBeInstanceOf(GitConflictError);
    await repo.deleteRef(dp, init);
    expect(w.resolve(dp)).toBeUndefined();
    await expect(repo.deleteRef(dp, init)).rejects.toBeInstanceOf(GitConflictError);
    // Tags, annotated ones included, are compared by the commit they name.
    w.tag('app/v9', merge, true);
    await repo.deleteRef('refs/tags/app/v9', merge);
    expect(w.resolve('refs/tags/app/v9')).toBeUndefined();
    fsck(w.gitdir);
  });

  it('handles packed refs like loose ones', async () => {
    const { w, repo } = fresh();
    const c = w.draft('app', 'ws1');
    w.git(['pack-refs', '--all']);
    expect(existsSync(join(w.gitdir, 'refs/heads/drafts/app/ws1'))).toBe(false);
    await repo.moveRef('refs/heads/drafts/app/ws1', 'refs/heads/proposed/app/ws1', c);
    expect(w.git(['for-each-ref', '--format=%(refname)', 'refs/heads/drafts', 'refs/heads/proposed'])).toBe('refs/heads/proposed/app/ws1');
    fsck(w.gitdir);
  });
});

describe('publish', () => {
  it('merges onto the branch, tags the merge (lightweight) and removes the source ref', async () => {
    const { w, repo } = fresh();
    w.publish('other', 'ws1', 1);
    const head = w.head()!;
    const src = w.draft('net/basens', 'ws1', { kind: 'proposed', files: { Kptfile: kptfile('basens'), 'a.yaml': 'a: 1\n' } });
    const message = approvalCommitMessage('net/basens', 1, 'ws1');
    const merge = await repo.publish({ packagePath: 'net/basens', sourceRef: 'refs/heads/proposed/net/basens/ws1', sourceCommit: src, tag: 'refs/tags/net/basens/v1', message, author: ALICE });
    expect(w.head()).toBe(merge);
    expect(parents(w, merge)).toEqual([head, src]);
    expect(message).toBe('Approving package revision net/basens/1\n\nkpt:{"package":"net/basens","workspaceName":"ws1","revision":"1"}\n');
    expect(w.git(['cat-file', 'commit', merge], { raw: true }).endsWith(`\n\n${message}`)).toBe(true);
    expect(w.git(['cat-file', '-t', 'refs/tags/net/basens/v1'])).toBe('commit');
    expect(w.resolve('refs/tags/net/basens/v1')).toBe(merge);
    expect(w.resolve('refs/heads/proposed/net/basens/ws1')).toBeUndefined();
    expect(w.git(['log', '-1', '--format=%an|%cn', merge])).toBe('Alice|Package Orchestration Service');
    // The branch keeps its other packages; the package tree is the draft's.
    expect(w.git(['rev-parse', `${merge}:net/basens`])).toBe(w.git(['rev-parse', `${src}:net/basens`]));
    expect(w.git(['rev-parse', `${merge}:other`])).toBe(w.git(['rev-parse', `${head}:other`]));
    const listed = (await repo.listRevisions()).revisions.find((r) => r.ref === 'refs/tags/net/basens/v1')!;
    expect(listed).toMatchObject({ kind: 'published', workspace: 'ws1', revision: 1, commit: merge, tasks: [{ type: 'init', init: { description: 'net/basens package' } }] });
    fsck(w.gitdir);
  });

  it('merges onto whatever the branch head is now, and refuses a stale source or an existing tag', async () => {
    const { w, repo } = fresh();
    const src = w.draft('app', 'ws1', { kind: 'proposed' });
    const moved = w.publish('other', 'ws1', 1);
    await expect(
      repo.publish({ packagePath: 'app', sourceRef: 'refs/heads/proposed/app/ws1', sourceCommit: moved, tag: 'refs/tags/app/v1', message: 'm', author: ALICE }),
    ).rejects.toBeInstanceOf(GitConflictError);
    w.tag('app/v1', moved);
    await expect(repo.publish({ packagePath: 'app', sourceRef: 'refs/heads/proposed/app/ws1', sourceCommit: src, tag: 'refs/tags/app/v1', message: 'm', author: ALICE })).rejects.toBeInstanceOf(
      GitConflictError,
    );
    expect(w.head()).toBe(moved);
    expect(w.resolve('refs/heads/proposed/app/ws1')).toBe(src);
    const merge = await repo.publish({ packagePath: 'app', sourceRef: 'refs/heads/proposed/app/ws1', sourceCommit: src, tag: 'refs/tags/app/v2', message: 'm', author: ALICE });
    expect(parents(w, merge)).toEqual([moved, src]);
    expect(w.git(['ls-tree', '--name-only', merge]).split('\n').sort()).toEqual(['README.md', 'app', 'other']);
  });

  it('publishes into an empty branch (the draft becomes its only parent)', async () => {
    const gitdir = createBareRepo(join(tmp.path, 'pub-empty.git'));
    const repo = openGitRepository({ url: gitdir, branch: 'main', directory: '', createBranch: false, workDir: tmp.path });
    const src = await repo.commitPackage({ ref: 'refs/heads/proposed/app/ws1', packagePath: 'app', resources: { Kptfile: kptfile('app') }, message: 'm', author: ALICE, expectedOld: null });
    const merge = await repo.publish({ packagePath: 'app', sourceRef: 'refs/heads/proposed/app/ws1', sourceCommit: src, tag: 'refs/tags/app/v1', message: 'm', author: ALICE });
    expect(parents(new PorchRepoWriter(gitdir), merge)).toEqual([src]);
    expect(git(gitdir, ['rev-parse', 'refs/heads/main'])).toBe(merge);
    fsck(gitdir);
  });
});

describe('deletePackageFromBranch', () => {
  it('removes the package directory (and empty parents) from the branch in one commit', async () => {
    const { w, repo } = fresh({ directory: 'top' });
    w.publish('net/basens', 'ws1', 1);
    w.publish('keep', 'ws1', 1);
    const head = w.head()!;
    const c = await repo.deletePackageFromBranch('net/basens', 'Delete top/net/basens', ALICE);
    expect(w.head()).toBe(c);
    expect(parents(w, c)).toEqual([head]);
    expect(message(w, c)).toBe('Delete top/net/basens');
    expect(w.git(['ls-tree', '-r', '--name-only', c]).split('\n').sort()).toEqual(['README.md', 'top/keep/Kptfile', 'top/keep/cm.yaml']);
    // The tag still names the old content.
    expect(w.git(['rev-parse', 'refs/tags/top/net/basens/v1:top/net/basens/Kptfile'])).toMatch(/^[0-9a-f]{40}$/);
    const placeholders = (await repo.listRevisions()).revisions.filter((r) => r.kind === 'placeholder').map((r) => r.packagePath);
    expect(placeholders).toEqual(['keep']);
    fsck(w.gitdir);
  });
});
