import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../lib/auth/csv.ts';
import { StaticTokenAuthenticator } from '../../../lib/auth/static-tokens.ts';
import { parseTokenFile, TokenFileAuthenticator } from '../../../lib/auth/token-file.ts';

describe('CSV as Go reads it', () => {
  it('handles quotes, doubled quotes, quoted newlines, CRLF and blank lines', () => {
    const text = 'a,"b,c",d\r\n\r\n"x""y",,"multi\nline"\nlast';
    expect(parseCsv(text).map((r) => r.fields)).toEqual([
      ['a', 'b,c', 'd'],
      ['x"y', '', 'multi\nline'],
      ['last'],
    ]);
  });

  it('reports the line of a bare or stray quote', () => {
    expect(() => parseCsv('ok,1\nbad"field,2')).toThrow(/line 2: bare " in non-quoted-field/);
    expect(() => parseCsv('"open,1')).toThrow(/line 1: extraneous or missing "/);
    expect(() => parseCsv('"a"b,1')).toThrow(/extraneous or missing "/);
  });
});

describe('token file', () => {
  const FILE = [
    '# token,user,uid,groups',
    'abc123,alice,u-1,"porch-authors,team-a"',
    'def456,bob,,',
    'ghi789,carol,u-3',
    '  spaced ,dave,u-4,admins',
    'jkl,erin,u-5,"single"',
    ',nobody,u-6',
    '',
  ].join('\n');

  it('parses kube-apiserver --token-auth-file lines', () => {
    const { entries, warnings } = parseTokenFile(FILE, 'tokens.csv');
    expect(entries.map((e) => [e.token, e.user])).toEqual([
      ['abc123', { username: 'alice', uid: 'u-1', groups: ['porch-authors', 'team-a'] }],
      ['def456', { username: 'bob', groups: [] }],
      ['ghi789', { username: 'carol', uid: 'u-3', groups: [] }],
      // Go's reader keeps spaces around unquoted fields, so the token really is " spaced ".
      ['  spaced ', { username: 'dave', uid: 'u-4', groups: ['admins'] }],
      ['jkl', { username: 'erin', uid: 'u-5', groups: ['single'] }],
    ]);
    expect(warnings).toEqual(['tokens.csv: line 7: empty token skipped']);
  });

  it('needs token, user and uid columns', () => {
    expect(() => parseTokenFile('tok,user\n', 'tokens.csv')).toThrow('tokens.csv: line 1: must have at least 3 columns (token, user name, user uid), found 2');
  });

  it('a repeated token: the later line wins, with a warning', () => {
    const { entries, warnings } = parseTokenFile('t,first,1\nt,second,2\n');
    expect(entries).toHaveLength(1);
    expect(entries[0].user.username).toBe('second');
    expect(warnings[0]).toMatch(/line 2: duplicate token/);
  });

  it('authenticates known tokens and has no opinion on others', async () => {
    const a = TokenFileAuthenticator.fromText(FILE);
    expect(a.size).toBe(5);
    expect(await a.authenticateToken('abc123')).toEqual({ username: 'alice', uid: 'u-1', groups: ['porch-authors', 'team-a'] });
    expect(await a.authenticateToken('abc1234')).toBeUndefined();
    expect(await a.authenticateToken('')).toBeUndefined();
  });

  it('reloads from its file and keeps the old tokens when the file breaks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tokens-'));
    try {
      const path = join(dir, 'tokens.csv');
      await writeFile(path, 'one,alice,1\n');
      const a = await TokenFileAuthenticator.fromFile(path);
      expect((await a.authenticateToken('one'))?.username).toBe('alice');
      await writeFile(path, 'two,bob,2\n');
      await a.reload();
      expect(await a.authenticateToken('one')).toBeUndefined();
      expect((await a.authenticateToken('two'))?.username).toBe('bob');
      await writeFile(path, 'broken"line,x,y\n');
      await expect(a.reload()).rejects.toThrow(/bare "/);
      expect((await a.authenticateToken('two'))?.username).toBe('bob');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the static token authenticator also serves as a token source', async () => {
    const s = new StaticTokenAuthenticator(new Map([['tok', { username: 'admin', groups: ['system:masters'] }]]));
    expect(await s.authenticateToken('tok')).toEqual({ username: 'admin', groups: ['system:masters'] });
    expect(await s.authenticateToken('nope')).toBeUndefined();
  });
});
