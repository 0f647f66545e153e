import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { e2eScope } from '../support/e2e-scope.ts';
import { kubectlAgainst } from '../support/kubectl-session.ts';
import { repositoryYaml } from '../support/manifests.ts';
import { startGitServer, type GitServer } from '../support/git-server.ts';
import { porchRepo } from '../support/git-fixtures.ts';

const run = promisify(execFile);

// Package tasks end to end, with kubectl and a git http-backend serving two repositories: clone a
// blueprint into a deployment repository, publish a new blueprint revision, change the downstream
// package, upgrade it (three-way merge), edit, and clones that must fail without leaving anything.

interface PR {
  metadata: { name: string; resourceVersion?: string };
  spec: { lifecycle?: string; revision?: number; tasks?: { type: string }[]; packageName?: string };
  status?: { upstreamLock?: { type?: string; git?: { repo?: string; directory?: string; ref?: string; commit?: string } } };
}
interface PRR {
  metadata: { name: string };
  spec: { resources: Record<string, string> };
}

describe('clone, edit and upgrade through kubectl and a git server', () => {
  const scope = e2eScope('porch-tasks-');
  let gitServer: GitServer;
  let server: DevServer;
  const session = kubectlAgainst(() => server.kubeconfig);
  const { k, ok } = session;
  const getPr = async (name: string) => JSON.parse(await ok(['get', 'packagerevision', name, '-o', 'json'])) as PR;
  const getPrr = async (name: string) => JSON.parse(await ok(['get', 'packagerevisionresources', name, '-o', 'json'])) as PRR;
  /** git against the bare repository on disk (async: the git server runs in this process). */
  const bare = (repo: string, ...args: string[]) => run('git', args, { cwd: join(scope.dir, `${repo}.git`) }).then((r) => r.stdout.trim());
  /** What a client of the git server sees. */
  const lsRemote = (repo: string) => run('git', ['ls-remote', `${gitServer.url}/${repo}.git`]).then((r) => r.stdout.trim());
  const tagCommit = (repo: string, tag: string) => bare(repo, 'rev-parse', `${tag}^{commit}`);

  const create = (repo: string, pkg: string, ws: string, task: unknown) =>
    k(['create', '-f', '-'], JSON.stringify({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' }, spec: { repository: repo, packageName: pkg, workspaceName: ws, tasks: [task] } }));

  const publish = async (name: string) => (await session.publish(name)) as PR;

  async function editResources(name: string, change: (files: Record<string, string>) => void): Promise<void> {
    const prr = await getPrr(name);
    change(prr.spec.resources);
    await ok(['replace', '-f', '-'], JSON.stringify(prr));
  }

  const setData = (text: string, key: string, value: string) => {
    const doc = YAML.parseDocument(text);
    doc.setIn(['data', key], value);
    return doc.toString();
  };
  const data = (text: string | undefined) => (YAML.parse(text ?? '') as { data?: Record<string, string> }).data ?? {};

  beforeAll(async () => {
    porchRepo(scope.dir, 'blueprints', [{ path: 'basens', revisions: 1 }]);
    porchRepo(scope.dir, 'deploy', []);
    gitServer = scope.keep(await startGitServer({ root: scope.dir }));
    server = scope.keep(await startDevServer({ args: ['--sync-interval', '0'] }));
    for (const repo of ['blueprints', 'deploy']) await ok(['apply', '-f', '-'], repositoryYaml({ name: repo, repo: `${gitServer.url}/${repo}.git` }));
    for (const repo of ['blueprints', 'deploy']) await session.repositoryReady(repo);
    await ok(['get', 'packagerevision', 'blueprints.basens.v1']);
  });


  it('clones a published blueprint from repository A into repository B with kpt’s upstream, upstreamLock and merge keys, then proposes and approves it', async () => {
    const r = await create('deploy', 'mybasens', 'ws1', { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.basens.v1' } } } });
    expect(r.code, r.stderr).toBe(0);
    const lock = { repo: `${gitServer.url}/blueprints.git`, directory: 'basens', ref: 'basens/v1', commit: await tagCommit('blueprints', 'basens/v1') };
    const files = (await getPrr('deploy.mybasens.ws1')).spec.resources;
    const kpt = YAML.parse(files.Kptfile) as Record<string, unknown>;
    expect((kpt.metadata as { name: string }).name).toBe('mybasens');
    // Porch's form: no updateStrategy (kpt reads none as resource-merge).
    expect(kpt.upstream).toEqual({ type: 'git', git: { repo: lock.repo, directory: lock.directory, ref: lock.ref } });
    expect(kpt.upstreamLock).toEqual({ type: 'git', git: lock });
    // kpt's field order: upstream and upstreamLock right after metadata.
    expect(Object.keys(kpt).slice(0, 5)).toEqual(['apiVersion', 'kind', 'metadata', 'upstream', 'upstreamLock']);
    // Every resource carries kpt's merge key, so a later upgrade can match it with its upstream copy.
    expect(files['cm.yaml']).toMatch(/^metadata: # kpt-merge: \/basens\n/m);
    expect((YAML.parse(files['cm.yaml']) as { metadata: { annotations: Record<string, string> } }).metadata.annotations).toEqual({ 'internal.kpt.dev/upstream-identifier': '|ConfigMap|default|basens' });
    expect(data(files['cm.yaml'])).toEqual(data((await getPrr('blueprints.basens.v1')).spec.resources['cm.yaml']));

    const pr = await getPr('deploy.mybasens.ws1');
    expect(pr.spec.tasks?.map((t) => t.type)).toEqual(['clone']);
    expect(pr.status?.upstreamLock).toEqual({ type: 'git', git: lock });
    const published = await publish('deploy.mybasens.ws1');
    expect(published.spec.revision).toBe(1);
    expect(published.status?.upstreamLock).toEqual({ type: 'git', git: lock });
    expect(await lsRemote('deploy')).toMatch(/\trefs\/tags\/mybasens\/v1$/m);
  });

  it('edits a published revision into a draft identical to it', async () => {
    const r = await create('blueprints', 'basens', 'v2', { type: 'edit', edit: { sourceRef: { name: 'blueprints.basens.v1' } } });
    expect(r.code, r.stderr).toBe(0);
    expect((await getPrr('blueprints.basens.v2')).spec.resources).toEqual((await getPrr('blueprints.basens.v1')).spec.resources);
    // Identical in git too: the draft's package tree is the tag's.
    expect(await bare('blueprints', 'rev-parse', 'refs/heads/drafts/basens/v2:basens')).toBe(await bare('blueprints', 'rev-parse', 'refs/tags/basens/v1:basens'));
    expect((await getPr('blueprints.basens.v2')).spec.tasks?.map((t) => t.type)).toEqual(['edit']);
  });

  it('upgrades the downstream package: upstream’s changed field and new resource, the local change kept, upstreamLock on the new tag', async () => {
    // Upstream: one field changed, one resource added; published as revision 2.
    await editResources('blueprints.basens.v2', (f) => {
      f['cm.yaml'] = setData(f['cm.yaml'], 'revision', 'two');
      f['svc.yaml'] = YAML.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'basens' }, spec: { ports: [{ port: 80 }] } });
    });
    await publish('blueprints.basens.v2');
    // Downstream: a new draft (edit), a different field changed — and the field upstream changed,
    // changed to something else (the conflict of the next test); published.
    const ed = await create('deploy', 'mybasens', 'ws2', { type: 'edit', edit: { sourceRef: { name: 'deploy.mybasens.ws1' } } });
    expect(ed.code, ed.stderr).toBe(0);
    await editResources('deploy.mybasens.ws2', (f) => {
      f['cm.yaml'] = setData(setData(f['cm.yaml'], 'owner', 'team-a'), 'revision', 'local');
    });
    await publish('deploy.mybasens.ws2');

    const up = await create('deploy', 'mybasens', 'ws3', {
      type: 'upgrade',
      upgrade: { oldUpstreamRef: { name: 'blueprints.basens.v1' }, newUpstreamRef: { name: 'blueprints.basens.v2' }, localPackageRevisionRef: { name: 'deploy.mybasens.ws2' }, strategy: 'resource-merge' },
    });
    expect(up.code, up.stderr).toBe(0);
    const files = (await getPrr('deploy.mybasens.ws3')).spec.resources;
    expect(data(files['cm.yaml']).owner).toBe('team-a');
    // The resource upstream added, with the merge key kpt gives what it brings in.
    expect(YAML.parse(files['svc.yaml'])).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'basens', annotations: { 'internal.kpt.dev/upstream-identifier': '|Service|default|basens' } },
      spec: { ports: [{ port: 80 }] },
    });
    const newCommit = await tagCommit('blueprints', 'basens/v2');
    expect(newCommit).not.toBe(await tagCommit('blueprints', 'basens/v1'));
    const lock = { repo: `${gitServer.url}/blueprints.git`, directory: 'basens', ref: 'basens/v2', commit: newCommit };
    const kpt = YAML.parse(files.Kptfile) as { metadata: { name: string }; upstreamLock: unknown };
    expect(kpt.upstreamLock).toEqual({ type: 'git', git: lock });
    expect(kpt.metadata.name).toBe('mybasens');
    const pr = await getPr('deploy.mybasens.ws3');
    expect(pr.spec.tasks?.map((t) => t.type)).toEqual(['upgrade']);
    expect(pr.status?.upstreamLock).toEqual({ type: 'git', git: lock });
    expect((await publish('deploy.mybasens.ws3')).spec.revision).toBe(3);
  });

  it('resolves a field changed on both sides as kpt pkg update does: the upstream value wins, the local one is gone', async () => {
    const cm = (await getPrr('deploy.mybasens.ws3')).spec.resources['cm.yaml'];
    expect(data(cm).revision).toBe('two');
    expect(cm).not.toContain('local');
  });

  it('refuses clones of an unknown upstream, a draft or an unreachable git URL, leaving no branch in git and no revision in the list', async () => {
    const refs = await lsRemote('deploy');
    const listed = await ok(['get', 'packagerevisions', '-o', 'name']);

    const unknown = await create('deploy', 'ghost', 'ws1', { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.nothing.v1' } } } });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/is invalid: spec\.tasks\[0\]\.clone\.upstreamRef\.upstreamRef\.name: Not found: package revision "blueprints\.nothing\.v1"/);

    const t0 = Date.now();
    const unreachable = await create('deploy', 'ghost', 'ws2', { type: 'clone', clone: { upstreamRef: { type: 'git', git: { repo: 'http://127.0.0.1:1/nothing.git', ref: 'main', directory: 'x' } } } });
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toMatch(/Error from server \(ServiceUnavailable\).*upstream git repository unavailable: .*http:\/\/127\.0\.0\.1:1\/nothing\.git/);
    // Reported at once: no Retry-After, so kubectl does not retry a URL that is most likely wrong.
    expect(Date.now() - t0).toBeLessThan(15_000);

    const missingRepo = await create('deploy', 'ghost', 'ws3', { type: 'clone', clone: { upstreamRef: { type: 'git', git: { repo: `${gitServer.url}/nothing.git`, ref: 'main', directory: 'x' } } } });
    expect(missingRepo.code).not.toBe(0);
    expect(missingRepo.stderr).toMatch(/spec\.tasks\[0\]\.clone\.upstreamRef\.git\.repo: Not found: .*nothing\.git is not a git repository \(HTTP 404\)/);

    const draft = await create('blueprints', 'basens', 'v3', { type: 'edit', edit: { sourceRef: { name: 'blueprints.basens.v2' } } });
    expect(draft.code, draft.stderr).toBe(0);
    const fromDraft = await create('deploy', 'ghost', 'ws5', { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.basens.v3' } } } });
    expect(fromDraft.code).not.toBe(0);
    expect(fromDraft.stderr).toMatch(/must be a published package revision \(it is Draft\)/);
    await ok(['delete', 'packagerevision', 'blueprints.basens.v3']);

    expect(await lsRemote('deploy')).toBe(refs);
    expect(await ok(['get', 'packagerevisions', '-o', 'name'])).toBe(listed);
  });

  it('clones from a plain git repository: `v2` in directory basens is the tag basens/v2, recorded with its commit', async () => {
    const url = `${gitServer.url}/blueprints.git`;
    const r = await create('deploy', 'fromgit', 'ws1', { type: 'clone', clone: { upstreamRef: { type: 'git', git: { repo: url, ref: 'v2', directory: 'basens' } } } });
    expect(r.code, r.stderr).toBe(0);
    const files = (await getPrr('deploy.fromgit.ws1')).spec.resources;
    expect(files['svc.yaml']).toBeDefined();
    const kpt = YAML.parse(files.Kptfile) as { metadata: { name: string }; upstreamLock: { git: Record<string, string> } };
    expect(kpt.metadata.name).toBe('fromgit');
    expect(kpt.upstreamLock.git).toEqual({ repo: url, directory: 'basens', ref: 'basens/v2', commit: await tagCommit('blueprints', 'basens/v2') });

    const refs = await lsRemote('deploy');
    const missing = await create('deploy', 'fromgit2', 'ws1', { type: 'clone', clone: { upstreamRef: { type: 'git', git: { repo: url, ref: 'no-such-tag', directory: 'basens' } } } });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/spec\.tasks\[0\]\.clone\.upstreamRef\.git\.ref: Not found: .*no branch or tag "basens\/no-such-tag" or "no-such-tag"/);
    const twice = await create('deploy', 'fromgit', 'ws2', { type: 'clone', clone: { upstreamRef: { type: 'git', git: { repo: url, ref: 'v2', directory: 'basens' } } } });
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toMatch(/AlreadyExists.*clone cannot create a new revision for package "fromgit"/);
    expect(await lsRemote('deploy')).toBe(refs);
  });
  it('fast-forwards an untouched clone, and repeated upgrades leave one kpt-merge comment per resource', async () => {
    expect((await create('deploy', 'untouched', 'ws1', { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.basens.v1' } } } })).code).toBe(0);
    await publish('deploy.untouched.ws1');
    const upgrade = (ws: string, local: string, strategy: string) =>
      create('deploy', 'untouched', ws, { type: 'upgrade', upgrade: { oldUpstreamRef: { name: 'blueprints.basens.v1' }, newUpstreamRef: { name: 'blueprints.basens.v2' }, localPackageRevisionRef: { name: local }, strategy } });
    const ff = await upgrade('ws2', 'deploy.untouched.ws1', 'fast-forward');
    expect(ff.code, ff.stderr).toBe(0);
    const mergeKeys = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).filter(([f]) => f === 'Kptfile' || f.endsWith('.yaml')).map(([f, t]) => [f, t.match(/kpt-merge:/g)?.length ?? 0]));
    let files = (await getPrr('deploy.untouched.ws2')).spec.resources;
    expect(data(files['cm.yaml']).revision).toBe('two');
    expect(Object.values(mergeKeys(files)).every((n) => n === 1), JSON.stringify(mergeKeys(files))).toBe(true);
    await publish('deploy.untouched.ws2');
    for (const [ws, local] of [['ws3', 'deploy.untouched.ws2'], ['ws4', 'deploy.untouched.ws3']]) {
      const up = await upgrade(ws, local, 'resource-merge');
      expect(up.code, up.stderr).toBe(0);
      files = (await getPrr(`deploy.untouched.${ws}`)).spec.resources;
      expect(Object.values(mergeKeys(files)).every((n) => n === 1), JSON.stringify(mergeKeys(files))).toBe(true);
      expect((YAML.parse(files.Kptfile) as { upstream: unknown }).upstream).toEqual({ type: 'git', git: { repo: `${gitServer.url}/blueprints.git`, directory: 'basens', ref: 'basens/v2' } });
      await publish(`deploy.untouched.${ws}`);
    }
  });

  it('writes spec.packageMetadata into the Kptfile on create and on kubectl patch of a draft', async () => {
    const spec = { repository: 'deploy', packageName: 'labelled', workspaceName: 'ws1', tasks: [{ type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blueprints.basens.v1' } } } }], packageMetadata: { labels: { team: 'a' }, annotations: { note: 'given' } } };
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' }, spec }));
    const kptMeta = async () => (YAML.parse((await getPrr('deploy.labelled.ws1')).spec.resources.Kptfile) as { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } }).metadata;
    expect((await kptMeta()).labels).toEqual({ team: 'a' });
    expect((await kptMeta()).annotations).toMatchObject({ note: 'given' });
    await ok(['patch', 'packagerevision', 'deploy.labelled.ws1', '--type', 'merge', '-p', JSON.stringify({ spec: { packageMetadata: { labels: { team: 'b', tier: 'edge' } } } })]);
    expect((await kptMeta()).labels).toEqual({ team: 'b', tier: 'edge' });
    expect(await ok(['get', 'packagerevision', 'deploy.labelled.ws1', '-o', 'jsonpath={.spec.packageMetadata.labels.tier}'])).toBe('edge');
  });
});
