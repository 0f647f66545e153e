import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { findResource, NAMESPACES, SECRETS } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import type { HandlerEnv } from '../../handlers/http/env.ts';
import approvePackageRevision from '../../handlers/approve-packagerevision.ts';
import createPackageRevision from '../../handlers/create-packagerevision.ts';
import deletePackageRevision from '../../handlers/delete-packagerevision.ts';
import getPackageRevisionResources from '../../handlers/get-packagerevisionresources.ts';
import getPackageRevision from '../../handlers/get-packagerevision.ts';
import patchPackageRevision from '../../handlers/patch-packagerevision.ts';
import updatePackageRevision from '../../handlers/update-packagerevision.ts';
import updateResources from '../../handlers/update-resources.ts';
import { createStoreObject } from '../../handlers/store-object/create.ts';
import { deleteStoreObject } from '../../handlers/store-object/delete.ts';
import { patchStoreObject } from '../../handlers/store-object/patch.ts';
import { updateStoreObject } from '../../handlers/store-object/update.ts';
import { blueprintsContext } from '../support/blueprints-context.ts';
import { jsonRequest, syncRepository } from '../support/context.ts';
import { git } from '../support/git-fixtures.ts';

// Server-side dry run (dryRun=All) of every write: the answer is what the write would answer, and
// nothing changes: no git ref or object, no store file, no watch event.

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
const CONFIG = '/apis/config.porch.kpt.dev/v1alpha1/namespaces/default';
const DRY = '?dryRun=All';
const MERGE = 'application/merge-patch+json';

async function filesUnder(root: string, skip: (rel: string) => boolean): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = join(dir, e.name);
      const rel = relative(root, full);
      if (skip(rel)) continue;
      if (e.isDirectory()) await walk(full);
      else out[rel] = await readFile(full, 'utf8');
    }
  };
  await walk(root);
  return out;
}

/** Whatever a write could change besides its answer: the object's resourceVersion, and bits named only when written. */
function comparable(obj: Record<string, unknown>): unknown {
  const o = structuredClone(obj) as { metadata: Record<string, unknown>; status?: { selfLock?: { git?: { commit?: string } }; publishTimestamp?: string } };
  delete o.metadata.resourceVersion;
  delete o.metadata.creationTimestamp;
  delete o.metadata.uid;
  if (o.status?.selfLock?.git) delete o.status.selfLock.git.commit;
  if (o.status) delete o.status.publishTimestamp;
  return o;
}

