import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import createPackageRevision from '../../handlers/create-packagerevision.ts';
import getPackageRevisionResources from '../../handlers/get-packagerevisionresources.ts';
import listPackageRevisions from '../../handlers/list-packagerevisions.ts';
import updateResources from '../../handlers/update-resources.ts';
import { findResource } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { jsonRequest, syncRepository, testContext } from '../support/context.ts';
import { git, gitAsync, PorchRepoWriter, tempDir } from '../support/git-fixtures.ts';
import { startGitServer, type GitServer } from '../support/git-server.ts';
import { publishRevision } from '../support/publish.ts';

// The clone, edit and upgrade tasks through the create handler, against local bare repositories
// (Porch-shaped ones registered as Repositories, and a plain git repository as a clone upstream)
// and, for credentials, a git http-backend that demands basic auth.

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const SECRETS = findResource('', 'v1', 'secrets')!;
const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Status {
  code: number;
  reason: string;
  message: string;
  details?: { causes?: { field: string; message: string }[] };
}
interface PR {
  metadata: { name: string; resourceVersion: string };
  spec: { lifecycle: string; revision?: number; tasks?: Record<string, unknown>[] };
  status?: { upstreamLock?: unknown };
}

const settings = (a: string, b: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "${a}"\n  b: "${b}"\n`;
const kptfile = (name: string) => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${name}\n  annotations:\n    config.kubernetes.io/local-config: "true"\ninfo:\n  description: ${name} blueprint\n`;
const context = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n    config.kubernetes.io/local-config: "true"\ndata:\n  name: example\n';
const service = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n';

describe('package tasks through the create handler', () => {
  const tmp = tempDir('porch-tasks-h-');
  let ctx: AppContext;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let blueprints: PorchRepoWriter;
  let deploy: PorchRepoWriter;
  let plain: string;
  let server: GitServer;

  const create = async (repository: string, packageName: string, workspaceName: string, task: unknown) => {
    const res = await createPackageRevision(ctx).request(
      jsonRequest('POST', `${NS}/packagerevisions`, { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' }, spec: { repository, packageName, workspaceName, tasks: [task] } }),
    );
    return { status: res.status, body: (await res.json()) as PR & Status };
  };
  const resources = async (name: string): Promise<Record<string, string>> =>
    ((await (await getPackageRevisionResources(ctx).request(jsonRequest('GET', `${NS}/packagerevisionresources/${name}`))).json()) as { spec: { resources: Record<string, string> } }).spec.resources;
  const names = async (): Promise<string[]> =>
    ((await (await listPackageRevisions(ctx).request(jsonRequest('GET', `${NS}/packagerevisions`))).json()) as { items: PR[] }).items.map((i) => i.metadata.name).sort();
  const refs = (w: PorchRepoWriter) => w.git(['for-each-ref', '--format=%(refname) %(objectname)']);

  async function setResources(name: string, files: Record<string, string>): Promise<void> {
    const res = await updateResources(ctx).request(
      jsonRequest('PUT', `${NS}/packagerevisionresources/${name}`, { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevisionResources', metadata: { name, namespace: 'default' }, spec: { resources: files } }),
    );
    expect(res.status, await res.clone().text()).toBe(200);
  }

  const publish = async (name: string) => (await publishRevision(ctx, name)) as PR;

  function expectInvalid(r: { status: number; body: Status }, field: string, message: RegExp): void {
    expect(r.status, JSON.stringify(r.body)).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    expect(r.body.details?.causes?.map((c) => c.field)).toEqual([field]);
    expect(r.body.message).toMatch(message);
  }

  beforeAll(async () => {
    ({ ctx, dataDir, cleanup } = await testContext());
    blueprints = PorchRepoWriter.create(join(tmp.path, 'blueprints.git'));
    blueprints.publish('basens', 'v1', 1, { files: { Kptfile: kptfile('basens'), 'settings.yaml': settings('1', '1'), 'package-context.yaml': context } });
    blueprints.publish('basens', 'v2', 2, { files: { Kptfile: kptfile('basens'), 'settings.yaml': settings('2', '1'), 'package-context.yaml': context, 'service.yaml': service } });
    blueprints.draft('basens', 'wip');
    deploy = PorchRepoWriter.create(join(tmp.path, 'deploy.git'));

    // A plain git repository (no Porch history): the package under pkgs/web, an annotated
    // per-package tag and a later commit on main.
    const work = join(tmp.path, 'plain-work');
    git(tmp.path, ['init', '-q', '-b', 'main', work]);
    mkdirSync(join(work, 'pkgs', 'web'), { recursive: true });
    writeFileSync(join(work, 'pkgs', 'web', 'Kptfile'), kptfile('web'));
    writeFileSync(join(work, 'pkgs', 'web', 'deployment.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  replicas: 1\n');
    writeFileSync(join(work, 'pkgs', 'web', 'package-context.yaml'), context);
    writeFileSync(join(work, 'pkgs', 'README.md'), 'packages\n');
    git(work, ['add', '.']);
    git(work, ['commit', '-qm', 'web v1']);
    git(work, ['tag', '-a', '-m', 'web release 1', 'pkgs/web/v1']);
    writeFileSync(join(work, 'pkgs', 'web', 'deployment.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  replicas: 3\n');
    git(work, ['commit', '-qam', 'web: three replicas']);
    plain = join(tmp.path, 'plain.git');
    git(tmp.path, ['clone', '-q', '--bare', work, plain]);
    server = await startGitServer({ root: tmp.path, username: 'reader', password: 'sesame' });

    for (const [name, deployment] of [['blueprints', false], ['deploy', true]] as const) {
      const repo = await ctx.store.create(REPOS, {
        apiVersion: 'config.porch.kpt.dev/v1alpha1',
        kind: 'Repository',
        metadata: { name, namespace: 'default' },
        spec: { type: 'git', deployment, git: { repo: join(tmp.path, `${name}.git`), branch: 'main' } },
      });
      await syncRepository(ctx, repo);
    }
    for (const [name, password] of [['git-reader', 'sesame'], ['git-wrong', 'guess']])
      await ctx.store.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'kubernetes.io/basic-auth', data: { username: b64('reader'), password: b64(password) } });
  });

  afterAll(async () => {
    await server?.stop();
    await cleanup?.();
    tmp.remove();
  });

  it('clones from a plain git repository into a deployment repository: `v1` in pkgs/web is the tag pkgs/web/v1; lock, name, context and merge keys as Porch writes them', async () => {
    const task = { type: 'clone', clone: { upstreamRef: { type: 'git', git: { repo: plain, ref: 'v1', directory: '/pkgs/web' } } } };
    const r = await create('deploy', 'web', 'ws1', task);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const tagCommit = git(plain, ['rev-parse', 'pkgs/web/v1^{commit}']);
    const lock = { repo: plain, directory: 'pkgs/web', ref: 'pkgs/web/v1', commit: tagCommit };
    expect(r.body.status?.upstreamLock).toEqual({ type: 'git', git: lock });
    expect(r.body.spec.tasks).toEqual([task]);

    const files = await resources('deploy.web.ws1');
    expect(Object.keys(files).sort()).toEqual(['Kptfile', 'deployment.yaml', 'package-context.yaml']);
    const kpt = YAML.parse(files.Kptfile);
    expect(kpt.metadata.name).toBe('web');
    // Porch's form: no updateStrategy (kpt pkg get would write resource-merge, its default).
    expect(kpt.upstream).toEqual({ type: 'git', git: { repo: plain, directory: 'pkgs/web', ref: 'pkgs/web/v1' } });
    expect(kpt.upstreamLock).toEqual({ type: 'git', git: lock });
    expect(files.Kptfile).toMatch(/^metadata: # kpt-merge: \/web\n/m);
    // The tagged content, not main's later commit.
    expect(files['deployment.yaml']).toBe(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: # kpt-merge: prod/web\n  name: web\n  namespace: prod\n  annotations:\n    internal.kpt.dev/upstream-identifier: 'apps|Deployment|prod|web'\nspec:\n  replicas: 1\n",
    );
    // A deployment repository: the context names the package and its path.
    expect(YAML.parse(files['package-context.yaml']).data).toEqual({ name: 'web', 'package-path': 'web' });

    // The draft commit carries Porch's headline and the task in its annotation.
    const message = await gitAsync(deploy.gitdir, ['log', '-1', '--format=%B', 'refs/heads/drafts/web/ws1']);
    expect(message).toBe(`Creating new revision by cloning\n\n\nkpt:${JSON.stringify({ package: 'web', workspaceName: 'ws1', revision: '0', task })}\n`);
  });

  it('clones a published PackageRevision: the lock names its repository, path, tag and the tag’s commit; a non-deployment repository keeps the upstream’s context', async () => {
    const r = await create('blueprints', 'basens-copy', 'ws1', { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.basens.v1' } } } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const lock = { repo: blueprints.gitdir, directory: 'basens', ref: 'basens/v1', commit: blueprints.resolve('refs/tags/basens/v1')! };
    expect(r.body.status?.upstreamLock).toEqual({ type: 'git', git: lock });
    const files = await resources('blueprints.basens-copy.ws1');
    expect(YAML.parse(files.Kptfile).upstreamLock).toEqual({ type: 'git', git: lock });
    expect(YAML.parse(files.Kptfile).metadata.name).toBe('basens-copy');
    expect(YAML.parse(files['package-context.yaml']).data).toEqual({ name: 'example' });
    expect(YAML.parse(files['settings.yaml'])).toMatchObject({ data: { a: '1', b: '1' } });
  });

  it('fetches a remote plain-git upstream with a Secret of the request’s namespace, and keeps no copy of it', async () => {
    const url = `${server.url}/plain.git`;
    const clone = (ws: string, secret?: string) =>
      create('deploy', `remote-${ws}`, ws, { type: 'clone', clone: { upstreamRef: { type: 'git', git: { repo: url, ref: 'main', directory: 'pkgs/web', ...(secret ? { secretRef: { name: secret } } : {}) } } } });
    const before = refs(deploy);

    expectInvalid(await clone('a'), 'spec.tasks[0].clone.upstreamRef.git.secretRef.name', /Required value: the upstream refused access without credentials/);
    expectInvalid(await clone('b', 'git-wrong'), 'spec.tasks[0].clone.upstreamRef.git.secretRef.name', /"git-wrong": the upstream refused these credentials/);
    expectInvalid(await clone('c', 'no-such-secret'), 'spec.tasks[0].clone.upstreamRef.git.secretRef.name', /secret "no-such-secret" .* was not found in namespace "default"/);
    expect(refs(deploy)).toBe(before);

    const ok = await clone('d', 'git-reader');
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.status?.upstreamLock).toEqual({ type: 'git', git: { repo: url, directory: 'pkgs/web', ref: 'main', commit: git(plain, ['rev-parse', 'main']) } });
    expect(YAML.parse((await resources('deploy.remote-d.d'))['deployment.yaml']).spec.replicas).toBe(3);
    const scratch = join(dataDir, 'upstreams');
    expect(existsSync(scratch) ? readdirSync(scratch) : []).toEqual([]);
  });

  it('refuses clones it cannot do with the field at fault, and leaves git and the list as they were', async () => {
    const before = { deploy: refs(deploy), blueprints: refs(blueprints), list: await names() };
    const F = 'spec.tasks[0].clone.upstreamRef';
    const fromRev = (name: string) => ({ type: 'clone', clone: { upstreamRef: { upstreamRef: { name } } } });
    const fromGit = (g: Record<string, unknown>) => ({ type: 'clone', clone: { upstreamRef: { type: 'git', git: { repo: plain, ref: 'pkgs/web/v1', directory: 'pkgs/web', ...g } } } });

    expectInvalid(await create('deploy', 'x', 'ws', fromRev('blueprints.nothing.v1')), `${F}.upstreamRef.name`, /Not found: package revision "blueprints.nothing.v1"/);
    expectInvalid(await create('deploy', 'x', 'ws', fromRev('blueprints.basens.wip')), `${F}.upstreamRef.name`, /must be a published package revision \(it is Draft\)/);
    expectInvalid(await create('deploy', 'x', 'ws', fromRev('blueprints.basens.main')), `${F}.upstreamRef.name`, /placeholder revision of the registered branch cannot be an upstream/);
    expectInvalid(await create('deploy', 'x', 'ws', fromRev('')), `${F}.upstreamRef.name`, /Required value/);
    expectInvalid(await create('deploy', 'x', 'ws', fromGit({ ref: 'v9' })), `${F}.git.ref`, /has no branch or tag "pkgs\/web\/v9" or "v9"/);
    expectInvalid(await create('deploy', 'x', 'ws', fromGit({ directory: 'pkgs/nothing' })), `${F}.git.directory`, /has no directory "pkgs\/nothing"/);
    expectInvalid(await create('deploy', 'x', 'ws', fromGit({ ref: 'main', directory: 'pkgs' })), `${F}.git.directory`, /holds no Kptfile, so it is not a kpt package/);
    expectInvalid(await create('deploy', 'x', 'ws', fromGit({ directory: 'pkgs/../..' })), `${F}.git.directory`, /without "." or ".." segments/);
    expectInvalid(await create('deploy', 'x', 'ws', fromGit({ repo: join(tmp.path, 'missing.git') })), `${F}.git.repo`, /is not a git repository/);
    expectInvalid(await create('deploy', 'x', 'ws', fromGit({ repo: 'ftp://example.com/x.git' })), `${F}.git.repo`, /must be an http\(s\) or file URL or an absolute path/);
    expectInvalid(await create('deploy', 'x', 'ws', fromGit({ repo: `${server.url}/missing.git`, secretRef: { name: 'git-reader' } })), `${F}.git.repo`, /is not a git repository \(HTTP 404\)/);
    expectInvalid(await create('deploy', 'x', 'ws', { type: 'clone', clone: { upstreamRef: { type: 'oci', oci: { image: 'x' } } } }), `${F}.oci`, /OCI upstreams are not supported/);
    // The server's data directory (other tenants' mirrors) is never an upstream, however it is named.
    expectInvalid(await create('deploy', 'x', 'ws', fromGit({ repo: join(dataDir, 'git') })), `${F}.git.repo`, /inside the server's data directory/);
    expectInvalid(await create('deploy', 'x', 'ws', fromGit({ repo: `file://${dataDir}/../${dataDir.split('/').pop()}/store` })), `${F}.git.repo`, /inside the server's data directory/);

    const down = await create('deploy', 'x', 'ws', fromGit({ repo: 'http://127.0.0.1:1/nothing.git' }));
    expect(down.status).toBe(503);
    expect(down.body.reason).toBe('ServiceUnavailable');
    expect(down.body.message).toMatch(/^upstream git repository unavailable: .*http:\/\/127\.0\.0\.1:1\/nothing\.git/);

    // web exists in deploy: later revisions are edits or upgrades, as in Porch.
    const again = await create('deploy', 'web', 'ws2', fromGit({}));
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('AlreadyExists');
    expect(again.body.message).toMatch(/clone cannot create a new revision for package "web" that already exists in repository "deploy"/);

    expect({ deploy: refs(deploy), blueprints: refs(blueprints), list: await names() }).toEqual(before);
  });

  it('edits a published revision into a byte-identical draft, and refuses other packages, drafts and the placeholder', async () => {
    const r = await create('blueprints', 'basens', 'v3', { type: 'edit', edit: { sourceRef: { name: 'blueprints.basens.v2' } } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.spec.tasks?.map((t) => t.type)).toEqual(['edit']);
    expect(await resources('blueprints.basens.v3')).toEqual(await resources('blueprints.basens.v2'));
    // Byte for byte in git too: the same package tree.
    expect(await gitAsync(blueprints.gitdir, ['rev-parse', 'refs/heads/drafts/basens/v3:basens'])).toBe(await gitAsync(blueprints.gitdir, ['rev-parse', 'refs/tags/basens/v2:basens']));

    const before = refs(blueprints);
    const F = 'spec.tasks[0].edit.sourceRef.name';
    expectInvalid(await create('blueprints', 'other', 'ws', { type: 'edit', edit: { sourceRef: { name: 'blueprints.basens.v2' } } }), F, /must be a revision of the same package/);
    expectInvalid(await create('blueprints', 'basens', 'ws', { type: 'edit', edit: { sourceRef: { name: 'blueprints.basens.wip' } } }), F, /must be a published revision \(it is Draft\)/);
    expectInvalid(await create('blueprints', 'basens', 'ws', { type: 'edit', edit: { sourceRef: { name: 'blueprints.basens.main' } } }), F, /placeholder revision/);
    expect(refs(blueprints)).toBe(before);
  });

  it('upgrades a downstream package: both sides’ changes, the new resource with its merge key, the lock on the new tag; a merge that cannot be done is 409', async () => {
    const cloned = await create('deploy', 'app', 'ws1', { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.basens.v1' } } } });
    expect(cloned.status, JSON.stringify(cloned.body)).toBe(201);
    await publish('deploy.app.ws1');
    expect((await create('deploy', 'app', 'ws2', { type: 'edit', edit: { sourceRef: { name: 'deploy.app.ws1' } } })).status).toBe(201);
    const local = await resources('deploy.app.ws2');
    await setResources('deploy.app.ws2', { ...local, 'settings.yaml': local['settings.yaml'].replace('b: "1"', 'b: "local"') });
    // Content changes to a draft are recorded as Porch records them: a render commit, tasks unchanged.
    expect(await gitAsync(deploy.gitdir, ['log', '-1', '--format=%B', 'refs/heads/drafts/app/ws2'])).toBe(
      `Rendering package\n\n\nkpt:${JSON.stringify({ package: 'app', workspaceName: 'ws2', revision: '0', task: { type: 'render' } })}\n`,
    );
    const published = await publish('deploy.app.ws2');
    expect(published.spec.tasks?.map((t) => t.type)).toEqual(['edit']);
    expect(await gitAsync(deploy.gitdir, ['log', '-1', '--format=%B', 'refs/tags/app/v2'])).toBe(`Approving package revision app/2\n\nkpt:${JSON.stringify({ package: 'app', workspaceName: 'ws2', revision: '2' })}\n`);

    const upgrade = (ws: string, strategy?: string, oldName = 'blueprints.basens.v1') =>
      create('deploy', 'app', ws, {
        type: 'upgrade',
        upgrade: { oldUpstreamRef: { name: oldName }, newUpstreamRef: { name: 'blueprints.basens.v2' }, localPackageRevisionRef: { name: 'deploy.app.ws2' }, ...(strategy ? { strategy } : {}) },
      });
    const before = { refs: refs(deploy), list: await names() };
    const ff = await upgrade('ff', 'fast-forward');
    expect(ff.status, JSON.stringify(ff.body)).toBe(409);
    expect(ff.body.reason).toBe('Conflict');
    expect(ff.body.message).toMatch(/the fast-forward upgrade cannot be done: local package files have been modified/);
    expectInvalid(await upgrade('bad', undefined, 'deploy.app.ws1'), 'spec.tasks[0].upgrade.newUpstreamRef.name', /the old and new upstream must be revisions of one package/);
    expect({ refs: refs(deploy), list: await names() }).toEqual(before);

    const up = await upgrade('ws3');
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body.spec.tasks?.map((t) => t.type)).toEqual(['upgrade']);
    const lock = { repo: blueprints.gitdir, directory: 'basens', ref: 'basens/v2', commit: blueprints.resolve('refs/tags/basens/v2')! };
    expect(up.body.status?.upstreamLock).toEqual({ type: 'git', git: lock });
    const files = await resources('deploy.app.ws3');
    expect(YAML.parse(files['settings.yaml']).data).toEqual({ a: '2', b: 'local' });
    expect(files['service.yaml']).toBe(service.replace('metadata:\n', "metadata: # kpt-merge: /web\n").replace('  name: web\n', "  name: web\n  annotations:\n    internal.kpt.dev/upstream-identifier: '|Service|default|web'\n"));
    const kpt = YAML.parse(files.Kptfile);
    expect(kpt.metadata.name).toBe('app');
    expect(kpt.upstreamLock).toEqual({ type: 'git', git: lock });
  });
});
