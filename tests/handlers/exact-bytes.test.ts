import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import createPackageRevision from '../../handlers/create-packagerevision.ts';
import getPackageRevisionResources from '../../handlers/get-packagerevisionresources.ts';
import updateResources from '../../handlers/update-resources.ts';
import { findResource } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { jsonRequest, syncRepository, testContext } from '../support/context.ts';
import { createBareRepo, fsck, git, tempDir } from '../support/git-fixtures.ts';
import { publishRevision } from '../support/publish.ts';

// Files the API can only show as text (a PNG, Latin-1 text, an executable script, a symlink) keep
// their exact blob and mode through clone (from a PackageRevision and from plain git), edit, upgrade
// and a PackageRevisionResources write that changes another file. The repositories are made with the
// git CLI and read back with it, so what is checked is what git sees.

const REPOS = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
const SPECIAL = ['bin/run.sh', 'latin1.txt', 'logo.png', 'run-link'];

const kptfile = (name: string) => `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${name}\ninfo:\n  description: ${name} blueprint\n`;
const settings = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  v: "${v}"\n`;

/** `git ls-tree -r` of a package directory: path → "mode oid". */
function lsTree(gitdir: string, rev: string, dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of git(gitdir, ['ls-tree', '-r', `${rev}:${dir}`]).split('\n')) {
    const m = /^(\d+) \w+ ([0-9a-f]{40})\t(.*)$/.exec(line);
    if (m) out[m[3]] = `${m[1]} ${m[2]}`;
  }
  return out;
}

const pick = (tree: Record<string, string>, paths: string[]) => Object.fromEntries(paths.map((p) => [p, tree[p]]));

describe('exact bytes and modes through tasks and resource writes', () => {
  const tmp = tempDir('porch-bytes-');
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(4096)]);
  const latin1 = Buffer.from('caf\xe9 cr\xe8me br\xfbl\xe9e\n', 'latin1');
  let blue: string;
  let deploy: string;
  let upstreamV1: Record<string, string>;

  const create = async (repository: string, packageName: string, workspaceName: string, task: unknown) => {
    const res = await createPackageRevision(ctx).request(
      jsonRequest('POST', `${NS}/packagerevisions`, { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevision', metadata: { namespace: 'default' }, spec: { repository, packageName, workspaceName, tasks: [task] } }),
    );
    expect(res.status, await res.clone().text()).toBe(201);
  };
  const resources = async (name: string): Promise<Record<string, string>> =>
    ((await (await getPackageRevisionResources(ctx).request(jsonRequest('GET', `${NS}/packagerevisionresources/${name}`))).json()) as { spec: { resources: Record<string, string> } }).spec.resources;
  const setResources = async (name: string, files: Record<string, string>) => {
    const res = await updateResources(ctx).request(
      jsonRequest('PUT', `${NS}/packagerevisionresources/${name}`, { apiVersion: 'porch.kpt.dev/v1alpha1', kind: 'PackageRevisionResources', metadata: { name, namespace: 'default' }, spec: { resources: files } }),
    );
    expect(res.status, await res.clone().text()).toBe(200);
  };

  beforeAll(async () => {
    ({ ctx, cleanup } = await testContext());
    // The upstream: a package `app` tagged app/v1 and app/v2 (v2 changes only settings.yaml).
    const work = join(tmp.path, 'work');
    git(tmp.path, ['init', '-q', '-b', 'main', work]);
    mkdirSync(join(work, 'app', 'bin'), { recursive: true });
    writeFileSync(join(work, 'app', 'Kptfile'), kptfile('app'));
    writeFileSync(join(work, 'app', 'settings.yaml'), settings('1'));
    writeFileSync(join(work, 'app', 'logo.png'), png);
    writeFileSync(join(work, 'app', 'latin1.txt'), latin1);
    writeFileSync(join(work, 'app', 'bin', 'run.sh'), '#!/bin/sh\necho run\n');
    chmodSync(join(work, 'app', 'bin', 'run.sh'), 0o755);
    symlinkSync('bin/run.sh', join(work, 'app', 'run-link'));
    git(work, ['add', '.']);
    git(work, ['commit', '-qm', 'app v1']);
    git(work, ['tag', 'app/v1']);
    writeFileSync(join(work, 'app', 'settings.yaml'), settings('2'));
    git(work, ['commit', '-qam', 'app v2']);
    git(work, ['tag', 'app/v2']);
    blue = join(tmp.path, 'blue.git');
    git(tmp.path, ['clone', '-q', '--bare', work, blue]);
    deploy = createBareRepo(join(tmp.path, 'deploy.git'));
    upstreamV1 = lsTree(blue, 'app/v1', 'app');
    expect(pick(upstreamV1, SPECIAL)).toMatchObject({ 'bin/run.sh': expect.stringMatching(/^100755 /), 'run-link': expect.stringMatching(/^120000 /), 'logo.png': expect.stringMatching(/^100644 /) });

    for (const name of ['blue', 'deploy']) {
      const repo = await ctx.store.create(REPOS, {
        apiVersion: 'config.porch.kpt.dev/v1alpha1',
        kind: 'Repository',
        metadata: { name, namespace: 'default' },
        spec: { type: 'git', git: { repo: join(tmp.path, `${name}.git`), branch: 'main', createBranch: true } },
      });
      await syncRepository(ctx, repo);
    }
  });

  afterAll(async () => {
    await cleanup?.();
    tmp.remove();
  });

  it('shows non-UTF-8 bytes as U+FFFD and a symlink as its target, as Porch presents blobs', async () => {
    const files = await resources('blue.app.v1');
    expect(files['latin1.txt']).toBe('caf\uFFFD cr\uFFFDme br\uFFFDl\uFFFDe\n');
    expect(files['run-link']).toBe('bin/run.sh');
    expect(files['bin/run.sh']).toBe('#!/bin/sh\necho run\n');
  });

  it('clone from a PackageRevision and from plain git, a resource write of another file, edit and upgrade keep every such file’s blob and mode', async () => {
    const want = pick(upstreamV1, SPECIAL);

    await create('deploy', 'app', 'ws1', { type: 'clone', clone: { upstreamRef: { upstreamRef: { name: 'blue.app.v1' } } } });
    expect(pick(lsTree(deploy, 'drafts/app/ws1', 'app'), SPECIAL)).toEqual(want);

    await create('deploy', 'app-git', 'ws1', { type: 'clone', clone: { upstreamRef: { type: 'git', git: { repo: blue, ref: 'v1', directory: 'app' } } } });
    expect(pick(lsTree(deploy, 'drafts/app-git/ws1', 'app-git'), SPECIAL)).toEqual(want);

    // A client writes back what it read, with only settings.yaml changed.
    const files = await resources('deploy.app.ws1');
    await setResources('deploy.app.ws1', { ...files, 'settings.yaml': settings('local') });
    const written = lsTree(deploy, 'drafts/app/ws1', 'app');
    expect(pick(written, SPECIAL)).toEqual(want);
    expect(git(deploy, ['cat-file', 'blob', written['settings.yaml'].split(' ')[1]])).toBe(settings('local').trimEnd());
    expect(execFileSync('git', ['cat-file', 'blob', written['logo.png'].split(' ')[1]], { cwd: deploy }).equals(png)).toBe(true);

    await publishRevision(ctx, 'deploy.app.ws1');
    expect(pick(lsTree(deploy, 'app/v1', 'app'), SPECIAL)).toEqual(want);

    await create('deploy', 'app', 'ws2', { type: 'edit', edit: { sourceRef: { name: 'deploy.app.ws1' } } });
    expect(pick(lsTree(deploy, 'drafts/app/ws2', 'app'), SPECIAL)).toEqual(want);

    await create('deploy', 'app', 'ws3', {
      type: 'upgrade',
      upgrade: { oldUpstreamRef: { name: 'blue.app.v1' }, newUpstreamRef: { name: 'blue.app.v2' }, localPackageRevisionRef: { name: 'deploy.app.ws1' } },
    });
    const upgraded = lsTree(deploy, 'drafts/app/ws3', 'app');
    expect(pick(upgraded, SPECIAL)).toEqual(want);
    expect(upgraded['settings.yaml']).toBeDefined();
    fsck(deploy);
  });

  it('a changed script stays executable; a symlink written with new text becomes a regular file; new files are regular', async () => {
    const files = await resources('deploy.app.ws2');
    await setResources('deploy.app.ws2', { ...files, 'bin/run.sh': '#!/bin/sh\necho changed\n', 'run-link': 'settings.yaml', 'new.txt': 'new\n' });
    const tree = lsTree(deploy, 'drafts/app/ws2', 'app');
    expect(tree['bin/run.sh']).toMatch(/^100755 /);
    expect(tree['run-link']).toMatch(/^100644 /);
    expect(tree['new.txt']).toMatch(/^100644 /);
    // The untouched binary files are still the upstream's blobs.
    expect(pick(tree, ['logo.png', 'latin1.txt'])).toEqual(pick(upstreamV1, ['logo.png', 'latin1.txt']));
    // Their text, written back changed, is what is stored: the replacement character is UTF-8 now.
    await setResources('deploy.app.ws2', { ...(await resources('deploy.app.ws2')), 'latin1.txt': 'caf\uFFFD!\n' });
    const after = lsTree(deploy, 'drafts/app/ws2', 'app');
    expect(git(deploy, ['cat-file', 'blob', after['latin1.txt'].split(' ')[1]])).toBe('caf\uFFFD!');
  });
});
