import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openGitRepository } from '../../../lib/git/repository.ts';
import { compareAndSwapRef, packRefs, readRefRaw } from '../../../lib/git/refstore.ts';
import { GitConflictError } from '../../../lib/git/types.ts';
import { bulkPorchRepo, fsck, packageFiles, PorchRepoWriter, tempDir } from '../../support/git-fixtures.ts';

const tmp = tempDir();
afterAll(() => tmp.remove());
let n = 0;

function repo(): PorchRepoWriter {
  return PorchRepoWriter.create(join(tmp.path, `refs${++n}.git`));
}

describe('compareAndSwapRef', () => {
  it('creates, moves and deletes loose refs, checking the old value each time', async () => {
    const w = repo();
    const a = w.head()!;
    const b = w.draft('app', 'ws1');
    const ref = 'refs/heads/deletionProposed/app/v1';
    await compareAndSwapRef(w.gitdir, ref, undefined, a);
    expect(w.resolve(ref)).toBe(a);
    await expect(compareAndSwapRef(w.gitdir, ref, undefined, b)).rejects.toBeInstanceOf(GitConflictError);
    await expect(compareAndSwapRef(w.gitdir, ref, b, b)).rejects.toBeInstanceOf(GitConflictError);
    await compareAndSwapRef(w.gitdir, ref, a, b);
    expect(w.resolve(ref)).toBe(b);
    await compareAndSwapRef(w.gitdir, ref, b, undefined);
    expect(w.resolve(ref)).toBeUndefined();
    // Emptied directories go with the ref, as git removes them.
    expect(existsSync(join(w.gitdir, 'refs/heads/deletionProposed'))).toBe(false);
    expect(existsSync(join(w.gitdir, 'refs/heads'))).toBe(true);
    fsck(w.gitdir);
  });

  it('deletes packed refs without disturbing the others or their peeled lines', async () => {
    const w = repo();
    const merge = w.publish('app', 'ws1', 1);
    w.tag('app/v2', merge, true);
    w.draft('app', 'ws3');
    w.git(['pack-refs', '--all']);
    const before = w.git(['for-each-ref', '--format=%(refname) %(objectname) %(*objectname)']);
    await compareAndSwapRef(w.gitdir, 'refs/heads/drafts/app/ws3', w.resolve('refs/heads/drafts/app/ws3'), undefined);
    const after = w.git(['for-each-ref', '--format=%(refname) %(objectname) %(*objectname)']);
    expect(after.split('\n')).toEqual(before.split('\n').filter((l) => !l.startsWith('refs/heads/drafts/app/ws3 ')));
    expect(await readRefRaw(w.gitdir, 'refs/tags/app/v2')).toBe(w.git(['rev-parse', 'refs/tags/app/v2']));
    // A packed tag is moved by writing a loose ref over it.
    await compareAndSwapRef(w.gitdir, 'refs/tags/app/v1', merge, w.head()!);
    fsck(w.gitdir);
  });

  it('refuses while another writer holds the lock, as git does', async () => {
    const w = repo();
    const ref = 'refs/heads/drafts/app/ws1';
    const c = w.draft('app', 'ws1');
    writeFileSync(join(w.gitdir, `${ref}.lock`), '');
    await expect(compareAndSwapRef(w.gitdir, ref, c, w.head()!)).rejects.toThrow(/another writer/);
    expect(w.resolve(ref)).toBe(c);
  });

  it('keeps ref names prefix-free, loose or packed', async () => {
    const w = repo();
    const c = w.draft('app', 'ws1');
    await expect(compareAndSwapRef(w.gitdir, 'refs/heads/drafts/app/ws1/deeper', undefined, c)).rejects.toBeInstanceOf(GitConflictError);
    await expect(compareAndSwapRef(w.gitdir, 'refs/heads/drafts/app', undefined, c)).rejects.toBeInstanceOf(GitConflictError);
    w.git(['pack-refs', '--all']);
    await expect(compareAndSwapRef(w.gitdir, 'refs/heads/drafts/app/ws1/deeper', undefined, c)).rejects.toBeInstanceOf(GitConflictError);
    await expect(compareAndSwapRef(w.gitdir, 'refs/heads/drafts/app', undefined, c)).rejects.toBeInstanceOf(GitConflictError);
    fsck(w.gitdir);
  });

  it('rejects names outside refs/heads and refs/tags or with odd segments', async () => {
    const w = repo();
    for (const ref of ['HEAD', 'refs/notes/x', 'refs/heads/../config', 'refs/heads/a//b', 'refs/heads/a.lock'])
      await expect(compareAndSwapRef(w.gitdir, ref, undefined, w.head()!)).rejects.toThrow(/unusual ref name/);
  });
});

