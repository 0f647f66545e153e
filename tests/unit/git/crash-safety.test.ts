import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleTemporaries } from '../../../lib/git/atomic-fs.ts';
import { compareAndSwapRef, removeStaleLocks, STALE_LOCK_MS } from '../../../lib/git/refstore.ts';
import { openGitRepository } from '../../../lib/git/repository.ts';
import { GitConflictError } from '../../../lib/git/types.ts';
import { fsck, kptfile, PorchRepoWriter, tempDir } from '../../support/git-fixtures.ts';

// What a writer killed mid-write leaves behind, and how the next one gets past it.

const tmp = tempDir();
afterAll(() => tmp.remove());
let n = 0;
const repo = () => PorchRepoWriter.create(join(tmp.path, `crash${++n}.git`));
const age = (path: string, ms: number) => {
  const t = (Date.now() - ms) / 1000;
  utimesSync(path, t, t);
};

describe('crash leftovers in a repository', () => {
  it('rewrites an object whose file a crash left empty, instead of trusting it', async () => {
    const w = repo();
    const r = openGitRepository({ url: w.gitdir, branch: 'main', directory: '', createBranch: false, workDir: join(tmp.path, `w${n}`) });
    await r.open();
    const files = { Kptfile: kptfile('app'), 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n' };
    // The blob this content makes, written by hand as a crash would leave it: an empty file.
    const oid = w.git(['hash-object', '--stdin'], { input: files['cm.yaml'] });
    mkdirSync(join(w.gitdir, 'objects', oid.slice(0, 2)), { recursive: true });
    writeFileSync(join(w.gitdir, 'objects', oid.slice(0, 2), oid.slice(2)), '');
    await r.commitPackage({ ref: 'refs/heads/drafts/app/ws1', packagePath: 'app', resources: files, message: 'm', author: { name: 'a', email: 'a@example.com' }, expectedOld: null });
    expect(statSync(join(w.gitdir, 'objects', oid.slice(0, 2), oid.slice(2))).size).toBeGreaterThan(0);
    fsck(w.gitdir);
    // No temporary file of ours stays next to the objects.
    for (const d of readdirSync(join(w.gitdir, 'objects'))) if (/^[0-9a-f]{2}$/.test(d)) expect(readdirSync(join(w.gitdir, 'objects', d)).filter((f) => f.startsWith('tmp_'))).toEqual([]);
    await r.close();
  });

  it('removes only old temporaries of its own', async () => {
    const w = repo();
    const dir = join(w.gitdir, 'objects', 'ab');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tmp_porch_old_x'), 'x');
    writeFileSync(join(dir, 'tmp_porch_new_x'), 'x');
    writeFileSync(join(dir, 'tmp_obj_gits_own'), 'x');
    age(join(dir, 'tmp_porch_old_x'), 120_000);
    age(join(dir, 'tmp_obj_gits_own'), 120_000);
    expect(await removeStaleTemporaries(w.gitdir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['tmp_obj_gits_own', 'tmp_porch_new_x']);
  });

  it('breaks a ref lock a dead writer left once it is stale, and not before', async () => {
    const w = repo();
    const head = w.head()!;
    const ref = 'refs/heads/drafts/app/ws1';
    const lock = join(w.gitdir, `${ref}.lock`);
    mkdirSync(join(w.gitdir, 'refs/heads/drafts/app'), { recursive: true });
    writeFileSync(lock, `${head}\n`);
    await expect(compareAndSwapRef(w.gitdir, ref, undefined, head)).rejects.toBeInstanceOf(GitConflictError);
    age(lock, STALE_LOCK_MS + 1000);
    await compareAndSwapRef(w.gitdir, ref, undefined, head);
    expect(w.resolve(ref)).toBe(head);
    expect(existsSync(lock)).toBe(false);

    writeFileSync(join(w.gitdir, 'refs/heads/main.lock'), 'x');
    writeFileSync(join(w.gitdir, 'packed-refs.lock'), 'x');
    age(join(w.gitdir, 'packed-refs.lock'), STALE_LOCK_MS + 1000);
    expect(await removeStaleLocks(w.gitdir)).toBe(1);
    expect(existsSync(join(w.gitdir, 'refs/heads/main.lock'))).toBe(true);
    expect(existsSync(join(w.gitdir, 'packed-refs.lock'))).toBe(false);
  });
});
