import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { kubectlAgainst } from '../support/kubectl-session.ts';
import { git, porchRepo } from '../support/git-fixtures.ts';
import { repositoryYaml } from '../support/manifests.ts';

// What a kubectl user of a Nephio-style catalog meets: release tags listed and cloned from, the
// branch placeholder proposed for deletion and deleted, Repository status following the writes, and
// `kubectl apply` of PackageRevisionResources (last-applied kept, pruned files removed).

describe('release tags, the branch placeholder and kubectl apply of resources', () => {
  let dir: string;
  let server: DevServer;
  let catalog: string;
  const session = kubectlAgainst(() => server.kubeconfig);
  const { k, ok, json } = session;
  const budget = { timeout: 60_000, interval: 200 };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-e2e-tags-'));
    catalog = porchRepo(dir, 'catalog', [{ path: 'workloads/du', revisions: 1 }, { path: 'other', revisions: 1 }]);
    git(catalog, ['tag', 'workloads/du/v2.0.0', 'workloads/du/v1']);
    server = await startDevServer({ args: ['--sync-interval', '0'] });
    await ok(['apply', '-f', '-'], repositoryYaml({ name: 'catalog', repo: catalog }));
    await session.repositoryReady('catalog');
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists a release tag as revision -1 and clones from it', async () => {
    const tag = await json(['get', 'packagerevision', 'catalog.workloads.du.v2.0.0']);
    expect(tag.spec).toMatchObject({ revision: -1, workspaceName: 'v2.0.0', lifecycle: 'Published' });
    const pr = YAML.stringify({
      apiVersion: 'porch.kpt.dev/v1alpha1',
      kind: 'PackageRevision',
      metadata: { namespace: 'default', name: 'catalog.du-copy.ws' },
      spec: { repository: 'catalog', packageName: 'du-copy', workspaceName: 'ws', tasks: [{ type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'catalog.workloads.du.v2.0.0' } } } }] },
    });
    await ok(['create', '-f', '-'], pr);
    const cloned = await json(['get', 'packagerevision', 'catalog.du-copy.ws']);
    expect(cloned.status.upstreamLock.git).toMatchObject({ ref: 'workloads/du/v2.0.0', directory: 'workloads/du' });
    // A new package: Repository status counts it without waiting for a sync.
    await expect.poll(async () => (await json(['get', 'repository', 'catalog'])).status?.packageCount, budget).toBe(3);
  });

  it('applies PackageRevisionResources twice without a warning, and a file left out of the manifest is removed', async () => {
    const name = 'catalog.du-copy.ws';
    const prr = await json(['get', 'packagerevisionresources', name]);
    const manifest = (resources: Record<string, string>) =>
      YAML.stringify({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevisionResources', metadata: { name, namespace: 'default' }, spec: { resources } });
    const extra = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n';
    const files = { ...prr.spec.resources, 'extra.yaml': extra };

    const first = await k(['apply', '-f', '-'], manifest(files));
    expect(first.code, first.stderr).toBe(0);
    // The first apply of an object kubectl did not create warns once, as with any kind.
    expect(first.stderr).toMatch(/missing the kubectl.kubernetes.io\/last-applied-configuration annotation/);
    const applied = await json(['get', 'packagerevisionresources', name]);
    expect(applied.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain('extra.yaml');
    const second = await k(['apply', '-f', '-'], manifest(files));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/last-applied-configuration/);

    const { 'extra.yaml': _dropped, ...without } = files;
    await ok(['apply', '-f', '-'], manifest(without));
    const after = await json(['get', 'packagerevisionresources', name]);
    expect(Object.keys(after.spec.resources)).not.toContain('extra.yaml');
    expect(Object.keys(after.spec.resources)).toContain('Kptfile');
    // The annotation is the revision's: the PackageRevision shows it too.
    const pr = await json(['get', 'packagerevision', name]);
    expect(pr.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).not.toContain('extra.yaml');
  });

  it('proposes the branch placeholder for deletion through approval, undoes it, and deletes it', async () => {
    const approval = (lifecycle: string) => ['patch', 'packagerevision', 'catalog.other.main', '--subresource=approval', '--type=merge', '-p', JSON.stringify({ spec: { lifecycle } })];
    await ok(approval('DeletionProposed'));
    expect((await json(['get', 'packagerevision', 'catalog.other.main'])).spec.lifecycle).toBe('DeletionProposed');
    await ok(approval('Published'));
    expect((await json(['get', 'packagerevision', 'catalog.other.main'])).spec.lifecycle).toBe('Published');
    const refused = await k(['delete', 'packagerevision', 'catalog.other.main']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/must be proposed for deletion/);

    await ok(approval('DeletionProposed'));
    await ok(['delete', 'packagerevision', 'catalog.other.main']);
    expect(git(catalog, ['log', '-1', '--format=%s', 'main'])).toBe('Delete other');
    const gone = await k(['get', 'packagerevision', 'catalog.other.main']);
    expect(gone.stderr).toMatch(/NotFound|not found/);
  });
});
