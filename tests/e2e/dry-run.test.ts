import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { kubectlAgainst } from '../support/kubectl-session.ts';
import { git, porchRepo } from '../support/git-fixtures.ts';
import { repositoryYaml } from '../support/manifests.ts';

// kubectl's server-side dry runs (diff, apply/patch/delete --dry-run=server) against the dev server
// and a local git repository: each answers what the write would do and leaves every ref as it was.

describe('server-side dry run through kubectl', () => {
  let dir: string;
  let server: DevServer;
  let bare: string;
  const NAME = 'blueprints.app.ws';

  const session = kubectlAgainst(() => server.kubeconfig, 120_000);
  const { k, ok } = session;
  const refs = () => git(bare, ['for-each-ref', '--format=%(refname) %(objectname)']);
  const lifecycle = async () => JSON.parse(await ok(['get', 'packagerevision', NAME, '-o', 'json'])).spec.lifecycle;

  /** `args` runs successfully (or with `code`) and leaves the refs as they were. */
  async function dry(args: string[], code = 0, input?: string): Promise<string> {
    const before = refs();
    const r = await k(args, input);
    expect(r.code, `kubectl ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(code);
    expect(refs()).toBe(before);
    return r.stdout;
  }

  const prYaml = (labels: Record<string, string>) =>
    YAML.stringify({
      apiVersion: 'porch.kpt.dev/v1alpha1',
      kind: 'PackageRevision',
      metadata: { name: NAME, namespace: 'default', labels },
      spec: { packageName: 'app', workspaceName: 'ws', repository: 'blueprints' },
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-dry-'));
    bare = porchRepo(dir, 'blueprints', []);
    server = await startDevServer({ args: ['--sync-interval', '0'] });
    await ok(['apply', '-f', '-'], repositoryYaml({ name: 'blueprints', repo: bare }));
    await session.repositoryReady('blueprints');
  });

  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('apply --dry-run=server of a new PackageRevision creates nothing', async () => {
    expect(await dry(['apply', '--dry-run=server', '-f', '-'], 0, prYaml({ team: 'a' }))).toContain(`packagerevision.porch.kpt.dev/${NAME} created (server dry run)`);
    expect((await k(['get', 'packagerevision', NAME])).code).not.toBe(0);
    await ok(['apply', '-f', '-'], prYaml({ team: 'a' }));
    expect(await lifecycle()).toBe('Draft');
  });

  it('kubectl diff shows the change and makes none', async () => {
    const file = join(dir, 'pr.yaml');
    await writeFile(file, prYaml({ team: 'b' }));
    const out = await dry(['diff', '-f', file], 1);
    expect(out).toMatch(/-\s+team: a/);
    expect(out).toMatch(/\+\s+team: b/);
    expect(JSON.parse(await ok(['get', 'packagerevision', NAME, '-o', 'json'])).metadata.labels.team).toBe('a');
  });

  it('apply --dry-run=server of a changed PackageRevision and of its resources writes nothing', async () => {
    expect(await dry(['apply', '--dry-run=server', '-f', '-'], 0, prYaml({ team: 'c' }))).toContain('configured (server dry run)');
    const prr = JSON.parse(await ok(['get', 'packagerevisionresources', NAME, '-o', 'json']));
    prr.spec.resources['cm.yaml'] = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n';
    delete prr.metadata.resourceVersion;
    const file = join(dir, 'prr.json');
    await writeFile(file, JSON.stringify(prr));
    expect(await dry(['diff', '-f', file], 1)).toContain('cm.yaml');
    await dry(['apply', '--dry-run=server', '-f', file]);
    const now = JSON.parse(await ok(['get', 'packagerevisionresources', NAME, '-o', 'json']));
    expect(Object.keys(now.spec.resources)).not.toContain('cm.yaml');
  });

  it('patch --dry-run=server proposes nothing; on approval it publishes nothing', async () => {
    const out = await dry(['patch', 'packagerevision', NAME, '--type', 'merge', '-p', '{"spec":{"lifecycle":"Proposed"}}', '--dry-run=server', '-o', 'json']);
    expect(JSON.parse(out).spec.lifecycle).toBe('Proposed');
    expect(await lifecycle()).toBe('Draft');
    await ok(['patch', 'packagerevision', NAME, '--type', 'merge', '-p', '{"spec":{"lifecycle":"Proposed"}}']);

    const approved = await dry(['patch', 'packagerevision', NAME, '--subresource=approval', '--type', 'merge', '-p', '{"spec":{"lifecycle":"Published"}}', '--dry-run=server', '-o', 'json']);
    expect(JSON.parse(approved).spec).toMatchObject({ lifecycle: 'Published', revision: 1 });
    expect(await lifecycle()).toBe('Proposed');
  });

  it('delete --dry-run=server deletes nothing', async () => {
    expect(await dry(['delete', 'packagerevision', NAME, '--dry-run=server'])).toContain('deleted (server dry run)');
    expect(await lifecycle()).toBe('Proposed');
  });
});
