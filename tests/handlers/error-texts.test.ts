import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import createPackageRevision from '../../handlers/create-packagerevision.ts';
import type { Repository } from '../../lib/api/repository.ts';
import { findResource } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { jsonRequest, syncRepository, testContext } from '../support/context.ts';
import { git, PorchRepoWriter, tempDir } from '../support/git-fixtures.ts';
import { startGitServer } from '../support/git-server.ts';

// What errors say about a create request: the revision by a name a user recognises, fields in
// Kubernetes' path form, the revision that really exists, the upstream file at fault; and a
// repository whose HEAD names a branch that is not there, while the registered branch is.

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
const kptfile = (name: string) => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${name}\n`;

interface Status {
  code: number;
  reason: string;
  message: string;
  details?: { name?: string; causes?: { field: string; message: string }[] };
}

describe('error texts of package revision writes', () => {
  const tmp = tempDir('porch-errtext-');
  let ctx: AppContext;
  let cleanup: () => Promise<void>;

  const create = async (spec: Record<string, unknown>, name?: string) => {
    const res = await createPackageRevision(ctx).request(
      jsonRequest('POST', `${NS}/packagerevisions`, { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default', ...(name ? { name } : {}) }, spec }),
    );
    return { status: res.status, body: (await res.json()) as Status };
  };

  async function register(name: string, gitdir: string): Promise<Repository> {
    const repo = await ctx.store.create(REPOS, { apiVersion: 'config.porch.kpt.dev/v1alpha1', kind: 'Repository', metadata: { name, namespace: 'default' }, spec: { type: 'git', git: { repo: gitdir, branch: 'main' } } });
    await syncRepository(ctx, repo);
    return (await ctx.store.get(REPOS, 'default', name)) as Repository;
  }

  beforeAll(async () => {
    ({ ctx, cleanup } = await testContext());
    const bp = PorchRepoWriter.create(join(tmp.path, 'bp.git'));
    bp.publish('good', 'v1', 1, { files: { Kptfile: kptfile('good'), 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n' } });
    bp.publish('broken', 'v1', 1, { files: { Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: [unclosed\n' } });
    bp.publish('listy', 'v1', 1, { files: { Kptfile: '- not\n- a mapping\n' } });
    await register('bp', bp.gitdir);
    PorchRepoWriter.create(join(tmp.path, 'deploy.git'));
    await register('deploy', join(tmp.path, 'deploy.git'));
  });

  afterAll(async () => {
    await cleanup?.();
    tmp.remove();
  });

  it('names a revision whose name the server makes by its parts, or by its package, never ""', async () => {
    const noRepo = await create({ packageName: 'web', workspaceName: 'ws' });
    expect(noRepo.status).toBe(422);
    expect(noRepo.body.message).toBe('PackageRevision.porch.kpt.dev "web" is invalid: spec.repository: Required value');
    expect(noRepo.body.details?.name).toBe('web');

    const unknownRepo = await create({ repository: 'nowhere', packageName: 'web', workspaceName: 'ws' });
    expect(unknownRepo.body.message).toMatch(/^PackageRevision\.porch\.kpt\.dev "nowhere\.web\.ws" is invalid: spec\.repository: Not found/);

    const badWorkspace = await create({ repository: 'deploy', packageName: 'web', workspaceName: 'Bad_WS' });
    expect(badWorkspace.body.message).toMatch(/^PackageRevision\.porch\.kpt\.dev "deploy\.web\.Bad_WS" is invalid: spec\.workspaceName/);

    // A name the client gave is the name used.
    const named = await create({ packageName: 'web', workspaceName: 'ws' }, 'mine');
    expect(named.body.message).toMatch(/^PackageRevision\.porch\.kpt\.dev "mine" is invalid/);
  });

  it('writes schema field paths as Kubernetes does: spec.tasks[0].upgrade.strategy', async () => {
    const r = await create({
      repository: 'deploy',
      packageName: 'web',
      workspaceName: 'ws',
      tasks: [{ type: 'upgrade', upgrade: { oldUpstreamRef: { name: 'a' }, newUpstreamRef: { name: 'b' }, localPackageRevisionRef: { name: 'c' }, strategy: 'sideways' } }],
    });
    expect(r.status).toBe(422);
    expect(r.body.details?.causes?.map((c) => c.field)).toEqual(['spec.tasks[0].upgrade.strategy']);
    expect(r.body.message).toMatch(/^PackageRevision\.porch\.kpt\.dev "deploy\.web\.ws" is invalid: spec\.tasks\[0\]\.upgrade\.strategy: /);

    const labels = await create({ repository: 'deploy', packageName: 'web', workspaceName: 'ws', packageMetadata: { labels: { 'app.kubernetes.io/name': 7 } } });
    expect(labels.status).toBe(422);
    expect(labels.body.details?.causes?.map((c) => c.field)).toEqual(['spec.packageMetadata.labels[app.kubernetes.io/name]']);
  });

  it('a second clone of a package names the revision that exists', async () => {
    const clone = { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'bp.good.v1' } } } };
    expect((await create({ repository: 'deploy', packageName: 'app', workspaceName: 'ws1', tasks: [clone] })).status).toBe(201);
    const again = await create({ repository: 'deploy', packageName: 'app', workspaceName: 'ws2', tasks: [clone] });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('AlreadyExists');
    expect(again.body.details?.name).toBe('deploy.app.ws1');
    expect(again.body.message).toMatch(/^packagerevisions\.porch\.kpt\.dev "deploy\.app\.ws1" already exists: clone cannot create a new revision for package "app"/);
  });

  it('an upstream whose Kptfile cannot be used is a 422 naming that Kptfile, not a 500', async () => {
    for (const [pkg, why] of [
      ['broken', /the Kptfile is not valid YAML/],
      ['listy', /the Kptfile is not a YAML mapping/],
    ] as const) {
      const r = await create({ repository: 'deploy', packageName: `from-${pkg}`, workspaceName: 'ws', tasks: [{ type: 'clone', clone: { upstreamRef: { upstreamRef: { name: `bp.${pkg}.v1` } } } }] });
      expect(r.status, JSON.stringify(r.body)).toBe(422);
      expect(r.body.details?.causes?.map((c) => c.field)).toEqual(['spec.tasks[0].clone.upstreamRef.upstreamRef.name']);
      expect(r.body.message).toContain(`the Kptfile of package revision "bp.${pkg}.v1" cannot be used`);
      expect(r.body.message).toMatch(why);
    }
    const fromGit = await create({
      repository: 'deploy',
      packageName: 'from-git',
      workspaceName: 'ws',
      tasks: [{ type: 'clone', clone: { upstreamRef: { type: 'git', git: { repo: join(tmp.path, 'bp.git'), ref: 'broken/v1', directory: 'broken' } } } }],
    });
    expect(fromGit.status, JSON.stringify(fromGit.body)).toBe(422);
    expect(fromGit.body.details?.causes?.map((c) => c.field)).toEqual(['spec.tasks[0].clone.upstreamRef.git.directory']);
    expect(fromGit.body.message).toContain('the Kptfile of "broken" at broken/v1 cannot be used: the Kptfile is not valid YAML');
  });

  it('a repository whose HEAD names a missing branch is Ready when its spec.git.branch exists', async () => {
    const w = PorchRepoWriter.create(join(tmp.path, 'headless.git'));
    w.publish('pkg', 'v1', 1, { files: { Kptfile: kptfile('pkg') } });
    git(w.gitdir, ['symbolic-ref', 'HEAD', 'refs/heads/master']);
    expect(w.resolve('refs/heads/master')).toBeUndefined();
    // Read from the path and over HTTP, where git http-backend advertises no HEAD at all.
    const server = await startGitServer({ root: tmp.path });
    try {
      for (const [name, url] of [['headless', w.gitdir], ['headless-http', `${server.url}/headless.git`]]) {
        const repo = await register(name, url);
        const ready = repo.status?.conditions?.find((c) => c.type === 'Ready');
        expect(ready, `${name}: ${JSON.stringify(repo.status)}`).toMatchObject({ status: 'True', reason: 'Ready' });
        expect(ctx.engine.repository('default', name)?.record(`${name}.pkg.v1`)?.revision).toBe(1);
      }
    } finally {
      await server.stop();
    }
  });
});
