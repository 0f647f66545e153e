import { describe, expect, it } from 'vitest';
import { deletionProposedRef, draftRef, parseRef, proposedRef, publishedTag } from '../../../lib/git/refs.ts';
import { trimSlashes as normaliseDirectory } from '../../../lib/util.ts';

describe('ref names', () => {
  it('lays refs out as Porch does, with and without a directory', () => {
    expect(draftRef('', 'net/basens', 'ws1')).toBe('refs/heads/drafts/net/basens/ws1');
    expect(proposedRef('', 'app', 'ws1')).toBe('refs/heads/proposed/app/ws1');
    expect(publishedTag('', 'net/basens', 3)).toBe('refs/tags/net/basens/v3');
    expect(deletionProposedRef('', 'app', 2)).toBe('refs/heads/deletionProposed/app/v2');
    expect(draftRef('blueprints', 'app', 'ws')).toBe('refs/heads/drafts/blueprints/app/ws');
    expect(publishedTag('a/b', 'app', 1)).toBe('refs/tags/a/b/app/v1');
    expect(deletionProposedRef('a', 'x/y', 7)).toBe('refs/heads/deletionProposed/a/x/y/v7');
    // Porch marks the branch placeholder and tags not named vN after their workspace.
    expect(deletionProposedRef('', 'app', 'main')).toBe('refs/heads/deletionProposed/app/main');
  });

  it('normalises the Repository directory', () => {
    expect(normaliseDirectory('/')).toBe('');
    expect(normaliseDirectory('')).toBe('');
    expect(normaliseDirectory('/a/b/')).toBe('a/b');
  });

  it('parses every kind back', () => {
    expect(parseRef('', 'refs/heads/drafts/net/basens/ws1')).toEqual({ kind: 'draft', packagePath: 'net/basens', workspace: 'ws1' });
    expect(parseRef('', 'refs/heads/proposed/app/ws2')).toEqual({ kind: 'proposed', packagePath: 'app', workspace: 'ws2' });
    expect(parseRef('', 'refs/tags/net/basens/v12')).toEqual({ kind: 'published', packagePath: 'net/basens', revision: 12, name: 'v12' });
    expect(parseRef('', 'refs/heads/deletionProposed/app/v2')).toEqual({ kind: 'deletionProposed', packagePath: 'app', revision: 2, name: 'v2' });
    expect(parseRef('dir', 'refs/tags/dir/app/v1')).toEqual({ kind: 'published', packagePath: 'app', revision: 1, name: 'v1' });
    expect(parseRef('dir', 'refs/heads/drafts/dir/x/y/ws')).toEqual({ kind: 'draft', packagePath: 'x/y', workspace: 'ws' });
  });

  it('parses tags not named vN as revision -1 named after the tag, as Porch lists them', () => {
    expect(parseRef('', 'refs/tags/workloads/oai/pkg-example-du-bp/v2.0.0')).toEqual({
      kind: 'published',
      packagePath: 'workloads/oai/pkg-example-du-bp',
      revision: -1,
      name: 'v2.0.0',
    });
    expect(parseRef('', 'refs/tags/app/latest')).toEqual({ kind: 'published', packagePath: 'app', revision: -1, name: 'latest' });
    expect(parseRef('', 'refs/heads/deletionProposed/app/main')).toEqual({ kind: 'deletionProposed', packagePath: 'app', revision: -1, name: 'main' });
    // Names that cannot end a PackageRevision name are not revisions.
    expect(parseRef('', 'refs/tags/app/Release_1')).toBeUndefined();
    expect(parseRef('', 'refs/tags/app/-x')).toBeUndefined();
  });

  it('ignores refs that are not package revisions, or outside the directory', () => {
    expect(parseRef('', 'refs/tags/v1')).toBeUndefined();
    expect(parseRef('', 'refs/tags/app/v0')).toBeUndefined();
    expect(parseRef('', 'refs/heads/main')).toBeUndefined();
    expect(parseRef('', 'refs/heads/drafts/ws-only')).toBeUndefined();
    expect(parseRef('', 'refs/remotes/origin/drafts/app/ws')).toBeUndefined();
    expect(parseRef('dir', 'refs/tags/other/app/v1')).toBeUndefined();
    expect(parseRef('dir', 'refs/tags/directory/app/v1')).toBeUndefined();
    expect(parseRef('dir', 'refs/heads/drafts/other/app/ws')).toBeUndefined();
    expect(parseRef('dir', 'refs/tags/dir/v1')).toBeUndefined();
  });
});
