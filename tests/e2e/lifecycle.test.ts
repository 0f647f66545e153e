import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { e2eScope } from '../support/e2e-scope.ts';
import { kubectlAgainst } from '../support/kubectl-session.ts';
import { startGitServer, type GitServer } from '../support/git-server.ts';
import { git, porchRepo } from '../support/git-fixtures.ts';
import { packageRevisionYaml, repositoryYaml } from '../support/manifests.ts';
import { waitFor } from '../support/wait-for.ts';

const execFileAsync = promisify(execFile);

// The git-backed lifecycle end to end: real kubectl against the dev server, a real git server
// (git http-backend with basic auth) holding a repository written the way Porch writes it.

describe('package revision lifecycle through kubectl and a git server', () => {
  const scope = e2eScope('porch-e2e-');
  let gitServer: GitServer;
  let server: DevServer;
  let bare: string;
  const session = kubectlAgainst(() => server.kubeconfig);
  const { k, ok, json } = session;

  const repoYaml = (name: string, url: string, secret: string) => repositoryYaml({ name, repo: url, secret });
  const secretYaml = (name: string, password: string) => `
apiVersion: v1
kind: Secret
metadata:
  name: ${name}
  namespace: default
type: kubernetes.io/basic-auth
stringData:
  username: porch
  password: ${password}
`;


  beforeAll(async () => {
    bare = porchRepo(scope.dir, 'blueprints', [
      { path: 'basens', revisions: 2 },
      { path: 'net/router', revisions: 1, drafts: ['wip'] },
    ]);
    gitServer = scope.keep(await startGitServer({ root: scope.dir, username: 'porch', password: 's3cret' }));
    server = scope.keep(await startDevServer({ args: ['--sync-interval', '0'] }));
    await ok(['apply', '-f', '-'], secretYaml('git-creds', 's3cret'));
    await ok(['apply', '-f', '-'], repoYaml('blueprints', `${gitServer.url}/blueprints.git`, 'git-creds'));
    await session.repositoryReady('blueprints');
  });


  it('lists what Porch wrote to git, with names, revisions, lifecycles and the latest flag', async () => {
    const list = await json(['get', 'packagerevisions']);
    const rows = list.items.map((i: { metadata: { name: string; labels?: Record<string, string> }; spec: { revision?: number; lifecycle: string } }) =>
      [i.metadata.name, i.spec.revision ?? 0, i.spec.lifecycle, i.metadata.labels?.['kpt.dev/latest-revision'] === 'true'].join(' '),
    );
    expect(rows, JSON.stringify(rows)).toEqual([
      'blueprints.basens.main -1 Published false',
      'blueprints.basens.v1 1 Published false',
      'blueprints.basens.v2 2 Published true',
      'blueprints.net.router.main -1 Published false',
      'blueprints.net.router.v1 1 Published true',
      'blueprints.net.router.wip 0 Draft false',
    ]);
    const v1 = list.items.find((i: { metadata: { name: string } }) => i.metadata.name === 'blueprints.basens.v2');
    expect(v1.spec.tasks[0].type).toBe('edit');

    const table = await ok(['get', 'packagerevisions']);
    expect(table.split('\n')[0].split(/\s+/)).toEqual(['NAME', 'PACKAGE', 'WORKSPACENAME', 'REVISION', 'LATEST', 'LIFECYCLE', 'REPOSITORY']);
    expect(table).toMatch(/blueprints\.basens\.v2\s+basens\s+v2\s+2\s+true\s+Published\s+blueprints/);

    const pkgs = await ok(['get', 'packages']);
    expect(pkgs).toMatch(/blueprints\.net\.router\s+net\/router\s+blueprints\s+1/);
  });

  it('filters with field and label selectors', async () => {
    const byField = await json(['get', 'packagerevisions', '--field-selector', 'spec.packageName=basens,spec.revision=v1']);
    expect(byField.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['blueprints.basens.v1']);
    const latest = await json(['get', 'packagerevisions', '-l', 'kpt.dev/latest-revision=true']);
    expect(latest.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort()).toEqual(['blueprints.basens.v2', 'blueprints.net.router.v1']);
    const bad = await k(['get', 'packagerevisions', '--field-selector', 'spec.lifecycle=Sideways']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.lifecycle/);
  });

  it('creates, edits, proposes, approves, edits again, publishes, proposes deletion and deletes', async () => {
    const draft = packageRevisionYaml({ repository: 'blueprints', packageName: 'app', workspaceName: 'first' });
    await ok(['create', '-f', '-'], draft);
    const name = 'blueprints.app.first';
    const created = await json(['get', 'packagerevision', name]);
    expect(created.spec.lifecycle).toBe('Draft');
    expect(git(bare, ['ls-remote', '--heads', bare])).toContain('refs/heads/drafts/app/first');

    // Read and replace the resources.
    const prr = await json(['get', 'packagerevisionresources', name]);
    expect(Object.keys(prr.spec.resources)).toContain('Kptfile');
    prr.spec.resources['deploy.yaml'] = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n';
    await ok(['replace', '-f', '-'], JSON.stringify(prr));
    const after = await json(['get', 'packagerevisionresources', name]);
    expect(after.spec.resources['deploy.yaml']).toMatch(/kind: Deployment/);
    expect(await ok(['get', 'packagerevisionresources', name])).toMatch(/app\s+first\s+0\s+blueprints\s+4/);

    // Editing resources of a Published revision and approving a Draft are refused; git is unchanged.
    const refsBefore = git(bare, ['for-each-ref', '--format=%(refname) %(objectname)']);
    const approveDraft = await k(['replace', '--raw', `/apis/porch.kpt.dev/v1alpha1/namespaces/default/packagerevisions/${name}/approval`, '-f', '-'],
      JSON.stringify({ ...created, metadata: { ...created.metadata, resourceVersion: undefined }, spec: { ...created.spec, lifecycle: 'Published' } }));
    expect(approveDraft.code).not.toBe(0);
    expect(approveDraft.stderr).toMatch(/only Proposed packages can be approved/);
    const publishedPrr = await json(['get', 'packagerevisionresources', 'blueprints.basens.v1']);
    publishedPrr.spec.resources['x.yaml'] = 'a: 1\n';
    const editPublished = await k(['replace', '-f', '-'], JSON.stringify(publishedPrr));
    expect(editPublished.code).not.toBe(0);
    expect(editPublished.stderr).toMatch(/Conflict|only Draft/);
    const dup = await k(['create', '-f', '-'], draft);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/already exists/);
    expect(git(bare, ['for-each-ref', '--format=%(refname) %(objectname)'])).toBe(refsBefore);

    // Propose and approve.
    const published = await session.publish(name);
    expect(published.spec.revision).toBe(1);
    expect(published.metadata.labels['kpt.dev/latest-revision']).toBe('true');
    // Asynchronously: the git server runs in this process and must keep answering meanwhile.
    const remoteRefs = (await execFileAsync('git', ['ls-remote', `http://porch:s3cret@127.0.0.1:${gitServer.port}/blueprints.git`])).stdout;
    expect(remoteRefs).toContain('refs/tags/app/v1');
    expect(remoteRefs).not.toContain('proposed/app/first');

    // Edit into a new draft, publish it: revision 2, latest moves.
    await ok(['create', '-f', '-'], packageRevisionYaml({ repository: 'blueprints', packageName: 'app', workspaceName: 'second', tasks: [{ type: 'edit', edit: { sourceRef: { name } } }] }));
    const second = 'blueprints.app.second';
    expect((await json(['get', 'packagerevisionresources', second])).spec.resources['deploy.yaml']).toMatch(/Deployment/);
    await session.publish(second);
    const latest = await json(['get', 'packagerevisions', '-l', 'kpt.dev/latest-revision=true', '--field-selector', 'spec.packageName=app']);
    expect(latest.items.map((i: { metadata: { name: string }; spec: { revision: number } }) => `${i.metadata.name}@${i.spec.revision}`)).toEqual([`${second}@2`]);

    // A Published revision cannot be deleted directly; DeletionProposed can, and it leaves git.
    const direct = await k(['delete', 'packagerevision', name]);
    expect(direct.code).not.toBe(0);
    expect(direct.stderr).toMatch(/forbidden/i);
    await ok(['patch', 'packagerevision', name, '--type', 'merge', '-p', '{"spec":{"lifecycle":"DeletionProposed"}}']);
    expect(git(bare, ['for-each-ref', '--format=%(refname)'])).toContain('refs/heads/deletionProposed/app/v1');
    await ok(['delete', 'packagerevision', name]);
    const refs = git(bare, ['for-each-ref', '--format=%(refname)']);
    expect(refs).not.toContain('refs/tags/app/v1');
    expect(refs).not.toContain('deletionProposed/app/v1');
    expect((await k(['get', 'packagerevision', name])).stderr).toMatch(/not found/);
  });

  it('keeps everything across a restart of the dev server', async () => {
    const before = (await json(['get', 'packagerevisions'])).items.map((i: { metadata: { name: string } }) => i.metadata.name);
    await server.restart();
    const after = await waitFor('revisions after restart', async () => {
      const r = await k(['get', 'packagerevisions', '-o', 'json']);
      if (r.code !== 0) return undefined;
      const names = JSON.parse(r.stdout).items.map((i: { metadata: { name: string } }) => i.metadata.name);
      return names.length === before.length ? names : undefined;
    });
    expect(after).toEqual(before);
  });

  it('reports wrong credentials as Ready=False with a clear message', async () => {
    await ok(['apply', '-f', '-'], secretYaml('bad-creds', 'wrong'));
    await ok(['apply', '-f', '-'], repoYaml('locked', `${gitServer.url}/blueprints.git`, 'bad-creds'));
    const cond = await waitFor('repository not ready', async () => {
      const r = await json(['get', 'repository', 'locked']);
      return r.status?.conditions?.find((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'False');
    });
    expect(cond.reason).toBe('Error');
    expect(cond.message).toMatch(/authentication failed/);
    expect(await ok(['get', 'repository', 'locked'])).toMatch(/locked\s+git\s+Package\s+False/);
  });
});
