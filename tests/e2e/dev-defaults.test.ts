import { spawn } from 'node:child_process';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { kubectlAgainst } from '../support/kubectl-session.ts';
import { startGitServer, type GitServer } from '../support/git-server.ts';
import { git, porchRepo } from '../support/git-fixtures.ts';
import { repositoryYaml } from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';

// What a user gets from the dev server without any flag: HTTPS with the admin identity, and an
// `npm start` that a signal to its own pid stops.

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));


describe('dev server defaults', () => {
  let dir: string;
  let gitServer: GitServer;
  let server: DevServer;
  const session = kubectlAgainst(() => server.kubeconfig);
  const { ok } = session;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-defaults-'));
    porchRepo(dir, 'blueprints', []);
    gitServer = await startGitServer({ root: dir });
    server = await startDevServer({ http: false, args: ['--sync-interval', '0'] });
  });
  afterAll(async () => {
    await server?.stop();
    await gitServer?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS, and kubectl acts as porch-ts-admin: commits carry its name', async () => {
    expect(server.url).toMatch(/^https:\/\//);
    expect(await readFile(server.kubeconfig, 'utf8')).toMatch(/certificate-authority-data: /);
    await ok(['apply', '-f', '-'], repositoryYaml({ name: 'blueprints', repo: `${gitServer.url}/blueprints.git` }));
    await session.repositoryReady('blueprints');
    await ok(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'porch.kpt.dev/v1alpha1',
      kind: 'PackageRevision',
      metadata: { namespace: 'default' },
      spec: { packageName: 'app', workspaceName: 'first', repository: 'blueprints', tasks: [{ type: 'init', init: { description: 'app' } }] },
    }));
    const author = git(join(dir, 'blueprints.git'), ['log', '-1', '--format=%an', 'refs/heads/drafts/app/first']);
    expect(author).toBe('porch-ts-admin');
  });
});

/** Node processes whose command line names this data directory. */
async function processesUsing(dataDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(dataDir)) pids.push(Number(entry));
  }
  return pids;
}

const portAnswers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

describe('npm start', () => {
  it('stops the server when the npm process gets SIGTERM: no node is left holding the port', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'porch-npm-start-'));
    const npm = spawn('npm', ['start', '--', '--port', '0', '--data-dir', dataDir, '--sync-interval', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    try {
      let out = '';
      npm.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
      npm.stderr.resume();
      const port = await waitFor('listening', async () => {
        const m = /porch-ts listening on \S+:(\d+) /.exec(out);
        return m ? Number(m[1]) : undefined;
      });
      expect(await portAnswers(port)).toBe(true);
      process.kill(npm.pid!, 'SIGTERM');
      await exited;
      await waitFor('port freed', async () => ((await portAnswers(port)) ? undefined : true), 15_000);
      await waitFor('no process left', async () => ((await processesUsing(dataDir)).length === 0 ? true : undefined), 15_000);
    } finally {
      // Whatever the outcome, nothing of this test may outlive it.
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
