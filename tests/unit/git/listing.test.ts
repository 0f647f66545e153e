import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGitRepository, revisionKey, type IsoGitRepository } from '../../../lib/git/repository.ts';
import type { GitPackageRevision } from '../../../lib/git/types.ts';
import { fsck, git, kptfile, packageFiles, PorchRepoWriter, tempDir } from '../../support/git-fixtures.ts';
import { buildRepo, expectedRevisions, packagePath, type RepoShape } from '../../bench/fixture.ts';

const INIT = { type: 'init', init: { description: 'network namespace' } };
const EDIT = { type: 'edit', edit: { sourceRef: { name: 'repo.net.basens.ws1' } } };
const CLONE = { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'up.app.v1' } } } };

function byRef(list: readonly GitPackageRevision[]): Map<string, GitPackageRevision> {
  return new Map(list.map((r) => [revisionKey(r), r]));
}

function open(gitdir: string, workDir: string, directory = ''): IsoGitRepository {
  return openGitRepository({ url: gitdir, branch: 'main', directory, createBranch: false, workDir });
}

describe('listRevisions over a repository Porch wrote', () => {
  const tmp = tempDir();
  let w: PorchRepoWriter;
  let repo: IsoGitRepository;

  beforeAll(async () => {
    w = PorchRepoWriter.create(join(tmp.path, 'repo.git'));
    w.publish('net/basens', 'ws1', 1, { task: INIT, author: { name: 'Alice', email: 'alice@example.com' } });
    w.publish('net/basens', 'ws2', 2, { task: EDIT, files: { ...packageFiles('net/basens', 'two'), 'sub/dir/extra.yaml': 'a: 1\n' } });
    w.publish('app', 'first', 1, { task: CLONE });
    w.draft('app', 'ws2', { task: { type: 'edit', edit: {} } });
    w.amendDraft('app', 'ws2', { ...packageFiles('app', 'rendered') }, { type: 'render' });
    w.draft('net/basens', 'ws3', { kind: 'proposed', task: { type: 'edit', edit: {} } });
    w.proposeDeletion('app', 1);
    // Written by hand: no annotations anywhere; one plain and one annotated tag.
    const manual = w.commitOnBranch('manual', { Kptfile: kptfile('manual') }, 'add manual package', { name: 'Bob', email: 'bob@example.com' });
    w.tag('manual/v1', manual);
    w.tag('manual/v2', manual, true);
    // Tags that are not package revisions.
    w.tag('v1.0', manual);
    w.tag('docs/v1', w.commitOnBranch('docs', { 'README.md': 'not a package\n' }, 'docs'));
    // A package below a package is part of it, not a package of its own.
    w.commitOnBranch('nested', { Kptfile: kptfile('nested'), 'child/Kptfile': kptfile('child') }, 'nested');
    // A draft whose only commit carries no task: its tasks come from nowhere else.
    const base = w.head()!;
    w.updateRef('refs/heads/drafts/nested/bare', w.commit({ tree: w.treeOf(base), parents: [base], message: 'Intermediate commit\n\n\nkpt:{"package":"nested","workspaceName":"bare","revision":"0"}\n' }));
    repo = open(w.gitdir, join(tmp.path, 'work'));
    await repo.open();
  });

  afterAll(async () => {
    await repo.close();
    tmp.remove();
  });

  it('lists every kind with Porch’s naming', async () => {
    const { revisions, branchCommit } = await repo.listRevisions();
    expect(branchCommit).toBe(w.head());
    const summary = revisions.map((r) => `${r.kind} ${r.packagePath} ${r.workspace} ${r.revision} ${r.ref}`).sort();
    expect(summary).toEqual(
      [
        'deletionProposed app first 1 refs/heads/deletionProposed/app/v1',
        'draft app ws2 0 refs/heads/drafts/app/ws2',
        'draft nested bare 0 refs/heads/drafts/nested/bare',
        'placeholder app main -1 refs/heads/main',
        'placeholder manual main -1 refs/heads/main',
        'placeholder nested main -1 refs/heads/main',
        'placeholder net/basens main -1 refs/heads/main',
        'proposed net/basens ws3 0 refs/heads/proposed/net/basens/ws3',
        'published app first 1 refs/tags/app/v1',
        'published manual v1 1 refs/tags/manual/v1',
        'published manual v2 2 refs/tags/manual/v2',
        'published net/basens ws1 1 refs/tags/net/basens/v1',
        'published net/basens ws2 2 refs/tags/net/basens/v2',
      ].sort(),
    );
  });

  it('fills commit, tree, Kptfile, tasks and author', async () => {
    const list = byRef((await repo.listRevisions()).revisions);
    for (const r of list.values()) {
      expect(r.commit).toBe(w.resolve(r.ref));
      expect(r.tree).toBe(w.git(['rev-parse', `${r.commit}:${r.packagePath}`]));
      expect(r.kptfile).toBe(w.git(['show', `${r.commit}:${r.packagePath}/Kptfile`]) + '\n');
    }
    const v1 = list.get('refs/tags/net/basens/v1')!;
    expect(v1.tasks).toEqual([INIT]);
    expect(v1.author).toEqual({ name: 'Alice', email: 'alice@example.com', timestamp: Number(w.git(['log', '-1', '--format=%at', v1.commit])) });
    expect(list.get('refs/tags/net/basens/v2')!.tasks).toEqual([EDIT]);
    expect(list.get('refs/tags/app/v1')!.tasks).toEqual([CLONE]);
    expect(list.get('refs/heads/deletionProposed/app/v1')!.tasks).toEqual([CLONE]);
    expect(list.get('refs/heads/drafts/app/ws2')!.tasks).toEqual([{ type: 'edit', edit: {} }]);
    expect(list.get('refs/heads/proposed/net/basens/ws3')!.tasks).toEqual([{ type: 'edit', edit: {} }]);
    expect(list.get('refs/heads/drafts/nested/bare')!.tasks).toEqual([]);
    expect(list.get('refs/tags/manual/v1')!.tasks).toEqual([]);
    expect(list.get('refs/tags/manual/v1')!.author.email).toBe('bob@example.com');
    // The annotated tag is peeled to its commit.
    expect(list.get('refs/tags/manual/v2')!.commit).toBe(w.resolve('refs/tags/manual/v1'));
    const placeholder = list.get('refs/heads/main\0net/basens')!;
    expect(placeholder.commit).toBe(w.head());
    expect(placeholder.tasks).toEqual([]);
    expect(placeholder.tree).toBe(list.get('refs/tags/net/basens/v2')!.tree);
  });

  it('lists packed refs as loose ones: annotated tags peeled, whether or not packed-refs says which tags are plain', async () => {
    const expected = (await repo.listRevisions()).revisions.map((r) => `${r.ref} ${r.commit} ${r.tree}`);
    const packed = w.copyTo(join(tmp.path, 'packed.git'));
    packed.git(['pack-refs', '--all', '--prune']);
    const file = join(packed.gitdir, 'packed-refs');
    expect(readFileSync(file, 'utf8')).toMatch(/^# pack-refs with: .*peeled/);
    const listed = async (name: string) => {
      const r = open(packed.gitdir, join(tmp.path, name));
      const { revisions } = await r.listRevisions();
      await r.close();
      return revisions.map((x) => `${x.ref} ${x.commit} ${x.tree}`);
    };
    expect(await listed('work-packed')).toEqual(expected);
    // Without the header nothing says a tag is plain: each one is read to find out.
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n'));
    expect(await listed('work-packed-bare')).toEqual(expected);
  });

  it('reads every file of a package, subdirectories included, relative to it', async () => {
    const list = byRef((await repo.listRevisions()).revisions);
    const v2 = list.get('refs/tags/net/basens/v2')!;
    const files = await repo.readResources(v2.commit, 'net/basens');
    expect(Object.keys(files).sort()).toEqual(['Kptfile', 'cm.yaml', 'sub/dir/extra.yaml']);
    expect(files['sub/dir/extra.yaml']).toBe('a: 1\n');
    const nested = await repo.readResources(w.head()!, 'nested');
    expect(Object.keys(nested).sort()).toEqual(['Kptfile', 'child/Kptfile']);
    expect(await repo.readResources(w.head()!, 'missing')).toEqual({});
    // A tag object is accepted in place of its commit.
    const tagObject = w.git(['rev-parse', 'refs/tags/manual/v2']);
    expect(Object.keys(await repo.readResources(tagObject, 'manual'))).toEqual(['Kptfile']);
  });

  it('reuses unchanged entries without reading them again', async () => {
    const first = (await repo.listRevisions()).revisions;
    const prev = byRef(first);
    const same = (await repo.listRevisions(prev)).revisions;
    expect(same).toHaveLength(first.length);
    for (const r of same) expect(r).toBe(prev.get(revisionKey(r)));

    const moved = w.amendDraft('app', 'ws2', packageFiles('app', 'again'));
    const next = byRef((await repo.listRevisions(prev)).revisions);
    const draft = next.get('refs/heads/drafts/app/ws2')!;
    expect(draft).not.toBe(prev.get('refs/heads/drafts/app/ws2'));
    expect(draft.commit).toBe(moved);
    expect(draft.tasks).toEqual([{ type: 'edit', edit: {} }]);
    for (const [k, r] of next) if (k !== 'refs/heads/drafts/app/ws2') expect(r).toBe(prev.get(k));
  });

  it('does not take a ref being written by someone else (a .lock file) for a ref', async () => {
    writeFileSync(join(w.gitdir, 'refs/heads/drafts/app/ws2.lock'), `${w.head()}\n`);
    try {
      const refs = (await repo.listRevisions()).revisions.map((r) => r.ref);
      expect(refs.filter((r) => r.includes('.lock'))).toEqual([]);
      expect(refs).toContain('refs/heads/drafts/app/ws2');
    } finally {
      rmSync(join(w.gitdir, 'refs/heads/drafts/app/ws2.lock'));
    }
  });

  it('drops refs that went away and picks up new ones', async () => {
    const prev = byRef((await repo.listRevisions()).revisions);
    w.deleteRef('refs/heads/proposed/net/basens/ws3');
    w.draft('fresh', 'ws1');
    const next = byRef((await repo.listRevisions(prev)).revisions);
    expect(next.has('refs/heads/proposed/net/basens/ws3')).toBe(false);
    expect(next.get('refs/heads/drafts/fresh/ws1')).toMatchObject({ kind: 'draft', packagePath: 'fresh', workspace: 'ws1', revision: 0 });
    fsck(w.gitdir);
  });
});

describe('listRevisions with a directory', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('lists only packages under the directory, with paths relative to it', async () => {
    const w = PorchRepoWriter.create(join(tmp.path, 'repo.git'), { directory: 'blueprints' });
    w.publish('app', 'ws1', 1);
    w.publish('x/y', 'ws1', 1);
    w.draft('app', 'ws2');
    // Outside the directory: same layout at the top level.
    const top = new PorchRepoWriter(w.gitdir);
    top.publish('app', 'ws1', 1);
    top.draft('other', 'ws1');
    const repo = openGitRepository({ url: `file://${w.gitdir}`, branch: 'main', directory: '/blueprints/', createBranch: false, workDir: tmp.path });
    await repo.open();
    const summary = (await repo.listRevisions()).revisions.map((r) => `${r.kind} ${r.packagePath} ${r.workspace} ${r.ref}`).sort();
    expect(summary).toEqual(
      [
        'draft app ws2 refs/heads/drafts/blueprints/app/ws2',
        'placeholder app main refs/heads/main',
        'placeholder x/y main refs/heads/main',
        'published app ws1 refs/tags/blueprints/app/v1',
        'published x/y ws1 refs/tags/blueprints/x/y/v1',
      ].sort(),
    );
    const app = (await repo.listRevisions()).revisions.find((r) => r.ref === 'refs/tags/blueprints/app/v1')!;
    expect(Object.keys(await repo.readResources(app.commit, 'app')).sort()).toEqual(['Kptfile', 'cm.yaml']);
  });

  it('lists nothing (and no error) when the directory does not exist', async () => {
    const w = PorchRepoWriter.create(join(tmp.path, 'nodir.git'));
    w.publish('app', 'ws1', 1);
    const repo = open(w.gitdir, tmp.path, 'missing');
    await repo.open();
    const l = await repo.listRevisions();
    expect(l.revisions).toEqual([]);
    expect(l.branchCommit).toBe(w.head());
  });
});

