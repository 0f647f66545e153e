import { describe, expect, it } from 'vitest';
import { fileDirectoryClashes, isGitDirName, packagePathProblems, unsafePathProblem } from '../../lib/api/safe-path.ts';
import { cpuTimed } from '../support/cpu-time.ts';

// The names git refuses to check out are refused as package file paths, whatever their spelling.

describe('package file paths', () => {
  it.each([
    '.git/config',
    '.GIT/config',
    'x/.Git/hooks/post-checkout',
    '.git./config',
    '.git /config',
    '.git.. . /x',
    'git~1/config',
    'GIT~2/x',
    'a/.git::$INDEX_ALLOCATION/x',
    '.g\u200cit/config',
    '\ufeff.git/config',
    '.git',
    '../../x',
    '/etc/passwd',
    'a/../../b',
    'a//b',
    './x',
    'dir/',
    'a\\..\\b',
    '..',
    '.',
    '',
    'a\u0000b',
    'a\nb.yaml',
    'tab\there',
    'del\u007f',
    'x'.repeat(5000),
  ])('refuses %j', (path) => {
    expect(unsafePathProblem(path)).toBeTypeOf('string');
  });

  it.each(['Kptfile', 'a/b/c.yaml', '.gitignore', '.github/workflows/x.yaml', 'x.git', 'git', '.gitkeep', 'my.git.yaml', 'git~0', 'git~10', '...x', 'ünïcode.yaml', 'a b.yaml'])('accepts %j', (path) => {
    expect(unsafePathProblem(path)).toBeUndefined();
  });

  it('knows the spellings of .git', () => {
    expect(['.git', '.GiT', '.git.', '.git  ', 'git~1', '.git:x', '.gi\u200dt'].every(isGitDirName)).toBe(true);
    expect(['.gitx', 'git', '.git-', 'x.git', 'git~'].some(isGitDirName)).toBe(false);
  });

  it('finds a path that is both a file and a directory', () => {
    expect(fileDirectoryClashes(['Kptfile', 'Kptfile/x', 'a-b', 'a/c', 'a', 'a/d/e'])).toEqual([
      ['Kptfile', 'Kptfile/x'],
      ['a', 'a/c'],
      ['a', 'a/d/e'],
    ]);
    expect(fileDirectoryClashes(['a/b', 'a/c', 'a-b', 'ab/c'])).toEqual([]);
  });

  it('names every offending path once per problem', () => {
    expect(packagePathProblems(['Kptfile', 'Kptfile/x', '.GIT/config']).map((p) => p.path)).toEqual(['.GIT/config', 'Kptfile']);
  });

  it('checks a deep path in time linear in its length', () => {
    const deep = Array.from({ length: 2000 }, (_, i) => `d${i}`).join('/');
    const paths = Array.from({ length: 2000 }, (_, i) => `${deep}/f${i}`);
    const { ms, value } = cpuTimed(() => fileDirectoryClashes(paths));
    expect(value).toEqual([]);
    expect(ms).toBeLessThan(5000);
  });
});
