import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseRef } from '../../lib/git/refs.ts';
import { git, gitWithInput } from './fixture.ts';

// Baselines measured in the same run as the server's figures: what plain git (CLI) or plain Node
// needs for the same work.

const execFileP = promisify(execFile);
const ENV = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };

async function gitOut(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileP('git', args, { cwd, env: ENV, maxBuffer: 1 << 30, encoding: 'utf8' });
  return stdout;
}

/** Count the objects in `git cat-file --batch` output (and check every one was found). */
function countBatch(out: Buffer): number {
  let pos = 0;
  let n = 0;
  while (pos < out.length) {
    const nl = out.indexOf(10, pos);
    const header = out.toString('utf8', pos, nl);
    if (header.endsWith(' missing')) throw new Error(`cat-file: ${header}`);
    const size = Number(header.split(' ')[2]);
    pos = nl + 1 + size + 1;
    n++;
  }
  return n;
}

/**
 * Cold-load baseline: list refs with `git for-each-ref`, find the packages on main with `git ls-tree`,
 * and read every revision's Kptfile (tags, drafts, and main's copy of every package) through one
 * `git cat-file --batch`. Returns the number of Kptfiles read.
 */
export async function gitListAndReadKptfiles(bare: string): Promise<number> {
  const refs = await gitOut(bare, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags']);
  const wanted: string[] = [];
  for (const line of refs.split('\n')) {
    if (!line) continue;
    const ref = line.slice(41);
    const parsed = parseRef('', ref);
    if (!parsed || parsed.kind === 'deletionProposed') continue;
    wanted.push(`${ref}:${parsed.packagePath}/Kptfile`);
  }
  const tree = await gitOut(bare, ['ls-tree', '-r', '--name-only', 'refs/heads/main']);
  for (const path of tree.split('\n')) if (path.endsWith('/Kptfile')) wanted.push(`refs/heads/main:${path}`);
  const out = await gitWithInput(bare, ['cat-file', '--batch'], wanted.join('\n') + '\n');
  return countBatch(out);
}

/** Incremental-sync baseline: list refs and read the one new tag's Kptfile. */
export async function gitNoticeNewTag(bare: string, tag: string, pkg: string): Promise<void> {
  const refs = await gitOut(bare, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags']);
  if (!refs.includes(` ${tag}\n`)) throw new Error(`${tag} not found`);
  const out = await gitWithInput(bare, ['cat-file', '--batch'], `${tag}:${pkg}/Kptfile\n`);
  if (countBatch(out) !== 1) throw new Error('Kptfile not read');
}

/**
 * Lifecycle baseline: the git writes of create draft + update resources + propose + approve done with
 * git plumbing (a temporary index per package): blobs, trees and commits, then the ref moves.
 */
export async function gitLifecycle(bare: string, pkg: string, files: Record<string, string>, extra: [string, string]): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'porch-bench-git-'));
  try {
    const env = { ...ENV, GIT_INDEX_FILE: join(tmp, 'index') };
    const run = async (args: string[], input?: string): Promise<string> => {
      if (input === undefined) return (await execFileP('git', args, { cwd: bare, env, encoding: 'utf8' })).stdout.trim();
      return (await gitWithInputEnv(bare, args, input, env)).trim();
    };
    const names = Object.keys(files);
    await Promise.all(names.map((n, i) => writeFile(join(tmp, `f${i}`), files[n])));
    await writeFile(join(tmp, 'extra'), extra[1]);
    const draftRef = `refs/heads/drafts/${pkg}/v1`;
    const proposedRef = `refs/heads/proposed/${pkg}/v1`;
    // create
    const head = await run(['rev-parse', 'refs/heads/main']);
    await run(['read-tree', head]);
    const oids = (await run(['hash-object', '-w', ...names.map((_, i) => join(tmp, `f${i}`))])).split('\n');
    await run(['update-index', '--add', ...names.flatMap((n, i) => ['--cacheinfo', `100644,${oids[i]},${pkg}/${n}`])]);
    const t1 = await run(['write-tree']);
    const c1 = await run(['commit-tree', t1, '-p', head, '-m', `Creating new empty revision\n\nkpt:{"package":"${pkg}"}`]);
    await run(['update-ref', draftRef, c1, '']);
    // update resources
    const x = await run(['hash-object', '-w', join(tmp, 'extra')]);
    await run(['update-index', '--add', '--cacheinfo', `100644,${x},${pkg}/${extra[0]}`]);
    const t2 = await run(['write-tree']);
    const c2 = await run(['commit-tree', t2, '-p', c1, '-m', `Intermediate commit\n\nkpt:{"package":"${pkg}"}`]);
    await run(['update-ref', draftRef, c2, c1]);
    // propose
    await run(['update-ref', '--stdin'], `create ${proposedRef} ${c2}\ndelete ${draftRef} ${c2}\n`);
    // approve: merge onto main (which did not move), tag, drop the proposed branch
    const m = await run(['commit-tree', t2, '-p', head, '-p', c2, '-m', `Approving package revision ${pkg}/1`]);
    await run(['update-ref', '--stdin'], `update refs/heads/main ${m} ${head}\ncreate refs/tags/${pkg}/v1 ${m}\ndelete ${proposedRef} ${c2}\n`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function gitWithInputEnv(cwd: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { cwd, env, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin?.end(input);
  });
}

/** A copy of a bare repository, so baseline writes never touch what the server serves. */
export function copyRepo(bare: string, to: string): string {
  git('/', 'clone', '-q', '--bare', '--no-local', bare, to);
  return to;
}

/**
 * Fan-out baseline: a bare node:http server holding `n` chunked responses and writing one prepared
 * frame to each; the same client-side measurement as for the real server's watches.
 */
export class RawFanout {
  private readonly responses = new Set<http.ServerResponse>();
  private readonly server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache' });
    res.flushHeaders();
    this.responses.add(res);
    req.on('close', () => this.responses.delete(res));
  });
  url = '';

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1', 1024);
    await new Promise<void>((r) => this.server.once('listening', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get size(): number {
    return this.responses.size;
  }

  broadcast(frame: Buffer): void {
    for (const r of this.responses) r.write(frame);
  }

  async stop(): Promise<void> {
    for (const r of this.responses) r.end();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
