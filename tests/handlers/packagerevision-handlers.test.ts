import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/context.ts';
import approvePackageRevision from '../../handlers/approve-packagerevision.ts';
import createPackageRevision from '../../handlers/create-packagerevision.ts';
import deletePackageRevision from '../../handlers/delete-packagerevision.ts';
import getPackageRevisionResources from '../../handlers/get-packagerevisionresources.ts';
import listPackageRevisions from '../../handlers/list-packagerevisions.ts';
import listPackages from '../../handlers/list-packages.ts';
import updatePackageRevision from '../../handlers/update-packagerevision.ts';
import updateResources from '../../handlers/update-resources.ts';
import { blueprintsContext } from '../support/blueprints-context.ts';
import { jsonRequest } from '../support/context.ts';
import { git } from '../support/git-fixtures.ts';

const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';

describe('PackageRevision handlers, each invoked alone', () => {
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  let bare: string;

  beforeEach(async () => {
    ({ ctx, cleanup, bare } = await blueprintsContext());
  });
  afterEach(async () => {
    await cleanup();
  });

  const draft = (pkg: string, ws: string) => ({
    apiVersion: 'porch.kpt.dev/v1alpha1',
    kind: 'PackageRevision',
    metadata: { namespace: 'default' },
    spec: { packageName: pkg, workspaceName: ws, repository: 'blueprints' },
  });

  it('runs the lifecycle: create, edit resources, propose, approve, latest label', async () => {
    const created = await createPackageRevision(ctx).request(jsonRequest('POST', `${NS}/packagerevisions`, draft('net/basens', 'v1')));
    expect(created.status).toBe(201);
    const pr = await created.json();
    expect(pr.metadata.name).toBe('blueprints.net.basens.v1');
    expect(pr.spec.lifecycle).toBe('Draft');
    expect(pr.spec.tasks[0].type).toBe('init');
    expect(git(bare, ['for-each-ref', '--format=%(refname)'])).toContain('refs/heads/drafts/net/basens/v1');

    const prr = await (await getPackageRevisionResources(ctx).request(jsonRequest('GET', `${NS}/packagerevisionresources/${pr.metadata.name}`))).json();
    expect(Object.keys(prr.spec.resources).sort()).toEqual(['Kptfile', 'README.md', 'package-context.yaml']);
    prr.spec.resources['cm.yaml'] = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n';
    const upd = await updateResources(ctx).request(jsonRequest('PUT', `${NS}/packagerevisionresources/${pr.metadata.name}`, prr));
    expect(upd.status).toBe(200);

    const cur = await (await listPackageRevisions(ctx).request(jsonRequest('GET', `${NS}/packagerevisions`))).json();
    const fresh = cur.items.find((i: { metadata: { name: string } }) => i.metadata.name === pr.metadata.name);
    const proposed = await updatePackageRevision(ctx).request(
      jsonRequest('PUT', `${NS}/packagerevisions/${pr.metadata.name}`, { ...fresh, spec: { ...fresh.spec, lifecycle: 'Proposed' } }),
    );
    expect(proposed.status).toBe(200);
    const p = await proposed.json();
    expect(p.spec.lifecycle).toBe('Proposed');

    const approved = await approvePackageRevision(ctx).request(
      jsonRequest('PUT', `${NS}/packagerevisions/${pr.metadata.name}/approval`, { ...p, spec: { ...p.spec, lifecycle: 'Published' } }),
    );
    expect(approved.status).toBe(200);
    const a = await approved.json();
    expect(a.spec.lifecycle).toBe('Published');
    expect(a.spec.revision).toBe(1);
    expect(a.metadata.labels['kpt.dev/latest-revision']).toBe('true');
    expect(git(bare, ['tag', '-l'])).toContain('net/basens/v1');

    const pkgs = await (await listPackages(ctx).request(jsonRequest('GET', `${NS}/packages`))).json();
    expect(pkgs.items.map((x: { metadata: { name: string }; status: { latestRevision: number } }) => [x.metadata.name, x.status.latestRevision])).toEqual([
      ['blueprints.net.basens', 1],
    ]);
  });

  it('refuses illegal transitions and edits of published revisions, changing nothing in git', async () => {
    const pr = await (await createPackageRevision(ctx).request(jsonRequest('POST', `${NS}/packagerevisions`, draft('app', 'ws')))).json();
    const refsBefore = git(bare, ['for-each-ref', '--format=%(refname) %(objectname)']);
    const approveDraft = await approvePackageRevision(ctx).request(
      jsonRequest('PUT', `${NS}/packagerevisions/${pr.metadata.name}/approval`, { ...pr, spec: { ...pr.spec, lifecycle: 'Published' } }),
    );
    expect(approveDraft.status).toBe(409);
    expect((await approveDraft.json()).message).toMatch(/only Proposed packages can be approved/);

    const dup = await createPackageRevision(ctx).request(jsonRequest('POST', `${NS}/packagerevisions`, draft('app', 'ws')));
    expect(dup.status).toBe(409);
    expect((await dup.json()).reason).toBe('AlreadyExists');

    const stale = await updatePackageRevision(ctx).request(
      jsonRequest('PUT', `${NS}/packagerevisions/${pr.metadata.name}`, { ...pr, metadata: { ...pr.metadata, resourceVersion: '1' }, spec: { ...pr.spec, lifecycle: 'Proposed' } }),
    );
    expect(stale.status).toBe(409);
    expect(git(bare, ['for-each-ref', '--format=%(refname) %(objectname)'])).toBe(refsBefore);

    const badKptfile = await updateResources(ctx).request(
      jsonRequest('PUT', `${NS}/packagerevisionresources/${pr.metadata.name}`, {
        apiVersion: 'porch.kpt.dev/v1alpha1',
        kind: 'PackageRevisionResources',
        metadata: { name: pr.metadata.name },
        spec: { resources: { Kptfile: 'kind: Nope', '../escape.yaml': 'x: 1' } },
      }),
    );
    expect(badKptfile.status).toBe(422);
    const causes = (await badKptfile.json()).details.causes.map((c: { field: string }) => c.field);
    expect(causes).toContain('spec.resources[../escape.yaml]');
    expect(causes).toContain('spec.resources[Kptfile]');
    expect(git(bare, ['for-each-ref', '--format=%(refname) %(objectname)'])).toBe(refsBefore);
  });

  it('deletes drafts, refuses to delete a published revision directly', async () => {
    const pr = await (await createPackageRevision(ctx).request(jsonRequest('POST', `${NS}/packagerevisions`, draft('gone', 'ws')))).json();
    const del = await deletePackageRevision(ctx).request(jsonRequest('DELETE', `${NS}/packagerevisions/${pr.metadata.name}`));
    expect(del.status).toBe(200);
    expect(git(bare, ['for-each-ref', '--format=%(refname)'])).not.toContain('drafts/gone');
    const missing = await deletePackageRevision(ctx).request(jsonRequest('DELETE', `${NS}/packagerevisions/${pr.metadata.name}`));
    expect(missing.status).toBe(404);
  });

  it('filters with field and label selectors; bad selectors are 400', async () => {
    await createPackageRevision(ctx).request(jsonRequest('POST', `${NS}/packagerevisions`, draft('a', 'ws')));
    await createPackageRevision(ctx).request(jsonRequest('POST', `${NS}/packagerevisions`, draft('b', 'ws')));
    const list = listPackageRevisions(ctx);
    const byPkgRes = await list.request(jsonRequest("GET", `${NS}/packagerevisions?fieldSelector=spec.packageName=b,spec.lifecycle=Draft`));
    const byPkg = await byPkgRes.json();
    expect(byPkgRes.status, JSON.stringify(byPkg)).toBe(200);
    expect(byPkg.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['blueprints.b.ws']);
    const none = await (await list.request(jsonRequest('GET', `${NS}/packagerevisions?fieldSelector=spec.packageName=b,spec.lifecycle=Published`))).json();
    expect(none.items).toEqual([]);
    expect((await list.request(jsonRequest('GET', `${NS}/packagerevisions?fieldSelector=spec.lifecycle=Bogus`))).status).toBe(400);
    expect((await list.request(jsonRequest('GET', `${NS}/packagerevisions?fieldSelector=spec.nothing=x`))).status).toBe(400);
    const table = await (
      await list.request(jsonRequest('GET', `${NS}/packagerevisions`, undefined, '', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' }))
    ).json();
    expect(table.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Package', 'WorkspaceName', 'Revision', 'Latest', 'Lifecycle', 'Repository']);
  });
});
