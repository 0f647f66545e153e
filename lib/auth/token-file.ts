import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { UserInfo } from './user.ts';
import type { TokenAuthenticator } from './bearer-token.ts';
import { CsvError, parseCsv } from './csv.ts';

/** One usable line of a tokens file. */
export interface TokenEntry {
  token: string;
  user: UserInfo;
  line: number;
}

export interface TokenFileParse {
  entries: TokenEntry[];
  /** Lines kube-apiserver would also accept but log about: empty tokens (skipped), repeated tokens (last wins). */
  warnings: string[];
}

/**
 * kube-apiserver's --token-auth-file format: `token,user,uid[,"group1,group2"]`, at least three
 * columns, groups in one (usually quoted) column. Lines starting with `#` are skipped, which
 * kube-apiserver itself does not do, so that files can carry notes.
 */
export function parseTokenFile(text: string, source = 'token file'): TokenFileParse {
  let records;
  try {
    records = parseCsv(text, { comment: '#' });
  } catch (err) {
    if (err instanceof CsvError) throw new Error(`${source}: ${err.message}`);
    throw err;
  }
  const byToken = new Map<string, TokenEntry>();
  const warnings: string[] = [];
  for (const { line, fields } of records) {
    if (fields.length < 3)
      throw new Error(`${source}: line ${line}: must have at least 3 columns (token, user name, user uid), found ${fields.length}`);
    const [token, username, uid, groups] = fields;
    if (token === '') {
      warnings.push(`${source}: line ${line}: empty token skipped`);
      continue;
    }
    if (byToken.has(token)) warnings.push(`${source}: line ${line}: duplicate token, this line replaces line ${byToken.get(token)?.line}`);
    const user: UserInfo = { username, groups: groups === undefined ? [] : groups.split(',').filter((g) => g !== '') };
    if (uid !== '') user.uid = uid;
    byToken.set(token, { token, user, line });
  }
  return { entries: [...byToken.values()], warnings };
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Tokens from a --token-auth-file. Looked up by digest so the comparison time depends on a hash of
 * the presented token, not on how much of a real token it shares.
 */
export class TokenFileAuthenticator implements TokenAuthenticator {
  private users = new Map<string, UserInfo>();
  warnings: string[] = [];

  constructor(
    entries: TokenEntry[] = [],
    private readonly path?: string,
  ) {
    this.set(entries);
  }

  static async fromFile(path: string): Promise<TokenFileAuthenticator> {
    const a = new TokenFileAuthenticator([], path);
    await a.reload();
    return a;
  }

  static fromText(text: string, source?: string): TokenFileAuthenticator {
    const parsed = parseTokenFile(text, source);
    const a = new TokenFileAuthenticator(parsed.entries);
    a.warnings = parsed.warnings;
    return a;
  }

  /** Re-reads the file; a file that no longer parses leaves the old tokens in force. */
  async reload(): Promise<void> {
    if (!this.path) throw new Error('token authenticator was not loaded from a file');
    const parsed = parseTokenFile(await readFile(this.path, 'utf8'), this.path);
    this.set(parsed.entries);
    this.warnings = parsed.warnings;
  }

  private set(entries: TokenEntry[]): void {
    this.users = new Map(entries.map((e) => [digest(e.token), e.user]));
  }

  get size(): number {
    return this.users.size;
  }

  async authenticateToken(token: string): Promise<UserInfo | undefined> {
    const user = this.users.get(digest(token));
    return user ? { ...user, groups: [...user.groups] } : undefined;
  }
}
