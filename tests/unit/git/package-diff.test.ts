import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findPackagesSince } from '../../../lib/git/package-diff.ts';
import { TreeIO } from '../../../lib/git/tree.ts';
import { git, kptfile, tempDir } from '../../support/git-fixtures.ts';

const tmp = tempDir();
afterAll(() => tmp.remove());

/** A work tree whose successive commits' root trees the incremental search is checked against. */
function workTree(): { write(path: string, text: string): void; remove(path: string): void; commit(): string; gitdir: string } {
  const dir = join(tmp.path, 'wt');
  git(tmp.path, ['init', '-q', '-b', 'main', dir]);
  return {
    gitdir: join(dir, '.git'),
    write(path, text) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    },
    remove(path) {
      rmSync(join(dir, path), { recursive: true, force: true });
    },
    commit() {
      git(dir, ['add', '-A']);
      git(dir, ['commit', '-q', '--allow-empty', '-m', 'step']);
      return git(dir, ['rev-parse', 'HEAD^{tree}']);
    },
  };
}

describe('findPackagesSince', () => {
  it('finds, after each change, the same packages in the same order as a full search', async () => {
    const w = workTree();
    w.write('README.md', '# r\n');
    for (const p of ['a/one', 'a/two', 'b', 'c-d/x/three', 'c/four']) w.write(`${p}/Kptfile`, kptfile(p.split('/').pop()!));
    w.write('c/four/sub/Kptfile', kptfile('nested'));
    const steps: ((w: ReturnType<typeof workTree>) => void)[] = [
      (t) => t.write('a/two/cm.yaml', 'a: 1\n'),
      (t) => t.write('a/one/Kptfile', kptfile('one', 'changed')),
      (t) => t.write('a-b/Kptfile', kptfile('a-b')),
      (t) => t.remove('c-d'),
      (t) => t.write('c/five/Kptfile', kptfile('five')),
      (t) => t.remove('b/Kptfile'),
      () => undefined,
    ];
    const io = new TreeIO(w.gitdir);
    let root = w.commit();
    let found = await io.findPackages(root);
    for (const step of steps) {
      step(w);
      const next = w.commit();
      const incremental = await findPackagesSince(io, next, { root, found });
      const full = await io.findPackages(next);
      expect([...incremental]).toEqual([...full]);
      root = next;
      found = incremental;
    }
    expect([...found.keys()]).toEqual(['a/one', 'a/two', 'a-b', 'c/five', 'c/four']);
    io.close();
  });
});
