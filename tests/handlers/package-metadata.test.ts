import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import createPackageRevision from '../../handlers/create-packagerevision.ts';
import getPackageRevision from '../../handlers/get-packagerevision.ts';
import getPackageRevisionResources from '../../handlers/get-packagerevisionresources.ts';
import updatePackageRevision from '../../handlers/update-packagerevision.ts';
import updateResources from '../../handlers/update-resources.ts';
import { findResource } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { jsonRequest, syncRepository, testContext } from '../support/context.ts';
import { PorchRepoWriter, tempDir } from '../support/git-fixtures.ts';

// spec.packageMetadata as Porch keeps it (its TestPackageMetadataFromKptfile): the Kptfile's
// metadata labels and annotations, read back into the spec; given at create (any task) the keys are
// added to what the package has, given on update of a Draft each map replaces the Kptfile's.

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';

interface PR {
  metadata: { name: string; resourceVersion: string };
  spec: { lifecycle: string; packageMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } };
}
interface Kptfile {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

describe('spec.packageMetadata and the Kptfile', () => {
  const tmp = tempDir('porch-pkgmeta-');
  let ctx: AppContext;
  let cleanup: () => Promise<void>;

  const create = async (spec: Record<string, unknown>) => {
    const res = await createPackageRevision(ctx).request(jsonRequest('POST', `${NS}/packagerevisions`, { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' }, spec }));
    return { status: res.status, body: (await res.json()) as PR };
  };
  const get = async (name: string) => (await (await getPackageRevision(ctx).request(jsonRequest('GET', `${NS}/packagerevisions/${name}`))).json()) as PR;
  const resources = async (name: string) =>
    ((await (await getPackageRevisionResources(ctx).request(jsonRequest('GET', `${NS}/packagerevisionresources/${name}`))).json()) as { metadata: { resourceVersion: string }; spec: { resources: Record<string, string> } });
  const kptfileOf = async (name: string) => YAML.parse((await resources(name)).spec.resources.Kptfile) as Kptfile;
  const update = async (pr: PR) => {
    const res = await updatePackageRevision(ctx).request(jsonRequest('PUT', `${NS}/packagerevisions/${pr.metadata.name}`, pr));
    return { status: res.status, body: (await res.json()) as PR & { message?: string } };
  };

  beforeAll(async () => {
    ({ ctx, cleanup } = await testContext());
    const bp = PorchRepoWriter.create(join(tmp.path, 'bp.git'));
    bp.publish('basens', 'v1', 1, {
      files: {
        Kptfile: 'apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: basens\n  labels:\n    test-label: test-value\n  annotations:\n    test-annotation: "true"\ninfo:\n  description: base\n',
        'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: example\n',
      },
    });
    for (const name of ['bp', 'deploy']) {
      if (name === 'deploy') PorchRepoWriter.create(join(tmp.path, 'deploy.git'));
      const repo = await ctx.store.create(REPOS, { apiVersion: 'config.porch.kpt.dev/v1alpha1', kind: 'Repository', metadata: { name, namespace: 'default' }, spec: { type: 'git', git: { repo: join(tmp.path, `${name}.git`), branch: 'main' } } });
      await syncRepository(ctx, repo);
    }
  });

  afterAll(async () => {
    await cleanup?.();
    tmp.remove();
  });

  it('clone: the given keys join the upstream’s in the Kptfile and in the spec; later edits of either side show in the other', async () => {
    const r = await create({
      repository: 'deploy',
      packageName: 'meta',
      workspaceName: 'ws',
      tasks: [{ type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'bp.basens.v1' } } } }],
      packageMetadata: { labels: { 'porch.dev/new-label': 'new-label-value' }, annotations: { 'porch.dev/new-annotation': 'new-annotation-value' } },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const labels = { 'test-label': 'test-value', 'porch.dev/new-label': 'new-label-value' };
    expect(r.body.spec.packageMetadata?.labels).toEqual(labels);
    expect(r.body.spec.packageMetadata?.annotations).toMatchObject({ 'test-annotation': 'true', 'porch.dev/new-annotation': 'new-annotation-value' });
    let kpt = await kptfileOf('deploy.meta.ws');
    expect(kpt.metadata.labels).toEqual(labels);
    expect(kpt.metadata.annotations).toMatchObject({ 'test-annotation': 'true', 'porch.dev/new-annotation': 'new-annotation-value' });

    // The Kptfile edited through PackageRevisionResources: the spec follows.
    const prr = await resources('deploy.meta.ws');
    const doc = YAML.parseDocument(prr.spec.resources.Kptfile);
    doc.setIn(['metadata', 'labels', 'porch.dev/test-label'], 'added-by-test');
    const put = await updateResources(ctx).request(
      jsonRequest('PUT', `${NS}/packagerevisionresources/deploy.meta.ws`, { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevisionResources', metadata: { name: 'deploy.meta.ws', namespace: 'default', resourceVersion: prr.metadata.resourceVersion }, spec: { resources: { ...prr.spec.resources, Kptfile: doc.toString() } } }),
    );
    expect(put.status, await put.clone().text()).toBe(200);
    expect((await get('deploy.meta.ws')).spec.packageMetadata?.labels).toEqual({ ...labels, 'porch.dev/test-label': 'added-by-test' });

    // The spec updated: each map given replaces the Kptfile's; the Kptfile's other content stays.
    const cur = await get('deploy.meta.ws');
    const wanted = { labels: { 'porch.dev/new-label': 'changed-label-value', 'porch.dev/added-label': 'added-label-value' }, annotations: { 'porch.dev/new-annotation': 'changed-annotation-value' } };
    const u = await update({ ...cur, spec: { ...cur.spec, packageMetadata: wanted } });
    expect(u.status, JSON.stringify(u.body)).toBe(200);
    expect(u.body.spec.packageMetadata).toEqual(wanted);
    kpt = await kptfileOf('deploy.meta.ws');
    expect(kpt.metadata.labels).toEqual(wanted.labels);
    expect(kpt.metadata.annotations).toEqual(wanted.annotations);
    expect((await resources('deploy.meta.ws')).spec.resources.Kptfile).toMatch(/^upstreamLock:/m);

    // A map not given is left as it is.
    const again = await get('deploy.meta.ws');
    const onlyLabels = await update({ ...again, spec: { ...again.spec, packageMetadata: { labels: { only: 'this' } } } });
    expect(onlyLabels.status).toBe(200);
    expect(onlyLabels.body.spec.packageMetadata).toEqual({ labels: { only: 'this' }, annotations: wanted.annotations });
  });

  it('init and edit: the given keys are written into the new revision’s Kptfile too', async () => {
    const init = await create({ repository: 'bp', packageName: 'fresh', workspaceName: 'ws', packageMetadata: { labels: { team: 'a' }, annotations: { note: 'hello' } } });
    expect(init.status, JSON.stringify(init.body)).toBe(201);
    const kpt = await kptfileOf('bp.fresh.ws');
    expect(kpt.metadata.labels).toEqual({ team: 'a' });
    // kpt pkg init's own annotation stays.
    expect(kpt.metadata.annotations).toEqual({ 'config.kubernetes.io/local-config': 'true', note: 'hello' });

    const edit = await create({ repository: 'bp', packageName: 'basens', workspaceName: 'v2', tasks: [{ type: 'edit', edit: { sourceRef: { name: 'bp.basens.v1' } } }], packageMetadata: { labels: { stage: 'two' } } });
    expect(edit.status, JSON.stringify(edit.body)).toBe(201);
    expect(edit.body.spec.packageMetadata?.labels).toEqual({ 'test-label': 'test-value', stage: 'two' });
  });
});
