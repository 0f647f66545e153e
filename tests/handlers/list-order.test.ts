import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findResource } from '../../lib/api/resources.ts';
import type { Repository } from '../../lib/api/repository.ts';
import type { AppContext } from '../../lib/context.ts';
import createPackageRevision from '../../handlers/create-packagerevision.ts';
import listPackageRevisionResources from '../../handlers/list-packagerevisionresources.ts';
import listPackageRevisions from '../../handlers/list-packagerevisions.ts';
import listPackages from '../../handlers/list-packages.ts';
import { listStoreObjects } from '../../handlers/store-object/list.ts';
import { jsonRequest, syncRepository, testContext } from '../support/context.ts';
import { porchRepo } from '../support/git-fixtures.ts';

// kube-apiserver lists in namespace/name order; so must every list here, whatever order objects came in.

const SECRETS = findResource('', 'v1', 'secrets')!;
const NAMESPACES = findResource('', 'v1', 'namespaces')!;
const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const TABLE = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };

interface Named {
  metadata: { namespace?: string; name: string };
}
const keys = (items: Named[]) => items.map((i) => `${i.metadata.namespace ?? ''}/${i.metadata.name}`);
const rowKeys = (rows: { object: Named }[]) => keys(rows.map((r) => r.object));
const sorted = (k: string[]) => [...k].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('list order', () => {
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  let dir: string;
  beforeEach(async () => {
    ({ ctx, cleanup } = await testContext());
    dir = await mkdtemp(join(tmpdir(), 'order-'));
  });
  afterEach(async () => {
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('store kinds: namespace/name, byte order, as JSON, Table and the initial events of a watch', async () => {
    for (const [ns, name] of [['team-b', 'zeta'], ['team-a', 'beta'], ['team-b', 'alpha'], ['team-a', 'a-b'], ['team-a', 'a.b'], ['team-a', 'Zed']])
      await ctx.store.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: ns, name }, data: {} });
    for (const name of ['team-b', 'team-a']) await ctx.store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    const expected = ['team-a/Zed', 'team-a/a-b', 'team-a/a.b', 'team-a/beta', 'team-b/alpha', 'team-b/zeta'];

    const h = listStoreObjects(SECRETS)(ctx);
    const list = await (await h.request(jsonRequest('GET', '/api/v1/secrets'))).json();
    expect(keys(list.items)).toEqual(expected);
    const table = await (await h.request(jsonRequest('GET', '/api/v1/secrets?includeObject=Object', undefined, '', TABLE))).json();
    expect(rowKeys(table.rows)).toEqual(expected);
    const one = await (await h.request(jsonRequest('GET', '/api/v1/namespaces/team-b/secrets'))).json();
    expect(keys(one.items)).toEqual(['team-b/alpha', 'team-b/zeta']);

    const nss = await (await listStoreObjects(NAMESPACES)(ctx).request(jsonRequest('GET', '/api/v1/namespaces'))).json();
    expect(keys(nss.items)).toEqual(expect.arrayContaining(['/default', '/team-a', '/team-b']));
    expect(keys(nss.items)).toEqual(sorted(keys(nss.items)));

    const events: Named[] = [];
    const stop = ctx.store.watch(SECRETS, { send: (ev) => events.push(ev.object as Named) });
    stop();
    expect(keys(events)).toEqual(expected);
  });

  it('engine kinds: packagerevisions, packagerevisionresources and packages in namespace/name order', async () => {
    // Repositories registered and packages created out of order, in two namespaces.
    for (const name of ['team-b', 'team-a']) await ctx.store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    for (const [ns, name] of [['team-b', 'zrepo'], ['team-a', 'repo'], ['team-a', 'repo-x'], ['team-b', 'arepo']]) {
      const repo = await ctx.store.create(REPOS, {
        apiVersion: 'config.porch.kpt.dev/v1alpha1',
        kind: 'Repository',
        metadata: { name, namespace: ns },
        spec: { type: 'git', git: { repo: porchRepo(dir, `${ns}-${name}`, []), branch: 'main', directory: '/' } },
      });
      await syncRepository(ctx, repo);
    }
    const create = createPackageRevision(ctx);
    for (const [ns, repository, packageName, workspaceName] of [
      ['team-b', 'zrepo', 'web', 'v1'],
      ['team-a', 'repo-x', 'db', 'v2'],
      ['team-a', 'repo', 'web', 'v2'],
      ['team-a', 'repo', 'web', 'v1'],
      ['team-a', 'repo', 'app', 'v1'],
      ['team-b', 'arepo', 'web', 'v1'],
    ]) {
      const res = await create.request(
        jsonRequest('POST', `/apis/porch.kpt.dev/v1alpha1/namespaces/${ns}/packagerevisions`, {
          apiVersion: 'porch.kpt.dev/v1alpha1',
          kind: 'PackageRevision',
          metadata: { namespace: ns },
          spec: { packageName, workspaceName, repository },
        }),
      );
      expect(res.status).toBe(201);
    }
    const expected = ['team-a/repo-x.db.v2', 'team-a/repo.app.v1', 'team-a/repo.web.v1', 'team-a/repo.web.v2', 'team-b/arepo.web.v1', 'team-b/zrepo.web.v1'];
    expect(sorted(expected)).toEqual(expected);

    const prs = await (await listPackageRevisions(ctx).request(jsonRequest('GET', '/apis/porch.kpt.dev/v1alpha1/packagerevisions'))).json();
    expect(keys(prs.items)).toEqual(expected);
    const table = await (
      await listPackageRevisions(ctx).request(jsonRequest('GET', '/apis/porch.kpt.dev/v1alpha1/packagerevisions?includeObject=Object', undefined, '', TABLE))
    ).json();
    expect(rowKeys(table.rows)).toEqual(expected);
    const teamA = await (await listPackageRevisions(ctx).request(jsonRequest('GET', '/apis/porch.kpt.dev/v1alpha1/namespaces/team-a/packagerevisions'))).json();
    expect(keys(teamA.items)).toEqual(expected.filter((k) => k.startsWith('team-a/')));

    const prrs = await (await listPackageRevisionResources(ctx).request(jsonRequest('GET', '/apis/porch.kpt.dev/v1alpha1/packagerevisionresources'))).json();
    expect(keys(prrs.items)).toEqual(expected);

    const pkgs = await (await listPackages(ctx).request(jsonRequest('GET', '/apis/porch.kpt.dev/v1alpha1/packages'))).json();
    const pkgKeys = keys(pkgs.items);
    expect(pkgKeys).toEqual(['team-a/repo-x.db', 'team-a/repo.app', 'team-a/repo.web', 'team-b/arepo.web', 'team-b/zrepo.web']);
  });
});