describe('branch placeholders as the branch moves', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  const who = (name: string) => ({ name, email: `${name.toLowerCase()}@example.com` });

  /** Placeholder authors from a listing that reuses `prev`, and from a fresh repository (a whole history walk). */
  async function authors(repo: IsoGitRepository, gitdir: string, prev: Map<string, GitPackageRevision>, n: number) {
    const listed = (await repo.listRevisions(prev)).revisions;
    const fresh = open(gitdir, join(tmp.path, `fresh-${n}`));
    await fresh.open();
    const full = (await fresh.listRevisions()).revisions;
    await fresh.close();
    const pick = (l: GitPackageRevision[]) =>
      Object.fromEntries(l.filter((r) => r.kind === 'placeholder').map((r) => [r.packagePath, `${r.author.name}@${r.author.timestamp}`]));
    return { incremental: pick(listed), full: pick(full), listed: byRef(listed) };
  }

  it('carries the last annotated commit per package over one-commit moves, and equals a full walk after any move', async () => {
    const w = PorchRepoWriter.create(join(tmp.path, 'moves.git'));
    w.publish('a', 'ws1', 1, { author: who('Alice') });
    w.publish('b', 'ws1', 1, { author: who('Bob') });
    const repo = open(w.gitdir, join(tmp.path, 'work'));
    await repo.open();
    let prev = byRef((await repo.listRevisions()).revisions);
    let step = 0;

    // One approval merge on top of the head: only the published package's placeholder changes.
    w.publish('a', 'ws2', 2, { author: who('Carol') });
    let r = await authors(repo, w.gitdir, prev, step++);
    expect(r.incremental.a).toMatch(/^Carol@/);
    expect(r.incremental.b).toMatch(/^Bob@/);
    expect(r.incremental).toEqual(r.full);
    prev = r.listed;

    // A hand-made commit adding a package nobody annotated: its author is the head's.
    w.commitOnBranch('c', { Kptfile: kptfile('c') }, 'add c by hand', who('Dave'));
    r = await authors(repo, w.gitdir, prev, step++);
    expect(r.incremental.c).toMatch(/^Dave@/);
    expect(r.incremental).toEqual(r.full);
    prev = r.listed;

    // Several commits at once (a push from elsewhere), then a merge that is not an approval.
    w.publish('b', 'ws2', 2, { author: who('Erin') });
    w.commitOnBranch('a', packageFiles('a', 'edited by hand'), 'edit a by hand', who('Frank'));
    r = await authors(repo, w.gitdir, prev, step++);
    expect(r.incremental.b).toMatch(/^Erin@/);
    expect(r.incremental).toEqual(r.full);
    prev = r.listed;

    const side = w.draft('c', 'side', { author: who('Grace') });
    const head = w.head()!;
    w.updateRef('refs/heads/main', w.commit({ tree: w.treeOf(side), parents: [head, side], message: 'merge side branch', author: who('Heidi') }));
    r = await authors(repo, w.gitdir, prev, step++);
    expect(r.incremental).toEqual(r.full);
    await repo.close();
  });
});

