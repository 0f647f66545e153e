import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigDocument } from '../../gateway/kubeconfig.ts';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { kubectlUsers } from '../support/kubectl-session.ts';
import { rbacFixture } from '../support/rbac-fixtures.ts';

// What a kubectl user meets first in dev mode: core kinds sent as protobuf, `kubectl auth`, list order.

describe('kubectl as a new user drives the dev server', () => {
  let dir: string;
  let server: DevServer;
  const kc: Record<string, string> = {};

  const { k, ok } = kubectlUsers(() => dir, kc);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-kubectl-'));
    server = await startDevServer({ args: ['--sync-interval', '0', '--tls', '--token-file', rbacFixture('kubectl-compat-tokens.csv'), '--rbac-file', rbacFixture('kubectl-compat.yaml')] });
    kc.admin = server.kubeconfig;
    const written = YAML.parse(await readFile(server.kubeconfig, 'utf8'));
    const caPem = Buffer.from(written.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8');
    for (const [user, token] of [['author', 'author-token'], ['tenant', 'tenant-token']]) {
      kc[user] = join(dir, `kubeconfig-${user}`);
      await writeFile(kc[user], YAML.stringify(kubeconfigDocument(server.url, token, 'default', { caPem, userName: user })));
    }
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('kubectl create namespace and create secret generic (sent as protobuf) work; get -o yaml shows the data', async () => {
    expect(await ok('admin', ['create', 'namespace', 'team-a'])).toContain('namespace/team-a created');
    expect(await ok('admin', ['create', 'namespace', 'team-b'])).toContain('namespace/team-b created');
    const ns = YAML.parse(await ok('admin', ['get', 'namespace', 'team-a', '-o', 'yaml']));
    expect(ns).toMatchObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });

    expect(await ok('admin', ['create', 'secret', 'generic', 'git-creds', '-n', 'team-a', '--from-literal=username=alice', '--from-literal=password=s3cret'])).toContain(
      'secret/git-creds created',
    );
    const secret = YAML.parse(await ok('admin', ['get', 'secret', 'git-creds', '-n', 'team-a', '-o', 'yaml']));
    expect(secret).toMatchObject({ kind: 'Secret', type: 'Opaque', metadata: { name: 'git-creds', namespace: 'team-a' } });
    expect(Buffer.from(secret.data.username, 'base64').toString()).toBe('alice');
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe('s3cret');

    await ok('admin', ['create', 'secret', 'generic', 'typed', '-n', 'team-a', '--type', 'kubernetes.io/basic-auth', '--from-literal=username=bob', '--from-literal=password=pw']);
    expect(YAML.parse(await ok('admin', ['get', 'secret', 'typed', '-n', 'team-a', '-o', 'yaml'])).type).toBe('kubernetes.io/basic-auth');

    // Server-side dry run goes through the same decoding and stores nothing; delete takes JSON.
    expect(await ok('admin', ['create', 'secret', 'generic', 'dry', '-n', 'team-a', '--from-literal=a=b', '--dry-run=server'])).toContain('secret/dry created (server dry run)');
    expect((await k('admin', ['get', 'secret', 'dry', '-n', 'team-a'])).code).not.toBe(0);
    expect(await ok('admin', ['delete', 'secret', 'typed', '-n', 'team-a'])).toContain('deleted');

    // A second create of the same name is refused as kube-apiserver refuses it.
    const again = await k('admin', ['create', 'namespace', 'team-a']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('AlreadyExists');
  });

  it('kubectl auth whoami shows the user and groups', async () => {
    const admin = await ok('admin', ['auth', 'whoami']);
    expect(admin).toMatch(/Username\s+porch-ts-admin/);
    expect(admin).toMatch(/Groups\s+\[system:masters system:authenticated\]/);
    const author = JSON.parse(await ok('author', ['auth', 'whoami', '-o', 'json']));
    expect(author).toMatchObject({ kind: 'SelfSubjectReview', status: { userInfo: { username: 'author', uid: '2' } } });
    expect(author.status.userInfo.groups).toEqual(expect.arrayContaining(['porch-users', 'system:authenticated']));
  });

  it('kubectl auth can-i answers per RBAC', async () => {
    const canI = async (user: string, args: string[]) => {
      const r = await k(user, ['auth', 'can-i', ...args]);
      expect(r.stdout.trim(), `${user}: can-i ${args.join(' ')}\n${r.stderr}`).toMatch(/^(yes|no)/);
      return `${r.stdout.trim().split(/\s/)[0]}:${r.code}`;
    };
    expect(await canI('author', ['create', 'packagerevisions', '-n', 'team-a'])).toBe('yes:0');
    expect(await canI('author', ['delete', 'repositories', '-n', 'team-a'])).toBe('no:1');
    expect(await canI('tenant', ['create', 'packagerevisions', '-n', 'team-a'])).toBe('no:1');
    expect(await canI('tenant', ['list', 'packagerevisions', '-n', 'team-a'])).toBe('yes:0');
    expect(await canI('tenant', ['list', 'packagerevisions', '-n', 'team-b'])).toBe('no:1');
    expect(await canI('admin', ['delete', 'secrets', '-A'])).toBe('yes:0');

    // --list asks for the rules (SelfSubjectRulesReview).
    const list = await ok('tenant', ['auth', 'can-i', '--list', '-n', 'team-a']);
    expect(list).toMatch(/packagerevisions\.porch\.kpt\.dev\s+\[\]\s+\[\]\s+\[get list watch\]/);
    expect(await ok('tenant', ['auth', 'can-i', '--list', '-n', 'team-b'])).not.toContain('packagerevisions');
  });

  it('lists come in namespace/name order', async () => {
    for (const [ns, name] of [['team-b', 'zz'], ['team-a', 'mm'], ['team-b', 'aa'], ['team-a', 'bb']])
      await ok('admin', ['create', 'secret', 'generic', name, '-n', ns, '--from-literal=k=v']);
    const names = (await ok('admin', ['get', 'secrets', '-A', '--no-headers', '-o', 'custom-columns=NS:.metadata.namespace,NAME:.metadata.name'])).trim().split('\n');
    const rows = names.map((l) => l.trim().split(/\s+/).join('/'));
    expect(rows).toEqual([...rows].sort());
    expect(rows).toEqual(expect.arrayContaining(['team-a/bb', 'team-a/mm', 'team-b/aa', 'team-b/zz']));
    // The table form (kubectl's default) too.
    const table = (await ok('admin', ['get', 'secrets', '-A', '--no-headers'])).trim().split('\n').map((l) => l.trim().split(/\s+/).slice(0, 2).join('/'));
    expect(table).toEqual(rows);
  });
});
