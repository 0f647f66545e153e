import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigDocument } from '../../gateway/kubeconfig.ts';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { e2eScope } from '../support/e2e-scope.ts';
import { kubectlUsers } from '../support/kubectl-session.ts';
import { rbacFixture } from '../support/rbac-fixtures.ts';
import { git, kptfile, porchRepo } from '../support/git-fixtures.ts';
import { startGitServer, type GitServer } from '../support/git-server.ts';

// Two tenants on one server, as an attacker in team-b would try it: register or clone team-a's
// mirror by path (however spelled), make the server use a Secret they may not read, and make it
// hold a package bigger than --max-package-bytes. Real kubectl with tokens and RBAC, real git.

const LIMIT = 256 * 1024;

describe('tenant isolation: local paths, Secrets and sizes', () => {
  const scope = e2eScope('porch-tenancy-');
  let server: DevServer;
  let authed: GitServer;
  let open: GitServer;
  let mirror: string;
  const kc: Record<string, string> = {};

  const { as, k, ok } = kubectlUsers(() => scope.dir, kc);
  const fails = async (user: string, args: string[], input: string | undefined, message: RegExp) => {
    const r = await k(user, args, input);
    expect(r.code, `${user}: kubectl ${args.join(' ')} should fail\n${r.stdout}`).not.toBe(0);
    expect(r.stderr).toMatch(message);
    return r.stderr;
  };
  const repository = (ns: string, name: string, repo: string, secret?: string) =>
    JSON.stringify({ apiVersion: 'config.porch.kpt.dev/v1alpha1', kind: 'Repository', metadata: { name, namespace: ns }, spec: { type: 'git', git: { repo, branch: 'main', ...(secret ? { secretRef: { name: secret } } : {}) } } });
  const clone = (ns: string, repo: string, pkg: string, git: Record<string, unknown>) =>
    JSON.stringify({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: ns }, spec: { repository: repo, packageName: pkg, workspaceName: 'ws', tasks: [{ type: 'clone', clone: { upstreamRef: { type: 'git', git: { ref: 'main', directory: 'pkg', ...git } } } }] } });

  const ready = (user: string, ns: string, name: string) => as(user).repositoryReady(name, ns);

  beforeAll(async () => {
    await mkdir(join(scope.dir, 'authed'));
    await mkdir(join(scope.dir, 'open'));
    await mkdir(join(scope.dir, 'local'));
    porchRepo(join(scope.dir, 'authed'), 'team-a-blueprints', [{ path: 'basens', revisions: 1 }]);
    porchRepo(join(scope.dir, 'local'), 'team-b-deploy', []);
    // An upstream whose one package does not compress: its pack is bigger than the limit.
    const work = join(scope.dir, 'big-work');
    await mkdir(join(work, 'pkg'), { recursive: true });
    await writeFile(join(work, 'pkg', 'Kptfile'), kptfile('pkg'));
    await writeFile(join(work, 'pkg', 'blob.bin'), randomBytes(4 * 1024 * 1024));
    git(scope.dir, ['init', '-q', '--initial-branch=main', work]);
    git(work, ['add', '-A']);
    git(work, ['commit', '-q', '-m', 'big']);
    git(scope.dir, ['clone', '-q', '--bare', work, join(scope.dir, 'open', 'big.git')]);
    authed = scope.keep(await startGitServer({ root: join(scope.dir, 'authed'), username: 'git-user', password: 'git-pass' }));
    open = scope.keep(await startGitServer({ root: join(scope.dir, 'open') }));

    server = scope.keep(await startDevServer({
      args: ['--sync-interval', '0', '--tls', '--token-file', rbacFixture('tenancy-tokens.csv'), '--rbac-file', rbacFixture('tenancy.yaml'), '--max-package-bytes', String(LIMIT)],
    }));
    const written = YAML.parse(await readFile(server.kubeconfig, 'utf8'));
    const caPem = Buffer.from(written.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8');
    for (const user of ['admin', 'alice', 'bob']) {
      kc[user] = join(scope.dir, `kubeconfig-${user}`);
      await writeFile(kc[user], YAML.stringify(kubeconfigDocument(server.url, `${user}-token`, 'default', { caPem, userName: user })));
    }
    await ok('admin', ['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-b\n');
    const creds = (ns: string) =>
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: git-creds\n  namespace: ${ns}\ntype: kubernetes.io/basic-auth\nstringData:\n  username: git-user\n  password: git-pass\n`;
    await ok('admin', ['apply', '-f', '-'], `${creds('team-a')}---\n${creds('team-b')}`);

    // Team A registers its repository with a Secret it may read: its mirror appears in the data directory.
    await ok('alice', ['create', '-f', '-'], repository('team-a', 'blueprints', `${authed.url}/team-a-blueprints.git`, 'git-creds'));
    await ready('alice', 'team-a', 'blueprints');
    mirror = join(server.dataDir, 'git', 'team-a', 'blueprints', 'mirror.git');
    expect(existsSync(join(mirror, 'HEAD'))).toBe(true);
    // Team B's own repository, a local path outside the data directory (allowed in dev mode).
    await ok('bob', ['create', '-f', '-'], repository('team-b', 'deploy', join(scope.dir, 'local', 'team-b-deploy.git')));
    await ready('bob', 'team-b', 'deploy');
  });


  it("refuses another tenant's mirror as a Repository, however the path is spelled, and the same way when it does not exist", async () => {
    const spellings = [mirror, `/proc/self/root${mirror}`, `file:///proc/self/root${mirror}`, `file://${mirror}/`, `${join(scope.dir, 'local')}/${'../'.repeat(join(scope.dir, 'local').split('/').filter(Boolean).length)}${server.dataDir.slice(1)}//git/team-a/blueprints/mirror.git/`];
    for (const [i, repo] of spellings.entries()) {
      const err = await fails('bob', ['create', '-f', '-'], repository('team-b', `stolen-${i}`, repo), /is invalid: spec\.git\.repo: Forbidden: .* is not an allowed local repository path/);
      expect(err).not.toContain('HEAD');
    }
    const present = await fails('bob', ['create', '-f', '-'], repository('team-b', 'probe', `/proc/self/root${mirror}`), /Forbidden/);
    const absent = await fails('bob', ['create', '-f', '-'], repository('team-b', 'probe', `/proc/self/root${mirror}-nothing`), /Forbidden/);
    expect(absent.replace(`${mirror}-nothing`, 'P')).toBe(present.replace(mirror, 'P'));
    expect((await k('bob', ['get', 'repositories', '-n', 'team-b', '-o', 'name'])).stdout.trim()).toBe('repository.config.porch.kpt.dev/deploy');
  });

  it("refuses another tenant's mirror as a clone upstream", async () => {
    for (const repo of [`/proc/self/root${mirror}`, `file:///proc/self/root${mirror}`])
      await fails('bob', ['create', '-f', '-'], clone('team-b', 'deploy', 'stolen', { repo, directory: 'basens', ref: 'basens/v1' }), /is invalid: spec\.tasks\[0\]\.clone\.upstreamRef\.git\.repo: Forbidden: .* is not an allowed local repository path/);
    expect((await k('bob', ['get', 'packagerevisions', '-n', 'team-b', '-o', 'name'])).stdout.trim()).toBe('');
  });

  it('refuses to use a Secret the requester may not read: 403 naming it, for a Repository and a clone upstream', async () => {
    const forbidden = /secrets "git-creds" is forbidden: User "bob" cannot get resource "secrets" in API group "" in the namespace "team-b"/;
    await fails('bob', ['create', '-f', '-'], repository('team-b', 'with-creds', `${authed.url}/team-a-blueprints.git`, 'git-creds'), forbidden);
    await fails('bob', ['create', '-f', '-'], clone('team-b', 'deploy', 'borrowed', { repo: `${authed.url}/team-a-blueprints.git`, directory: 'basens', ref: 'basens/v1', secretRef: { name: 'git-creds' } }), forbidden);
    expect((await k('bob', ['get', 'packagerevisions', '-n', 'team-b', '-o', 'name'])).stdout.trim()).toBe('');
    // Adding the Secret to an existing Repository is the same request.
    await ok('bob', ['create', '-f', '-'], repository('team-b', 'plain', `${open.url}/big.git`));
    await fails('bob', ['patch', 'repository', 'plain', '-n', 'team-b', '--type', 'merge', '-p', '{"spec":{"git":{"secretRef":{"name":"git-creds"}}}}'], undefined, forbidden);
    expect(JSON.parse(await ok('bob', ['get', 'repository', 'plain', '-n', 'team-b', '-o', 'json'])).spec.git.secretRef).toBeUndefined();
    await ok('bob', ['delete', 'repository', 'plain', '-n', 'team-b']);
  });

  it('never sends credentials over plain http to a host other than loopback', async () => {
    await fails('alice', ['create', '-f', '-'], repository('team-a', 'cleartext', 'http://git.example.com/r.git', 'git-creds'), /spec\.git\.secretRef\.name: Forbidden: secret "git-creds": credentials are not sent over plain http to "git\.example\.com"/);
  });

  it('refuses an upstream bigger than --max-package-bytes with 413, and a resources write over it', async () => {
    await fails('bob', ['create', '-f', '-'], clone('team-b', 'deploy', 'huge', { repo: `${open.url}/big.git` }), new RegExp(`\\(RequestEntityTooLarge\\).*the upstream package .*big\\.git is larger than the limit of ${LIMIT} bytes \\(--max-package-bytes\\)`));
    expect((await k('bob', ['get', 'packagerevisions', '-n', 'team-b', '-o', 'name'])).stdout.trim()).toBe('');

    await ok('bob', ['create', '-f', '-'], JSON.stringify({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'team-b' }, spec: { repository: 'deploy', packageName: 'app', workspaceName: 'ws' } }));
    const prr = JSON.parse(await ok('bob', ['get', 'packagerevisionresources', 'deploy.app.ws', '-n', 'team-b', '-o', 'json']));
    const before = prr.spec.resources;
    prr.spec.resources = { ...before, 'big.yaml': `data: ${'x'.repeat(LIMIT)}\n` };
    await fails('bob', ['replace', '-f', '-'], JSON.stringify(prr), new RegExp(`\\(RequestEntityTooLarge\\).*package revision "deploy\\.app\\.ws" \\(\\d+ bytes\\) is larger than the limit of ${LIMIT} bytes`));
    expect(JSON.parse(await ok('bob', ['get', 'packagerevisionresources', 'deploy.app.ws', '-n', 'team-b', '-o', 'json'])).spec.resources).toEqual(before);
  });
});
