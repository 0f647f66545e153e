import { describe, expect, it } from 'vitest';
import {
  approvalCommitMessage,
  commitHeadline,
  deleteCommitMessage,
  draftCommitMessage,
  formatCommitMessage,
  formatTrailer,
  parseTrailer,
  parseTrailers,
} from '../../../lib/git/trailer.ts';

describe('kpt commit annotations', () => {
  it('writes the annotation as Go would: field order, omitempty, HTML-safe escaping', () => {
    expect(formatTrailer({ package: 'net/basens', workspaceName: 'ws1', revision: '0', task: { type: 'init', init: { description: 'a <b> & c' } } })).toBe(
      'kpt:{"package":"net/basens","workspaceName":"ws1","revision":"0","task":{"type":"init","init":{"description":"a \\u003cb\\u003e \\u0026 c"}}}',
    );
    expect(formatTrailer({ package: 'app', workspaceName: '', revision: '' })).toBe('kpt:{"package":"app"}');
  });

  it('formats messages exactly like Porch', () => {
    const t = { package: 'app', workspaceName: 'ws1', revision: '0', task: { type: 'clone', clone: {} } };
    expect(formatCommitMessage('Headline', t)).toBe('Headline\n\nkpt:{"package":"app","workspaceName":"ws1","revision":"0","task":{"type":"clone","clone":{}}}\n');
    expect(draftCommitMessage(t)).toBe('Creating new revision by cloning\n\n\nkpt:{"package":"app","workspaceName":"ws1","revision":"0","task":{"type":"clone","clone":{}}}\n');
    expect(draftCommitMessage({ package: 'app', workspaceName: 'ws1', revision: '0' })).toBe('Intermediate commit\n\n\nkpt:{"package":"app","workspaceName":"ws1","revision":"0"}\n');
    expect(approvalCommitMessage('dir/app', 3, 'ws1')).toBe('Approving package revision dir/app/3\n\nkpt:{"package":"dir/app","workspaceName":"ws1","revision":"3"}\n');
    expect(deleteCommitMessage('dir/app')).toBe('Delete dir/app');
  });

  it('names draft commits after the task', () => {
    expect(commitHeadline('init')).toBe('Creating new empty revision');
    expect(commitHeadline('clone')).toBe('Creating new revision by cloning');
    expect(commitHeadline('edit')).toBe('Creating new revision by copying previous revision');
    expect(commitHeadline('upgrade')).toBe('Upgrading revision');
    expect(commitHeadline('render')).toBe('Rendering package');
    expect(commitHeadline('')).toBe('Intermediate commit');
    expect(commitHeadline(undefined)).toBe('Intermediate commit');
    expect(commitHeadline('patch')).toBe('Intermediate commit: patch');
  });

  it('parses what it writes, and what Porch writes', () => {
    const t = { package: 'a/b', workspaceName: 'w', revision: '2', task: { type: 'edit', edit: { sourceRef: { name: 'x' } } } };
    expect(parseTrailer(draftCommitMessage(t))).toEqual(t);
    expect(parseTrailer('Approving package revision a/1\n\nkpt:{"package":"a","workspaceName":"v1","revision":"1"}\n')).toEqual({
      package: 'a',
      workspaceName: 'v1',
      revision: '1',
      task: undefined,
    });
    expect(parseTrailer('x\n\n  kpt:{"package":"a\\u003c"}  \n')).toMatchObject({ package: 'a<', workspaceName: '', revision: '' });
  });

  it('skips malformed annotations and messages without one', () => {
    expect(parseTrailer('Initial commit: Creating main branch')).toBeUndefined();
    expect(parseTrailer('x\n\nkpt:{not json\n')).toBeUndefined();
    expect(parseTrailer('x\n\nkpt:"string"\n')).toBeUndefined();
    const two = 'x\n\nkpt:{"package":"a"}\nkpt:{broken\nkpt:{"package":"b"}\n';
    expect(parseTrailers(two).map((t) => t.package)).toEqual(['a', 'b']);
    expect(parseTrailer(two)?.package).toBe('b');
  });
});
