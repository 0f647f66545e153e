import { gitFs } from './atomic-fs.ts';
import git from 'isomorphic-git';

// Commits are rendered here rather than through isomorphic-git's writeCommit because that one
// normalises the message (exactly one trailing newline). Porch writes some messages without one
// ("Initial commit: Creating main branch", "Delete <path>"), and commit ids should not depend on
// which implementation wrote them.

export interface Identity {
  name: string;
  email: string;
}

export const PORCH_IDENTITY: Identity = { name: 'Package Orchestration Service', email: 'porch@kpt.dev' };

/** Git refuses these inside an identity; it strips them the same way. */
function clean(s: string): string {
  return s.replace(/[<>\n\r\0]/g, '').trim();
}

function signature(who: Identity, seconds: number, offsetMinutes: number): string {
  // Date#getTimezoneOffset is minutes *behind* UTC; git writes minutes ahead as ±HHMM.
  const ahead = -offsetMinutes;
  const sign = ahead < 0 ? '-' : '+';
  const abs = Math.abs(ahead);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${clean(who.name)} <${clean(who.email)}> ${seconds} ${tz}`;
}

export interface NewCommit {
  tree: string;
  parents: readonly string[];
  author: Identity;
  committer?: Identity;
  message: string;
  /** Seconds since the epoch; now when omitted. */
  timestamp?: number;
}

export async function writeCommit(gitdir: string, c: NewCommit): Promise<string> {
  const now = new Date();
  const seconds = c.timestamp ?? Math.floor(now.getTime() / 1000);
  const offset = now.getTimezoneOffset();
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`)];
  lines.push(`author ${signature(c.author, seconds, offset)}`);
  lines.push(`committer ${signature(c.committer ?? PORCH_IDENTITY, seconds, offset)}`);
  const body = `${lines.join('\n')}\n\n${c.message}`;
  return git.writeObject({ fs: gitFs, gitdir, type: 'commit', format: 'content', object: Buffer.from(body, 'utf8') });
}
