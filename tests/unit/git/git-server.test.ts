import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FastImport, git, gitAsync, PorchRepoWriter, tempDir } from '../../support/git-fixtures.ts';
import { startGitServer, type GitServer } from '../../support/git-server.ts';

// The test git server itself, driven by the git CLI: clone, push (large enough that git gzips the
// request), auth failures, and stop/restart on the same port.

const tmp = tempDir();
let server: GitServer;

beforeAll(async () => {
  const w = PorchRepoWriter.create(join(tmp.path, 'served.git'));
  w.publish('app', 'ws1', 1);
  // Many refs make the clone's want list big enough for git to gzip the request body: 60 commits on
  // main, each adding d<i>/f.yaml, with branch b<i> on it (one fast-import run).
  const stream = new FastImport();
  let tip: number | string = w.head()!;
  for (let i = 0; i < 60; i++) {
    tip = stream.commit('refs/heads/main', `c${i}`, { from: tip, files: { [`d${i}/f.yaml`]: `i: ${i}\n` } });
    stream.reset(`refs/heads/b${i}`, tip);
  }
  stream.run(w.gitdir);
  server = await startGitServer({ root: tmp.path, username: 'u', password: 'p w' });
});

afterAll(async () => {
  await server.stop();
  tmp.remove();
});

function authed(): string {
  return server.url.replace('http://', 'http://u:p%20w@');
}

describe('git server for tests', () => {
  it('serves clone and push to the git CLI', async () => {
    const clone = join(tmp.path, 'clone');
    await gitAsync(tmp.path, ['clone', '-q', `${authed()}/served.git`, clone]);
    expect(git(clone, ['tag'])).toBe('app/v1');
    expect(git(clone, ['branch', '-r']).split('\n')).toHaveLength(62);
    expect(server.requests.some((r) => r.startsWith('POST /served.git/git-upload-pack') && r.endsWith('(gzip)'))).toBe(true);
    // Enough content that git compresses the request body.
    for (let i = 0; i < 200; i++) writeFileSync(join(clone, `file${i}.yaml`), `n: ${i}\n${'x'.repeat(200)}\n`);
    git(clone, ['add', '.']);
    git(clone, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'many files']);
    await gitAsync(clone, ['-c', 'http.postBuffer=1024', 'push', '-q', 'origin', 'HEAD:refs/heads/pushed']);
    expect(git(join(tmp.path, 'served.git'), ['rev-parse', 'refs/heads/pushed'])).toBe(git(clone, ['rev-parse', 'HEAD']));
    git(join(tmp.path, 'served.git'), ['fsck', '--no-progress']);
  });

  it('answers 401 with a challenge to missing or wrong credentials', async () => {
    const attempts: Record<string, string>[] = [{}, { Authorization: `Basic ${Buffer.from('u:wrong').toString('base64')}` }];
    for (const headers of attempts) {
      const res = await fetch(`${server.url}/served.git/info/refs?service=git-upload-pack`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
    }
    await expect(gitAsync(tmp.path, ['-c', 'credential.helper=', 'ls-remote', `${server.url.replace('http://', 'http://u:bad@')}/served.git`], { env: { GIT_ASKPASS: 'true' } })).rejects.toThrow();
  });

  it('stops and restarts on the same port', async () => {
    const port = server.port;
    await server.stop();
    await expect(fetch(`${server.url}/served.git/info/refs?service=git-upload-pack`)).rejects.toThrow();
    await server.restart();
    expect(server.port).toBe(port);
    expect(await gitAsync(tmp.path, ['ls-remote', `${authed()}/served.git`, 'refs/tags/*'])).toContain('refs/tags/app/v1');
  });
});
