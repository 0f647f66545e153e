import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildGateway } from '../../gateway/app.ts';
import { findResource } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { createLogger } from '../../lib/log.ts';
import { jsonRequest, syncRepository, testContext } from '../support/context.ts';
import { porchRepo } from '../support/git-fixtures.ts';
import { until } from '../support/wait-for.ts';

// The log lines operators rely on, captured from the real logger: one info line per engine
// operation, sync results, replaced names, failing repositories, and why a request failed.

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
const MERGE = 'application/merge-patch+json';

describe('operation logs', () => {
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  let dir: string;
  let lines: Record<string, unknown>[];
  const app = () => buildGateway(ctx, { authenticate: async () => ({ username: 'alice', groups: ['system:masters'] }) });
  const call = async (method: string, path: string, body?: unknown, type?: string) => {
    const res = await app().request(jsonRequest(method, path, body, type));
    return { status: res.status, body: await res.json() };
  };
  const find = (msg: string) => lines.filter((l) => l.msg === msg);

  beforeEach(async () => {
    lines = [];
    ({ ctx, cleanup } = await testContext({ log: createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l)) }) }));
    dir = await mkdtemp(join(tmpdir(), 'oplog-'));
    const bare = porchRepo(dir, 'repo', []);
    const repo = await ctx.store.create(REPOS, {
      apiVersion: 'config.porch.kpt.dev/v1alpha1',
      kind: 'Repository',
      metadata: { name: 'blueprints', namespace: 'default' },
      spec: { type: 'git', git: { repo: bare, branch: 'main' } },
    });
    await syncRepository(ctx, repo);
    // Creating the Repository also started a sync of its own (the scheduler's): the tests count lines
    // after both are over.
    await until('both syncs of the new repository to finish', () => find('repository sync finished').length >= 2);
  });
  afterEach(async () => {
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs each operation of a lifecycle once, with who and what; a dry run logs none', async () => {
    const body = { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { name: 'my-name' }, spec: { packageName: 'app', workspaceName: 'ws', repository: 'blueprints' } };
    expect((await call('POST', `${NS}/packagerevisions?dryRun=All`, body)).status).toBe(201);
    expect(find('package revision created')).toEqual([]);
    expect((await call('POST', `${NS}/packagerevisions`, body)).status).toBe(201);
    const name = 'blueprints.app.ws';
    expect(find('package revision name replaced')).toEqual([expect.objectContaining({ level: 'warn', given: 'my-name', name })]);
    expect(find('package revision created')).toEqual([expect.objectContaining({ level: 'info', packageRevision: name, repository: 'blueprints', user: 'alice', task: 'init' })]);

    const prr = (await call('GET', `${NS}/packagerevisionresources/${name}`)).body;
    prr.spec.resources['cm.yaml'] = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n';
    expect((await call('PUT', `${NS}/packagerevisionresources/${name}`, prr)).status).toBe(200);
    expect(find('package revision resources updated')).toEqual([expect.objectContaining({ packageRevision: name, files: 4 })]);

    expect((await call('PATCH', `${NS}/packagerevisions/${name}`, { spec: { lifecycle: 'Proposed' } }, MERGE)).status).toBe(200);
    expect(find('package revision proposed')).toEqual([expect.objectContaining({ packageRevision: name, from: 'Draft', lifecycle: 'Proposed' })]);
    expect((await call('PATCH', `${NS}/packagerevisions/${name}/approval`, { spec: { lifecycle: 'Published' } }, MERGE)).status).toBe(200);
    expect(find('package revision approved')).toEqual([expect.objectContaining({ packageRevision: name, revision: 1, user: 'alice' })]);
    expect((await call('PATCH', `${NS}/packagerevisions/${name}/approval`, { spec: { lifecycle: 'DeletionProposed' } }, MERGE)).status).toBe(200);
    expect(find('package revision proposed for deletion')).toHaveLength(1);
    expect((await call('DELETE', `${NS}/packagerevisions/${name}`)).status).toBe(200);
    expect(find('package revision deleted')).toEqual([expect.objectContaining({ packageRevision: name, user: 'alice', lifecycle: 'DeletionProposed' })]);
  });

  it('puts the reason of a failed request in its request line', async () => {
    expect((await call('GET', `${NS}/packagerevisions/blueprints.nope.ws`)).status).toBe(404);
    const refused = await call('POST', `${NS}/packagerevisions`, { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: {}, spec: { repository: 'blueprints' } });
    expect(refused.status).toBe(422);
    const requests = find('request').filter((l) => (l.status as number) >= 400);
    expect(requests).toEqual([
      expect.objectContaining({ status: 404, reason: 'NotFound', message: expect.stringContaining('blueprints.nope.ws') }),
      expect.objectContaining({ status: 422, reason: 'Invalid', message: expect.stringContaining('spec.packageName') }),
    ]);
    expect(find('request').filter((l) => l.status === 200 || l.status === 201).every((l) => l.reason === undefined)).toBe(true);
  });

  it('logs each finished sync with counts and duration, and each failing repository', async () => {
    const good = (await ctx.store.get(REPOS, 'default', 'blueprints'))!;
    lines.length = 0;
    await syncRepository(ctx, good);
    expect(find('repository sync finished')).toEqual([expect.objectContaining({ repository: 'blueprints', revisions: 0, packages: 0, ms: expect.any(Number) })]);

    const bad = await ctx.store.create(REPOS, {
      apiVersion: 'config.porch.kpt.dev/v1alpha1',
      kind: 'Repository',
      metadata: { name: 'broken', namespace: 'default' },
      spec: { type: 'git', git: { repo: join(dir, 'missing.git'), branch: 'main' } },
    });
    await syncRepository(ctx, bad);
    expect(find('repository sync failed')).toContainEqual(expect.objectContaining({ level: 'warn', repository: 'broken', error: expect.any(String) }));
  });
});
