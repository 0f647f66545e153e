import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gitListAndReadKptfiles } from './baselines.ts';
import { gitWithInput } from './fixture.ts';

// Floors for a repository served over smart HTTP (the test git server: git http-backend), measured in
// the same run as the server's figures. Git runs asynchronously here: the git server answers from
// this very process.

const execFileP = promisify(execFile);
const ENV = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com', GIT_TERMINAL_PROMPT: '0' };

async function gitAsync(cwd: string, args: string[], env: NodeJS.ProcessEnv = ENV): Promise<string> {
  return (await execFileP('git', args, { cwd, env, maxBuffer: 1 << 30, encoding: 'utf8' })).stdout.trim();
}

/** `git clone --mirror` over HTTP, then the Kptfile of every revision read from the mirror; returns the Kptfiles read. */
export async function gitMirrorAndRead(url: string, dest: string): Promise<number> {
  await gitAsync('/', ['clone', '-q', '--mirror', url, dest]);
  return gitListAndReadKptfiles(dest);
}

/** A bare clone of `url` to push from. */
export async function pushSource(url: string, dest: string): Promise<string> {
  await gitAsync('/', ['clone', '-q', '--bare', url, dest]);
  return dest;
}

/**
 * One CLI push of a new commit on main (one new file in a package directory, as an approval adds a
 * package) and a tag at it, from `source` to `url`; returns the milliseconds the push took.
 */
export async function cliPushCommitAndTag(source: string, url: string, pkg: string): Promise<number> {
  const env = { ...ENV, GIT_INDEX_FILE: join(source, 'bench-index') };
  const head = await gitAsync(source, ['rev-parse', 'refs/heads/main'], env);
  await gitAsync(source, ['read-tree', head], env);
  const blob = (await gitWithInput(source, ['hash-object', '-w', '--stdin'], `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${pkg}\n`)).toString('utf8').trim();
  await gitAsync(source, ['update-index', '--add', '--cacheinfo', `100644,${blob},${pkg}/Kptfile`], env);
  const tree = await gitAsync(source, ['write-tree'], env);
  const commit = await gitAsync(source, ['commit-tree', tree, '-p', head, '-m', `Approving package revision ${pkg}/1`], env);
  await gitAsync(source, ['update-ref', 'refs/heads/main', commit, head], env);
  await gitAsync(source, ['update-ref', `refs/tags/${pkg}/v1`, commit], env);
  const t = performance.now();
  await gitAsync(source, ['push', '-q', url, 'refs/heads/main:refs/heads/main', `refs/tags/${pkg}/v1:refs/tags/${pkg}/v1`], env);
  return performance.now() - t;
}