describe('writers sharing a repository', () => {
  it('two Repository objects on one git directory never both win a race', async () => {
    const w = repo();
    const a = openGitRepository({ url: w.gitdir, branch: 'main', directory: '', createBranch: false, workDir: tmp.path });
    const b = openGitRepository({ url: `file://${w.gitdir}`, branch: 'main', directory: '', createBranch: false, workDir: tmp.path });
    const ref = 'refs/heads/drafts/app/ws1';
    const results = await Promise.allSettled(
      [a, b, a, b].map((r, i) => r.commitPackage({ ref, packagePath: 'app', resources: packageFiles('app', String(i)), message: `m${i}`, author: { name: 'x', email: 'x@y' }, expectedOld: null })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(GitConflictError);
    fsck(w.gitdir);
  });
});

describe('packRefs', () => {
  const refsOf = (w: PorchRepoWriter) => w.git(['for-each-ref', '--format=%(objectname) %(refname) %(*objectname)']);

  it('moves loose refs into packed-refs as git pack-refs does, keeping every value and peeled tag', async () => {
    const w = repo();
    const merge = w.publish('app', 'ws1', 1);
    w.draft('app', 'ws2');
    w.tag('app/v2', merge, true);
    w.git(['pack-refs', '--all']);
    // Now loose again on top of packed ones: a moved branch, a new annotated and a new plain tag.
    const moved = w.draft('other', 'ws1');
    w.tag('other/v1', moved, true);
    w.tag('plain/v1', moved);
    const before = refsOf(w);
    const loose = (await readdirDeep(join(w.gitdir, 'refs'))).length;
    expect(loose).toBeGreaterThan(2);

    const removed = await packRefs(w.gitdir, async (oid) => w.git(['rev-parse', `${oid}^{commit}`]));
    expect(removed).toBe(loose);
    expect(await readdirDeep(join(w.gitdir, 'refs'))).toEqual([]);
    expect(refsOf(w)).toBe(before);
    const text = readFileSync(join(w.gitdir, 'packed-refs'), 'utf8');
    expect(text.startsWith('# pack-refs with: peeled fully-peeled sorted \n')).toBe(true);
    // git reads the peeled lines we wrote as its own: each annotated tag peels to its commit.
    expect(text).toContain(`${w.git(['rev-parse', 'refs/tags/other/v1'])} refs/tags/other/v1\n^${moved}\n`);
    expect(w.git(['show-ref', '--dereference', 'refs/tags/app/v2'])).toContain(`${merge} refs/tags/app/v2^{}`);
    fsck(w.gitdir);
  });

  it('leaves a ref that is being written loose, and the listing sees every ref after packing', async () => {
    const w = repo();
    w.publish('app', 'ws1', 1);
    const draft = w.draft('app', 'ws2');
    writeFileSync(join(w.gitdir, 'refs/heads/drafts/app/ws2.lock'), `${w.head()}\n`);
    await packRefs(w.gitdir, async (oid) => w.git(['rev-parse', `${oid}^{commit}`]));
    expect(existsSync(join(w.gitdir, 'refs/heads/drafts/app/ws2'))).toBe(true);
    expect(w.resolve('refs/heads/drafts/app/ws2')).toBe(draft);
    rmSync(join(w.gitdir, 'refs/heads/drafts/app/ws2.lock'));

    const r = openGitRepository({ url: w.gitdir, branch: 'main', directory: '', createBranch: false, workDir: join(tmp.path, `work${n}`) });
    await r.open();
    const names = (await r.listRevisions()).revisions.map((x) => `${x.kind} ${x.ref}`).sort();
    expect(names).toEqual(['draft refs/heads/drafts/app/ws2', 'placeholder refs/heads/main', 'published refs/tags/app/v1']);
    await r.close();
  });

  it('is done by the listing once loose refs pile up, with nothing lost', async () => {
    // One fast-import run writes every ref loose: 300 drafts plus main, past the listing's limit.
    const w = new PorchRepoWriter(join(tmp.path, `refs${++n}.git`));
    bulkPorchRepo(w.gitdir, { packages: 300, revisions: 0, drafts: 300, looseRefs: true });
    expect((await readdirDeep(join(w.gitdir, 'refs'))).length).toBe(301);
    const before = refsOf(w);
    const r = openGitRepository({ url: w.gitdir, branch: 'main', directory: '', createBranch: false, workDir: join(tmp.path, `work${n}`) });
    await r.open();
    const first = await r.listRevisions();
    expect(first.revisions.filter((x) => x.kind === 'draft')).toHaveLength(300);
    expect((await readdirDeep(join(w.gitdir, 'refs'))).length).toBeLessThan(10);
    expect(refsOf(w)).toBe(before);
    const again = await r.listRevisions(new Map(first.revisions.map((x) => [x.ref, x])));
    expect(again.revisions.map((x) => x.ref).sort()).toEqual(first.revisions.map((x) => x.ref).sort());
    await r.close();
    fsck(w.gitdir);
  });
});

async function readdirDeep(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await readdirDeep(p)));
    else out.push(p);
  }
  return out;
}
