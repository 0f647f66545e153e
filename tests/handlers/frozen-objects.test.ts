import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import createPackageRevision from '../../handlers/create-packagerevision.ts';
import getPackageRevisionResources from '../../handlers/get-packagerevisionresources.ts';
import patchPackageRevision from '../../handlers/patch-packagerevision.ts';
import updateResources from '../../handlers/update-resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { jsonRequest, registerRepository, testContext } from '../support/context.ts';
import { porchRepo, tempDir } from '../support/git-fixtures.ts';

// Cached objects are served as they are and their JSON text is kept with them (lib/api/object-json.ts),
// which is only right if nothing in them can change: every object the engine holds must be frozen all
// the way down, whatever its Kptfile and its PackageRev hold.

const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
const MERGE = 'application/merge-patch+json';

/** Paths inside `value` to objects or arrays that are not frozen. */
function unfrozen(value: unknown, path = '$', out: string[] = []): string[] {
  if (typeof value !== 'object' || value === null) return out;
  if (!Object.isFrozen(value)) out.push(path);
  for (const [k, v] of Object.entries(value)) unfrozen(v, `${path}.${k}`, out);
  return out;
}

const RICH_KPTFILE = [
  'apiVersion: kpt.dev/v1',
  'kind: Kptfile',
  'metadata:',
  '  name: rich',
  '  labels:',
  '    tier: backend',
  '  annotations:',
  '    config.kubernetes.io/local-config: "true"',
  'upstream:',
  '  type: git',
  '  git:',
  '    repo: https://example.com/catalog.git',
  '    directory: /rich',
  '    ref: rich/v1',
  'upstreamLock:',
  '  type: git',
  '  git:',
  '    repo: https://example.com/catalog.git',
  '    directory: /rich',
  '    ref: rich/v1',
  '    commit: 0123456789abcdef0123456789abcdef01234567',
  'info:',
  '  description: rich package',
  '  readinessGates:',
  '    - conditionType: Ready',
  'status:',
  '  conditions:',
  '    - type: Ready',
  '      status: "True"',
  '      reason: Done',
  '',
].join('\n');

describe('cached objects', () => {
  const tmp = tempDir('porch-frozen-');
  let ctx: AppContext;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ ctx, cleanup } = await testContext());
    await registerRepository(ctx, 'repo', porchRepo(tmp.path, 'repo', [{ path: 'plain', revisions: 2, drafts: ['wip'] }]));
    const created = await createPackageRevision(ctx).request(
      jsonRequest('POST', `${NS}/packagerevisions`, {
        apiVersion: 'porch.kpt.dev/v1alpha1',
        kind: 'PackageRevision',
        metadata: { namespace: 'default', labels: { team: 'a' }, annotations: { note: 'x' } },
        spec: { packageName: 'rich', workspaceName: 'ws', repository: 'repo', packageMetadata: { labels: { app: 'rich' } } },
      }),
    );
    expect(created.status, await created.clone().text()).toBe(201);
    const name = ((await created.json()) as { metadata: { name: string } }).metadata.name;
    const res = await getPackageRevisionResources(ctx).request(jsonRequest('GET', `${NS}/packagerevisionresources/${name}`));
    const prr = (await res.json()) as { spec: { resources: Record<string, string> } };
    const updated = await updateResources(ctx).request(jsonRequest('PUT', `${NS}/packagerevisionresources/${name}`, { ...prr, spec: { ...prr.spec, resources: { ...prr.spec.resources, Kptfile: RICH_KPTFILE } } }));
    expect(updated.status, await updated.clone().text()).toBe(200);
    const patched = await patchPackageRevision(ctx).request(
      jsonRequest('PATCH', `${NS}/packagerevisions/${name}`, { metadata: { finalizers: ['example.com/hold'], ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-1' }] } }, MERGE),
    );
    expect(patched.status, await patched.clone().text()).toBe(200);
  });
  afterAll(async () => {
    await cleanup();
    tmp.remove();
  });

  it('are frozen all the way down: published, drafts, placeholders, one with a rich Kptfile and PackageRev', () => {
    const revisions = ctx.engine.listRevisions(undefined, () => true);
    expect(revisions.map((r) => r.spec.lifecycle).sort()).toEqual(['Draft', 'Draft', 'Published', 'Published', 'Published']);
    const rich = revisions.find((r) => r.spec.packageName === 'rich')!;
    expect(rich.metadata.finalizers).toEqual(['example.com/hold']);
    expect(rich.spec.readinessGates).toEqual([{ conditionType: 'Ready' }]);
    expect(rich.status?.conditions?.length).toBe(1);
    for (const r of revisions) expect(unfrozen(r), r.metadata.name).toEqual([]);
    const packages = ctx.engine.listPackages(undefined, () => true);
    expect(packages.length).toBe(2);
    for (const p of packages) expect(unfrozen(p), p.metadata.name).toEqual([]);
  });
});