describe('server-side dry run', () => {
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  let dataDir: string;
  let bare: string;
  let events: string[];
  let unsubscribe: () => void;

  const call = (h: (ctx: AppContext) => Hono<HandlerEnv>, method: string, path: string, body?: unknown, type?: string) =>
    h(ctx).request(jsonRequest(method, path, body, type));
  const json = async (r: Response | Promise<Response>, status = 200) => {
    const res = await r;
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(status);
    return body;
  };

  /** Refs and objects of the git repository, every store file, and the events watchers got. */
  async function state() {
    return {
      refs: git(bare, ['for-each-ref', '--format=%(refname) %(objectname)']),
      objects: Object.keys(await filesUnder(join(bare, 'objects'), () => false)).sort(),
      store: await filesUnder(dataDir, (rel) => rel === 'git' || rel.startsWith(`git/`)),
      events: [...events],
    };
  }

  /** `fn` (a dry run) leaves everything as it was. */
  async function unchangedBy<T>(fn: () => Promise<T>): Promise<T> {
    const before = await state();
    const out = await fn();
    expect(await state()).toEqual(before);
    return out;
  }

  const draft = (pkg: string, ws: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'porch.kpt.dev/v1alpha1',
    kind: 'PackageRevision',
    metadata: { namespace: 'default', ...extra },
    spec: { packageName: pkg, workspaceName: ws, repository: 'blueprints' },
  });

  beforeEach(async () => {
    ({ ctx, cleanup, dataDir, bare } = await blueprintsContext());
    events = [];
    const hub = (type: string, name?: string) => events.push(`${type} ${name}`);
    const a = ctx.engine.revisionHub.subscribe({ filter: () => true, send: (ev) => hub(ev.type, ev.object.metadata.name) });
    const b = ctx.engine.packageHub.subscribe({ filter: () => true, send: (ev) => hub(ev.type, ev.object.metadata.name) });
    const c = ctx.store.watch(REPOS, { resourceVersion: ctx.store.currentResourceVersion(), send: (ev) => hub(ev.type, 'repository') });
    unsubscribe = () => [a, b, c].forEach((u) => u());
  });
  afterEach(async () => {
    unsubscribe();
    await cleanup();
  });

  it('create answers the draft it would make, with its labels, and makes nothing', async () => {
    const body = draft('net/basens', 'ws1', { labels: { team: 'a' } });
    const dry = await unchangedBy(() => json(call(createPackageRevision, 'POST', `${NS}/packagerevisions${DRY}`, body), 201));
    expect(dry.metadata.resourceVersion).toBeUndefined();
    await json(call(getPackageRevision, 'GET', `${NS}/packagerevisions/blueprints.net.basens.ws1`), 404);
    const real = await json(call(createPackageRevision, 'POST', `${NS}/packagerevisions`, body), 201);
    expect(comparable(dry)).toEqual(comparable(real));
    expect(dry.metadata.labels).toEqual({ team: 'a' });
    expect(dry.spec.tasks[0].type).toBe('init');
    // What already exists is refused as the write would be.
    const dup = await call(createPackageRevision, 'POST', `${NS}/packagerevisions${DRY}`, body);
    expect(dup.status).toBe(409);
  });

  it('update, patch and approval answer the revision they would make, and change nothing', async () => {
    const pr = await json(call(createPackageRevision, 'POST', `${NS}/packagerevisions`, draft('app', 'ws')), 201);
    const path = `${NS}/packagerevisions/${pr.metadata.name}`;

    // PUT: labels and readiness gates (a Kptfile commit on the draft).
    const put = { ...pr, metadata: { ...pr.metadata, labels: { stage: 'dev' } }, spec: { ...pr.spec, readinessGates: [{ conditionType: 'ok' }] } };
    const dryPut = await unchangedBy(() => json(call(updatePackageRevision, 'PUT', `${path}${DRY}`, put)));
    expect(dryPut.metadata.resourceVersion).toBe(pr.metadata.resourceVersion);
    const realPut = await json(call(updatePackageRevision, 'PUT', path, put));
    expect(comparable(dryPut)).toEqual(comparable(realPut));
    expect(realPut.spec.readinessGates).toEqual([{ conditionType: 'ok' }]);

    // PATCH: propose.
    const propose = { spec: { lifecycle: 'Proposed' } };
    const dryPatch = await unchangedBy(() => json(call(patchPackageRevision, 'PATCH', `${path}${DRY}`, propose, MERGE)));
    expect(dryPatch.spec.lifecycle).toBe('Proposed');
    expect((await json(call(getPackageRevision, 'GET', path))).spec.lifecycle).toBe('Draft');
    const realPatch = await json(call(patchPackageRevision, 'PATCH', path, propose, MERGE));
    expect(comparable(dryPatch)).toEqual(comparable(realPatch));

    // Approval PUT: publish, with the revision number it would get.
    const publish = { ...realPatch, spec: { ...realPatch.spec, lifecycle: 'Published' } };
    const dryApprove = await unchangedBy(() => json(call(approvePackageRevision, 'PUT', `${path}/approval${DRY}`, publish)));
    expect(dryApprove.spec).toMatchObject({ lifecycle: 'Published', revision: 1 });
    expect(dryApprove.status.selfLock.git.ref).toBe('app/v1');
    expect(dryApprove.metadata.labels['kpt.dev/latest-revision']).toBe('true');
    expect(git(bare, ['tag', '-l'])).toBe('');
    const realApprove = await json(call(approvePackageRevision, 'PUT', `${path}/approval`, publish));
    expect(comparable(dryApprove)).toEqual(comparable(realApprove));

    // Approval PATCH: propose deletion.
    const proposeDelete = { spec: { lifecycle: 'DeletionProposed' } };
    const dryDp = await unchangedBy(() => json(call(approvePackageRevision, 'PATCH', `${path}/approval${DRY}`, proposeDelete, MERGE)));
    expect(dryDp.spec.lifecycle).toBe('DeletionProposed');
    const realDp = await json(call(approvePackageRevision, 'PATCH', `${path}/approval`, proposeDelete, MERGE));
    expect(comparable(dryDp)).toEqual(comparable(realDp));

    // A refused transition is refused in a dry run too.
    const bad = await call(approvePackageRevision, 'PATCH', `${path}/approval${DRY}`, { spec: { lifecycle: 'Draft' } }, MERGE);
    expect(bad.status).toBeGreaterThanOrEqual(400);
  });

  it('PackageRevisionResources PUT and PATCH answer the files they would write, and write none', async () => {
    const pr = await json(call(createPackageRevision, 'POST', `${NS}/packagerevisions`, draft('app', 'ws')), 201);
    const path = `${NS}/packagerevisionresources/${pr.metadata.name}`;
    const prr = await json(call(getPackageRevisionResources, 'GET', path));
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n';
    const put = { ...prr, spec: { ...prr.spec, resources: { ...prr.spec.resources, 'cm.yaml': cm } } };
    const dryPut = await unchangedBy(() => json(call(updateResources, 'PUT', `${path}${DRY}`, put)));
    expect(dryPut.spec.resources['cm.yaml']).toBe(cm);
    expect(Object.keys((await json(call(getPackageRevisionResources, 'GET', path))).spec.resources)).not.toContain('cm.yaml');

    const patch = { spec: { resources: { 'other.yaml': cm } } };
    const dryPatch = await unchangedBy(() => json(call(updateResources, 'PATCH', `${path}${DRY}`, patch, MERGE)));
    const realPatch = await json(call(updateResources, 'PATCH', path, patch, MERGE));
    expect(comparable(dryPatch)).toEqual(comparable(realPatch));
    expect(realPatch.spec.resources['other.yaml']).toBe(cm);

    // An invalid package is refused in a dry run as the write would refuse it.
    const invalid = await call(updateResources, 'PUT', `${path}${DRY}`, { ...prr, metadata: { name: prr.metadata.name }, spec: { ...prr.spec, resources: { Kptfile: 'kind: Nope' } } });
    expect(invalid.status).toBe(422);
  });

  it('delete (query or DeleteOptions body) answers the revision and deletes nothing', async () => {
    const pr = await json(call(createPackageRevision, 'POST', `${NS}/packagerevisions`, draft('app', 'ws', { labels: { a: 'b' } })), 201);
    const path = `${NS}/packagerevisions/${pr.metadata.name}`;
    const dry = await unchangedBy(() => json(call(deletePackageRevision, 'DELETE', `${path}${DRY}`)));
    await unchangedBy(() => json(call(deletePackageRevision, 'DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] })));
    expect((await json(call(getPackageRevision, 'GET', path))).metadata.name).toBe(pr.metadata.name);
    const real = await json(call(deletePackageRevision, 'DELETE', path));
    expect(comparable(dry)).toEqual(comparable(real));
  });

  it('delete of a revision with finalizers answers it marked for deletion, and marks nothing', async () => {
    const pr = await json(call(createPackageRevision, 'POST', `${NS}/packagerevisions`, draft('app', 'ws', { finalizers: ['example.com/hold'] })), 201);
    const path = `${NS}/packagerevisions/${pr.metadata.name}`;
    const dry = await unchangedBy(() => json(call(deletePackageRevision, 'DELETE', `${path}${DRY}`)));
    expect(dry.metadata.deletionTimestamp).toBeTruthy();
    expect((await json(call(getPackageRevision, 'GET', path))).metadata.deletionTimestamp).toBeUndefined();
  });

  it('refuses dryRun values other than All (422 on the options kind, as kube-apiserver), writing nothing', async () => {
    const create = await unchangedBy(() => json(call(createPackageRevision, 'POST', `${NS}/packagerevisions?dryRun=Yes`, draft('app', 'ws')), 422));
    expect(create.message).toBe('CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Yes"]: supported values: "All"');
    const pr = await json(call(createPackageRevision, 'POST', `${NS}/packagerevisions`, draft('app', 'ws')), 201);
    const patch = await unchangedBy(() =>
      json(call(patchPackageRevision, 'PATCH', `${NS}/packagerevisions/${pr.metadata.name}?dryRun=All&dryRun=x`, { spec: { lifecycle: 'Proposed' } }, MERGE), 422),
    );
    expect(patch.details).toMatchObject({ kind: 'PatchOptions', group: 'meta.k8s.io' });
    const del = await unchangedBy(() => json(call(deletePackageRevision, 'DELETE', `${NS}/packagerevisions/${pr.metadata.name}`, { kind: 'DeleteOptions', dryRun: ['Some'] }), 422));
    expect(del.details.kind).toBe('DeleteOptions');
  });

  it('store kinds: create, update, patch and delete of a Repository, a Secret and a Namespace store nothing', async () => {
    const repo = {
      apiVersion: 'config.porch.kpt.dev/v1alpha1',
      kind: 'Repository',
      metadata: { name: 'other', namespace: 'default' },
      spec: { type: 'git', git: { repo: bare, branch: 'main' } },
    };
    const dryCreate = await unchangedBy(() => json(call(createStoreObject(REPOS), 'POST', `${CONFIG}/repositories${DRY}`, repo), 201));
    expect(dryCreate.metadata.uid).toBeTruthy();
    expect(dryCreate.metadata.resourceVersion).toBeUndefined();
    expect(dryCreate.spec.content).toBe('Package');

    await json(call(createStoreObject(REPOS), 'POST', `${CONFIG}/repositories`, repo), 201);
    await syncRepository(ctx, (await ctx.store.get(REPOS, 'default', 'other'))!);
    const cur = (await ctx.store.get(REPOS, 'default', 'other'))!;
    // Unconditional (no resourceVersion): the server may write the Repository's status meanwhile.
    const changed = { ...cur, metadata: { ...cur.metadata, resourceVersion: undefined }, spec: { ...(cur.spec as object), description: 'changed' } };
    const dryPut = await unchangedBy(() => json(call(updateStoreObject(REPOS), 'PUT', `${CONFIG}/repositories/other${DRY}`, changed)));
    expect(dryPut.spec.description).toBe('changed');
    expect(dryPut.metadata.generation).toBe((cur.metadata.generation ?? 1) + 1);
    expect(dryPut.metadata.resourceVersion).toBe((await ctx.store.get(REPOS, 'default', 'other'))!.metadata.resourceVersion);
    const stale = await unchangedBy(() =>
      json(call(updateStoreObject(REPOS), 'PUT', `${CONFIG}/repositories/other${DRY}`, { ...changed, metadata: { ...changed.metadata, resourceVersion: '1' } }), 409),
    );
    expect(stale.reason).toBe('Conflict');
    const dryPatch = await unchangedBy(() => json(call(patchStoreObject(REPOS), 'PATCH', `${CONFIG}/repositories/other${DRY}`, { spec: { description: 'p' } }, MERGE)));
    expect(dryPatch.spec.description).toBe('p');
    await unchangedBy(() => json(call(deleteStoreObject(REPOS), 'DELETE', `${CONFIG}/repositories/other${DRY}`)));
    await unchangedBy(() =>
      json(call(deleteStoreObject(REPOS), 'DELETE', `${CONFIG}/repositories/other${DRY}`, { kind: 'DeleteOptions', preconditions: { resourceVersion: '1' } }), 409),
    );

    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, stringData: { a: 'b' } };
    await unchangedBy(() => json(call(createStoreObject(SECRETS), 'POST', `/api/v1/namespaces/default/secrets${DRY}`, secret), 201));
    await json(call(createStoreObject(NAMESPACES), 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } }), 201);
    await json(call(createStoreObject(SECRETS), 'POST', '/api/v1/namespaces/team/secrets', { ...secret, metadata: { name: 's', namespace: 'team' } }), 201);
    const ns = await unchangedBy(() => json(call(deleteStoreObject(NAMESPACES), 'DELETE', `/api/v1/namespaces/team${DRY}`)));
    expect(ns.metadata.name).toBe('team');
    expect(await ctx.store.get(SECRETS, 'team', 's')).toBeDefined();
  });
});
