import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findResource } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { createStoreObject } from '../../handlers/store-object/create.ts';
import { deleteStoreObject } from '../../handlers/store-object/delete.ts';
import { getStoreObject } from '../../handlers/store-object/get.ts';
import { listStoreObjects } from '../../handlers/store-object/list.ts';
import { patchStoreObject } from '../../handlers/store-object/patch.ts';
import { updateStoreObject } from '../../handlers/store-object/update.ts';
import { jsonRequest, testContext } from '../support/context.ts';

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const SECRETS = findResource('', 'v1', 'secrets')!;
const BASE = '/apis/config.porch.kpt.dev/v1alpha1/namespaces/default/repositories';

const repo = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'config.porch.kpt.dev/v1alpha1',
  kind: 'Repository',
  metadata: { name },
  spec: { type: 'git', git: { repo: `https://example.com/${name}.git` }, ...extra },
});

describe('Repository handlers, each invoked alone', () => {
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  let dataDir: string;
  beforeEach(async () => ({ ctx, cleanup, dataDir } = await testContext()));
  afterEach(async () => cleanup());

  it('create → 201 with defaults; get; list as JSON and as Table', async () => {
    const created = await createStoreObject(REPOS)(ctx).request(jsonRequest('POST', BASE, repo('blueprints')));
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body.spec.git.branch).toBe('main');
    expect(body.spec.content).toBe('Package');
    expect(body.metadata.namespace).toBe('default');

    const got = await getStoreObject(REPOS)(ctx).request(jsonRequest('GET', `${BASE}/blueprints`));
    expect((await got.json()).metadata.uid).toBe(body.metadata.uid);

    const table = await listStoreObjects(REPOS)(ctx).request(
      jsonRequest('GET', BASE, undefined, '', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' }),
    );
    const t = await table.json();
    expect(t.kind).toBe('Table');
    expect(t.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Type', 'Content', 'Sync Schedule', 'Deployment', 'Ready', 'Address', 'Branch', 'Age']);
    expect(t.rows[0].cells.slice(0, 3)).toEqual(['blueprints', 'git', 'Package']);
  });

  it('invalid Repository → 422 naming the field; bad JSON → 400; wrong kind → 400', async () => {
    const h = createStoreObject(REPOS)(ctx);
    const bad = await h.request(jsonRequest('POST', BASE, repo('Bad_Name', { type: 'svn' })));
    expect(bad.status).toBe(422);
    const s = await bad.json();
    expect(s.kind).toBe('Status');
    expect(s.reason).toBe('Invalid');
    expect(s.details.causes.map((c: { field: string }) => c.field)).toContain('spec.type');

    const name = await h.request(jsonRequest('POST', BASE, repo('Bad_Name')));
    expect(name.status).toBe(422);
    expect((await name.json()).message).toMatch(/metadata\.name/);

    const broken = await h.request(jsonRequest('POST', BASE, '{"apiVersion":'));
    expect(broken.status).toBe(400);
    expect((await broken.json()).reason).toBe('BadRequest');

    const kind = await h.request(jsonRequest('POST', BASE, { ...repo('x'), kind: 'Secret' }));
    expect(kind.status).toBe(400);
  });

  it('a stale update → 409 Conflict; immutable fields → 422; merge and JSON patches apply', async () => {
    const created = await (await createStoreObject(REPOS)(ctx).request(jsonRequest('POST', BASE, repo('r')))).json();
    const upd = updateStoreObject(REPOS)(ctx);
    const first = await upd.request(jsonRequest('PUT', `${BASE}/r`, { ...created, spec: { ...created.spec, description: 'one' } }));
    expect(first.status).toBe(200);
    const stale = await upd.request(jsonRequest('PUT', `${BASE}/r`, { ...created, spec: { ...created.spec, description: 'two' } }));
    expect(stale.status).toBe(409);
    expect((await stale.json()).reason).toBe('Conflict');

    const p = patchStoreObject(REPOS)(ctx);
    const immut = await p.request(jsonRequest('PATCH', `${BASE}/r`, { spec: { git: { branch: 'other' } } }, 'application/merge-patch+json'));
    expect(immut.status).toBe(422);
    expect((await immut.json()).details.causes[0].field).toBe('spec.git.branch');

    const merged = await p.request(jsonRequest('PATCH', `${BASE}/r`, { spec: { description: 'merged' } }, 'application/merge-patch+json'));
    expect((await merged.json()).spec.description).toBe('merged');
    const jp = await p.request(jsonRequest('PATCH', `${BASE}/r`, [{ op: 'replace', path: '/spec/description', value: 'json' }], 'application/json-patch+json'));
    expect((await jp.json()).spec.description).toBe('json');
    const badPatch = await p.request(jsonRequest('PATCH', `${BASE}/r`, [{ op: 'frobnicate', path: '/x' }], 'application/json-patch+json'));
    expect(badPatch.status).toBe(400);
  });

  it('delete → object gone, second delete 404; create in a missing namespace → 404', async () => {
    await createStoreObject(REPOS)(ctx).request(jsonRequest('POST', BASE, repo('gone')));
    const del = deleteStoreObject(REPOS)(ctx);
    expect((await del.request(jsonRequest('DELETE', `${BASE}/gone`))).status).toBe(200);
    const again = await del.request(jsonRequest('DELETE', `${BASE}/gone`));
    expect(again.status).toBe(404);
    expect((await again.json()).message).toBe('repositories.config.porch.kpt.dev "gone" not found');
    const missing = await createStoreObject(REPOS)(ctx).request(jsonRequest('POST', '/apis/config.porch.kpt.dev/v1alpha1/namespaces/nope/repositories', repo('x')));
    expect(missing.status).toBe(404);
    expect((await missing.json()).message).toMatch(/namespaces "nope" not found/);
  });

  it('secrets: stringData is folded into base64 data', async () => {
    const res = await createStoreObject(SECRETS)(ctx).request(
      jsonRequest('POST', '/api/v1/namespaces/default/secrets', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git-creds' },
        type: 'kubernetes.io/basic-auth',
        stringData: { username: 'u', password: 'p' },
      }),
    );
    expect(res.status).toBe(201);
    const s = await res.json();
    expect(s.data).toEqual({ username: 'dQ==', password: 'cA==' });
    expect(s.stringData).toBeUndefined();
  });

  it('refuses a local path into the data directory (422 on spec.git.repo); one written to the store behind admission is not opened either', async () => {
    for (const path of [join(dataDir, 'git'), `/proc/self/root${dataDir}/store`, `file:///proc/self/root${dataDir}/`]) {
      const res = await createStoreObject(REPOS)(ctx).request(jsonRequest('POST', BASE, { ...repo('stolen'), spec: { type: 'git', git: { repo: path } } }));
      expect(res.status, path).toBe(422);
      const body = await res.json();
      expect(body.details.causes).toEqual([{ reason: 'FieldValueForbidden', field: 'spec.git.repo', message: expect.stringMatching(/^Forbidden: .* is not an allowed local repository path/) }]);
    }
    // What kube-apiserver would store in cluster mode, where this server's admission does not run.
    await ctx.store.create(REPOS, { ...repo('behind'), metadata: { name: 'behind', namespace: 'default' }, spec: { type: 'git', git: { repo: `/proc/self/root${dataDir}/git`, branch: 'main' } } });
    const found = await ctx.engine.cacheFor('default', 'behind');
    expect(found && 'error' in found ? found.error : found).toMatch(/is not an allowed local repository path/);
  });
});
