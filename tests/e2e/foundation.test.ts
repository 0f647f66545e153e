import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { kubectlAgainst } from '../support/kubectl-session.ts';
import { repositoryYaml } from '../support/manifests.ts';

// The foundation as kubectl sees it: discovery, Repository CRUD, errors as Status, persistence.

const REPO = (name: string, extra = '') => repositoryYaml({ name, repo: `https://git.example.com/${name}.git`, description: `${name} blueprints`, directory: `/${extra}` });

describe('dev server driven by kubectl', () => {
  let server: DevServer;
  const { k, ok } = kubectlAgainst(() => server.kubeconfig);

  beforeAll(async () => {
    // Repositories here point at a host that does not exist: syncs fail, which these tests do not look at.
    server = await startDevServer({ args: ['--sync-interval', '0'] });
  });
  afterAll(async () => server?.stop());

  it('lists every resource in api-resources, with short names', async () => {
    const out = await ok(['api-resources']);
    for (const r of ['packagerevisions', 'packagerevisionresources', 'packages', 'repositories', 'packagerevs', 'packagevariants', 'packagevariantsets'])
      expect(out).toMatch(new RegExp(`^${r}\\s`, 'm'));
    expect(out).toMatch(/^repositories\s+repo\s+config\.porch\.kpt\.dev\/v1alpha1\s+true\s+Repository$/m);
    expect(await ok(['get', 'repo'])).toBe('');
  });

  it('applies, gets, patches and deletes a Repository', async () => {
    expect(await ok(['apply', '-f', '-'], REPO('blueprints'))).toMatch(/repository.config.porch.kpt.dev\/blueprints created/);
    const table = await ok(['get', 'repo', 'blueprints']);
    expect(table).toMatch(/^NAME\s+TYPE\s+CONTENT\s+SYNC SCHEDULE\s+DEPLOYMENT\s+READY\s+ADDRESS\s+BRANCH\s+AGE/);
    expect(table).toMatch(/blueprints\s+git\s+Package\s+.*https:\/\/git\.example\.com\/blueprints\.git\s+main/);
    expect(await ok(['get', 'repo', 'blueprints', '-o', 'yaml'])).toMatch(/description: blueprints blueprints/);
    await ok(['patch', 'repo', 'blueprints', '--type', 'merge', '-p', '{"spec":{"description":"patched"}}']);
    await ok(['patch', 'repo', 'blueprints', '--type', 'json', '-p', '[{"op":"add","path":"/metadata/labels","value":{"team":"a"}}]']);
    const obj = JSON.parse(await ok(['get', 'repo', 'blueprints', '-o', 'json']));
    expect(obj.spec.description).toBe('patched');
    expect(obj.metadata.labels.team).toBe('a');
    expect(await ok(['get', 'repo', '-l', 'team=a', '-o', 'name'])).toBe('repository.config.porch.kpt.dev/blueprints\n');
    expect(await ok(['apply', '-f', '-'], REPO('blueprints'))).toMatch(/configured/);
    expect(await ok(['delete', 'repo', 'blueprints'])).toMatch(/deleted/);
    expect((await k(['get', 'repo', 'blueprints'])).stderr).toMatch(/repositories.config.porch.kpt.dev "blueprints" not found/);
  });

  it('answers a stale update with 409, an invalid Repository with 422, an unknown type cleanly', async () => {
    await ok(['apply', '-f', '-'], REPO('stale'));
    const obj = JSON.parse(await ok(['get', 'repo', 'stale', '-o', 'json']));
    await ok(['patch', 'repo', 'stale', '--type', 'merge', '-p', '{"spec":{"description":"moved on"}}']);
    obj.spec.description = 'from an old copy';
    const stale = await k(['replace', '-f', '-'], JSON.stringify(obj));
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toMatch(/Conflict.*the object has been modified/);

    const invalid = await k(['apply', '-f', '-'], REPO('Not_A_Name'));
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toMatch(/is invalid: metadata\.name/);

    const immutable = await k(['patch', 'repo', 'stale', '--type', 'merge', '-p', '{"spec":{"git":{"branch":"other"}}}']);
    expect(immutable.stderr).toMatch(/spec\.git\.branch: Invalid value: field is immutable/);

    const unknown = await k(['get', 'foo.bar']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/the server doesn't have a resource type "foo"/);
  });

  it('answers unknown paths and verbs with Status objects', async () => {
    const missing = await fetch(`${server.url}/apis/nothing.example.com/v1/things`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).kind).toBe('Status');
    const verb = await fetch(`${server.url}/apis/porch.kpt.dev/v1alpha1/namespaces/default/packages/x`, { method: 'DELETE' });
    expect(verb.status).toBe(405);
    const body = await verb.json();
    expect(body.reason).toBe('MethodNotAllowed');
  });

  it('keeps state across a restart', async () => {
    await ok(['apply', '-f', '-'], REPO('durable'));
    const before = JSON.parse(await ok(['get', 'repo', 'durable', '-o', 'json']));
    await server.restart();
    const after = JSON.parse(await ok(['get', 'repo', 'durable', '-o', 'json']));
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.spec).toEqual(before.spec);
  });
});
