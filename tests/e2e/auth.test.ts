import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfigDocument } from '../../gateway/kubeconfig.ts';
import { createCertificateAuthority, type PemPair } from '../../lib/auth/tls.ts';
import { kubectl, startDevServer, type DevServer } from '../support/dev-server.ts';
import { git, porchRepo } from '../support/git-fixtures.ts';
import { httpsText } from '../support/https-text.ts';
import { rbacFixture } from '../support/rbac-fixtures.ts';
import { waitFor } from '../support/wait-for.ts';

// Authentication (token file, client certificates, front-proxy request headers, anonymous), RBAC
// authorization and namespace isolation, through the real kubectl over https.

describe('authentication, RBAC and namespace isolation', () => {
  let dir: string;
  let server: DevServer;
  let bare: string;
  let caPem: string;
  let proxyCert: PemPair;
  let rogueCert: PemPair;
  const kc: Record<string, string> = {};

  const k = (user: string, args: string[], input?: string) =>
    kubectl(['--cache-dir', join(dir, `cache-${user}`), ...args], { kubeconfig: kc[user], input });
  const ok = async (user: string, args: string[], input?: string) => {
    const r = await k(user, args, input);
    expect(r.code, `${user}: kubectl ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const json = async (user: string, args: string[]) => JSON.parse(await ok(user, [...args, '-o', 'json']));
  const forbidden = async (user: string, args: string[], input?: string) => {
    const r = await k(user, args, input);
    expect(r.code, `${user}: kubectl ${args.join(' ')} should fail\n${r.stdout}`).not.toBe(0);
    expect(r.stderr).toMatch(/forbidden|Forbidden/);
    return r.stderr;
  };

  async function writeUserKubeconfig(user: string, opts: { token?: string; cert?: PemPair }): Promise<void> {
    const path = join(dir, `kubeconfig-${user}`);
    const doc = kubeconfigDocument(server.url, opts.token, 'default', {
      caPem,
      userName: user,
      clientCertPem: opts.cert?.certPem,
      clientKeyPem: opts.cert?.keyPem,
    });
    await writeFile(path, YAML.stringify(doc));
    kc[user] = path;
  }

  /** A request with node https, optionally presenting a client certificate. */
  const raw = (path: string, headers: Record<string, string>, cert?: PemPair) =>
    httpsText(`${server.url}${path}`, { method: 'GET', headers, ca: caPem, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-auth-'));
    bare = porchRepo(dir, 'blueprints', []);
    const clientCA = await createCertificateAuthority({ commonName: 'porch-client-ca' });
    const proxyCA = await createCertificateAuthority({ commonName: 'porch-front-proxy-ca' });
    await writeFile(join(dir, 'client-ca.pem'), clientCA.certPem);
    await writeFile(join(dir, 'proxy-ca.pem'), proxyCA.certPem);
    const certUser = await clientCA.issue({ commonName: 'cert-author', organizations: ['cert-authors'] });
    proxyCert = await proxyCA.issue({ commonName: 'front-proxy' });
    rogueCert = await clientCA.issue({ commonName: 'rogue', organizations: [] });

    server = await startDevServer({
      args: [
        '--sync-interval', '0', '--tls',
        '--token-file', rbacFixture('auth-tokens.csv'),
        '--rbac-file', rbacFixture('auth.yaml'),
        '--client-ca', join(dir, 'client-ca.pem'),
        '--requestheader-client-ca', join(dir, 'proxy-ca.pem'),
        '--requestheader-allowed-names', 'front-proxy',
      ],
    });
    expect(server.url).toMatch(/^https:/);
    const written = YAML.parse(await readFile(server.kubeconfig, 'utf8'));
    caPem = Buffer.from(written.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8');
    kc['dev-admin'] = server.kubeconfig;
    await writeUserKubeconfig('admin', { token: 'admin-token' });
    await writeUserKubeconfig('author', { token: 'author-token' });
    await writeUserKubeconfig('approver', { token: 'approver-token' });
    await writeUserKubeconfig('tenant', { token: 'tenant-token' });
    await writeUserKubeconfig('cert', { cert: certUser });
    // kubectl prompts for a password when a user entry has no credentials, so an unknown token instead.
    await writeUserKubeconfig('stranger', { token: 'not-a-known-token' });

    await ok('admin', ['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-b\n');
    await ok('admin', ['apply', '-f', '-'], 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: team-b\nstringData:\n  k: v\n');
    await ok('dev-admin', ['apply', '-f', '-'], `
apiVersion: config.porch.kpt.dev/v1alpha1
kind: Repository
metadata:
  name: blueprints
  namespace: default
spec:
  type: git
  git:
    repo: ${bare}
    branch: main
`);
    await waitFor('repository ready', async () => {
      const r = await json('admin', ['get', 'repository', 'blueprints']);
      return r.status?.conditions?.find((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses anonymous requests and unknown tokens with 401', async () => {
    const r = await k('stranger', ['get', 'packagerevisions']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unauthorized|provide credentials/);
    expect(r.stdout).toBe('');
    const res = await raw('/apis/porch.kpt.dev/v1alpha1/namespaces/default/packagerevisions', {});
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
    const bad = await raw('/apis', { authorization: 'Bearer nope' });
    expect(bad.status).toBe(401);
    // Health probes stay open.
    expect((await raw('/healthz', {})).status).toBe(200);
  });

  it('lets the author create and propose but not approve; the approver approves; publishedBy is the approver', async () => {
    const draft = { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' }, spec: { packageName: 'app', workspaceName: 'first', repository: 'blueprints' } };
    await ok('author', ['create', '-f', '-'], JSON.stringify(draft));
    const name = 'blueprints.app.first';
    // The draft commit's author is the authenticated user.
    expect(git(bare, ['log', '-1', '--format=%an', 'refs/heads/drafts/app/first'])).toBe('author');
    await ok('author', ['patch', 'packagerevision', name, '--type', 'merge', '-p', '{"spec":{"lifecycle":"Proposed"}}']);
    const proposed = await json('author', ['get', 'packagerevision', name]);
    expect(proposed.spec.lifecycle).toBe('Proposed');

    const approval = JSON.stringify({ ...proposed, spec: { ...proposed.spec, lifecycle: 'Published' } });
    const approvalPath = `/apis/porch.kpt.dev/v1alpha1/namespaces/default/packagerevisions/${name}/approval`;
    const denied = await forbidden('author', ['replace', '--raw', approvalPath, '-f', '-'], approval);
    expect(denied).toMatch(/User "author" cannot update resource "packagerevisions\/approval" in API group "porch.kpt.dev" in the namespace "default"/);
    expect((await json('author', ['get', 'packagerevision', name])).spec.lifecycle).toBe('Proposed');

    await ok('approver', ['replace', '--raw', approvalPath, '-f', '-'], approval);
    const published = await json('approver', ['get', 'packagerevision', name]);
    expect(published.spec.lifecycle).toBe('Published');
    expect(published.status.publishedBy).toBe('approver');
    expect(git(bare, ['log', '-1', '--format=%an', 'refs/tags/app/v1'])).toBe('approver');

    // The author role grants nothing beyond its rules.
    await forbidden('author', ['get', 'secrets']);
    await forbidden('author', ['delete', 'repository', 'blueprints']);
  });

  it('isolates tenants by namespace', async () => {
    expect((await json('tenant', ['get', 'packagerevisions', '-n', 'team-a'])).items).toEqual([]);
    await ok('tenant', ['get', 'secrets', '-n', 'team-a']);
    expect(await forbidden('tenant', ['get', 'packagerevisions', '-n', 'team-b'])).toMatch(
      /User "tenant-a" cannot list resource "packagerevisions" in API group "porch.kpt.dev" in the namespace "team-b"/,
    );
    expect(await forbidden('tenant', ['get', 'secrets', '-n', 'team-b'])).toMatch(/User "tenant-a" cannot list resource "secrets"/);
    await forbidden('tenant', ['get', 'secret', 's', '-n', 'team-b']);
    expect(await forbidden('tenant', ['get', 'packagerevisions', '--all-namespaces'])).toMatch(/at the cluster scope/);
    await forbidden('tenant', ['get', 'packagerevisions', '-n', 'default']);
  });

  it('authenticates client certificates issued by --client-ca', async () => {
    const list = await json('cert', ['get', 'packagerevisions']);
    expect(list.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toContain('blueprints.app.first');
    expect(await forbidden('cert', ['get', 'secrets'])).toMatch(/User "cert-author" cannot list resource "secrets"/);
  });

  it('honours X-Remote-User only on a connection with the front proxy certificate', async () => {
    const path = '/apis/porch.kpt.dev/v1alpha1/namespaces/team-a/packagerevisions';
    const claims = { 'X-Remote-User': 'tenant-a', 'X-Remote-Group': 'tenants' };
    // Without any certificate: ignored, and anonymous is not allowed.
    expect((await raw(path, claims)).status).toBe(401);
    // With a token: the token's user, not the header's.
    const withToken = await raw('/apis/porch.kpt.dev/v1alpha1/namespaces/team-b/secrets', { ...claims, 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters', authorization: 'Bearer tenant-token' });
    expect(withToken.status).toBe(403);
    expect(JSON.parse(withToken.body).message).toMatch(/User "tenant-a"/);
    // A certificate from the client CA (not the front-proxy CA): its own identity, headers ignored.
    const rogue = await raw(path, { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' }, rogueCert);
    expect(rogue.status).toBe(403);
    expect(JSON.parse(rogue.body).message).toMatch(/User "rogue"/);
    // The front proxy's certificate: the headers name the user.
    const proxied = await raw(path, claims, proxyCert);
    expect(proxied.status, proxied.body).toBe(200);
    expect(JSON.parse(proxied.body).kind).toBe('PackageRevisionList');
    const proxiedB = await raw('/apis/porch.kpt.dev/v1alpha1/namespaces/team-b/packagerevisions', claims, proxyCert);
    expect(proxiedB.status).toBe(403);
    expect(JSON.parse(proxiedB.body).message).toMatch(/User "tenant-a"/);
  });

  it('sees the client certificate on WebSocket watches', async () => {
    const url = `${server.url.replace(/^https/, 'wss')}/apis/porch.kpt.dev/v1alpha1/namespaces/default/packagerevisions?watch=true`;
    const first = (opts: WebSocket.ClientOptions) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url, { ca: caPem, ...opts });
        ws.once('message', (m) => {
          resolve(`message ${String(m)}`);
          ws.close();
        });
        ws.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
        ws.once('error', (err) => resolve(`error ${err.message}`));
      });
    const certUser = YAML.parse(await readFile(kc.cert, 'utf8')).users[0].user;
    const got = await first({
      cert: Buffer.from(certUser['client-certificate-data'], 'base64'),
      key: Buffer.from(certUser['client-key-data'], 'base64'),
    });
    expect(got).toMatch(/^message \{"type":"ADDED","object":\{"apiVersion":"porch\.kpt\.dev\/v1alpha1","kind":"PackageRevision"/);
    expect(await first({})).toBe('http 401');
    expect(await first({ headers: { authorization: 'Bearer tenant-token' } })).toBe('http 403');
  });

  it('keeps the dev kubeconfig working as porch-ts-admin', async () => {
    await ok('dev-admin', ['get', 'secrets', '-n', 'team-b']);
    await ok('dev-admin', ['get', 'packagerevisions', '--all-namespaces']);
  });
});