describe('a first listing of many refs (packs read whole)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('lists what a listing of the same refs one at a time lists, and reads packages afterwards', async () => {
    const shape: RepoShape = { packages: 60, revisions: 5, drafts: 10 };
    const bare = await buildRepo(tmp.path, 'many', shape);
    const repo = open(bare, join(tmp.path, 'work'));
    const bulk = (await repo.listRevisions()).revisions;
    expect(bulk).toHaveLength(expectedRevisions(shape));
    // With a previous listing nothing is read in bulk; the one entry handed back is all it saves.
    const first = bulk.find((r) => r.kind === 'published')!;
    const single = (await repo.listRevisions(new Map([[revisionKey(first), first]]))).revisions;
    expect(single).toEqual(bulk);
    const v3 = bulk.find((r) => r.ref === `refs/tags/${packagePath(shape, 42)}/v3`)!;
    expect(v3.commit).toBe(git(bare, ['rev-parse', v3.ref]));
    expect(v3.kptfile).toBe(git(bare, ['show', `${v3.ref}:${v3.packagePath}/Kptfile`]) + '\n');
    expect(v3.tasks).toEqual([{ type: 'edit', edit: { sourceRef: { name: `many.${packagePath(shape, 42).replace('/', '.')}.v2` } } }]);
    expect((await repo.readResources(v3.commit, v3.packagePath))['cm.yaml']).toContain('revision: "3"');
    await repo.close();
  });
});
