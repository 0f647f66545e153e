import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectReader } from '../../../lib/git/object-reader.ts';
import { createBareRepo, git, tempDir } from '../../support/git-fixtures.ts';

// Whether objects are stored, as a fetch asks before deciding what to fetch: from the pack indexes and
// the loose object files, nothing inflated.

const tmp = tempDir('porch-object-presence-');
afterAll(() => tmp.remove());

const write = (gitdir: string, text: string) => git(gitdir, ['hash-object', '-w', '--stdin'], { input: text });

describe('ObjectReader.has', () => {
  it('finds packed and loose objects, and not absent ones', () => {
    const gitdir = createBareRepo(join(tmp.path, 'mixed.git'));
    const packed = write(gitdir, 'packed\n');
    git(gitdir, ['repack', '-adq']);
    git(gitdir, ['prune-packed']);
    const loose = write(gitdir, 'loose\n');
    const reader = new ObjectReader(gitdir);
    expect(reader.has(packed)).toBe(true);
    expect(reader.has(loose)).toBe(true);
    expect(reader.has('0'.repeat(40))).toBe(false);
    expect(reader.has('not an id')).toBeUndefined();
  });

  it('sees objects written since it last looked once asked to look again', () => {
    const gitdir = createBareRepo(join(tmp.path, 'later.git'));
    const reader = new ObjectReader(gitdir);
    // An empty object store: the first question lists it (no pack, no loose directory).
    expect(reader.has('1'.repeat(40))).toBe(false);
    const loose = write(gitdir, 'written later\n');
    expect(reader.has(loose, true)).toBe(true);
    const another = write(gitdir, 'and another\n');
    git(gitdir, ['repack', '-adq']);
    expect(reader.has(another, true)).toBe(true);
  });
});
