import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitBody, deleteRef, readRef, treeBody, writeObject, writeRef, type TreeEntry } from '../../support/git-objects.ts';
import { createBareRepo, fsck, git, tempDir } from '../../support/git-fixtures.ts';

// The fixtures write git objects and refs in-process: they must be the very objects git's own plumbing
// writes for the same input, or tests would read repositories no Porch (nor git) could have left.

describe('fixture objects written in-process', () => {
  const tmp = tempDir('porch-fixture-objects-');
  afterAll(() => tmp.remove());
  const gitdir = createBareRepo(join(tmp.path, 'r.git'));

  it('hashes blobs, trees and commits as hash-object, mktree and commit-tree do', () => {
    const blob = (s: string) => writeObject(gitdir, 'blob', Buffer.from(s));
    for (const s of ['', 'x', 'ünïcode\n', 'no newline']) expect(blob(s)).toBe(git(gitdir, ['hash-object', '--stdin'], { input: s }));
    const sub = writeObject(gitdir, 'tree', treeBody([{ mode: '100644', type: 'blob', oid: blob('c'), name: 'c.yaml' }]));
    // Names that sort differently as bytes, as directories ("a/" after "a-b" and "a.b") and as files.
    const entries: TreeEntry[] = [
      { mode: '100644', type: 'blob', oid: blob('1'), name: 'a.b' },
      { mode: '040000', type: 'tree', oid: sub, name: 'a' },
      { mode: '100644', type: 'blob', oid: blob('2'), name: 'a-b' },
      { mode: '100755', type: 'blob', oid: blob('3'), name: 'Z' },
      { mode: '100644', type: 'blob', oid: blob('4'), name: 'ü' },
      { mode: '040000', type: 'tree', oid: sub, name: 'b' },
    ];
    const tree = writeObject(gitdir, 'tree', treeBody(entries));
    expect(tree).toBe(git(gitdir, ['mktree'], { input: entries.map((e) => `${e.mode} ${e.type} ${e.oid}\t${e.name}\n`).join('') }));
    const author = { name: 'Some One', email: 'some@one.example' };
    const committer = { name: 'Package Orchestration Service', email: 'porch@kpt.dev' };
    for (const message of ['headline\n\n\nkpt:{"package":"p"}\n', 'no final newline']) {
      const parents = [git(gitdir, ['commit-tree', tree], { input: 'root\n', env: { GIT_AUTHOR_DATE: '1700000000 +0000', GIT_COMMITTER_DATE: '1700000000 +0000' } })];
      const ours = writeObject(gitdir, 'commit', commitBody({ tree, parents, author, committer, date: '1700000060 +0000', message }));
      const env = { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_COMMITTER_NAME: committer.name, GIT_COMMITTER_EMAIL: committer.email, GIT_AUTHOR_DATE: '1700000060 +0000', GIT_COMMITTER_DATE: '1700000060 +0000' };
      expect(ours).toBe(git(gitdir, ['commit-tree', tree, '-p', parents[0]], { input: message, env }));
    }
    fsck(gitdir);
  });

  it('writes, reads and deletes refs loose and packed, as update-ref does', () => {
    const c = git(gitdir, ['commit-tree', git(gitdir, ['mktree'], { input: '' })], { input: 'empty\n' });
    writeRef(gitdir, 'refs/heads/drafts/a/b/ws', c);
    writeRef(gitdir, 'refs/tags/a/v1', c);
    expect(git(gitdir, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads/drafts', 'refs/tags/a'])).toBe(`${c} refs/heads/drafts/a/b/ws\n${c} refs/tags/a/v1`);
    git(gitdir, ['pack-refs', '--all']);
    expect(readRef(gitdir, 'refs/tags/a/v1')).toBe(c);
    deleteRef(gitdir, 'refs/tags/a/v1');
    deleteRef(gitdir, 'refs/heads/drafts/a/b/ws');
    expect(readRef(gitdir, 'refs/tags/a/v1')).toBeUndefined();
    expect(git(gitdir, ['for-each-ref', 'refs/heads/drafts', 'refs/tags/a'])).toBe('');
    // A ref may now be written where the deleted one's directories were.
    writeRef(gitdir, 'refs/heads/drafts/a', c);
    expect(git(gitdir, ['rev-parse', 'refs/heads/drafts/a'])).toBe(c);
  });
});
