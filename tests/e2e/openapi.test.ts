import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, startDevServer, type DevServer } from '../support/dev-server.ts';

// kubectl against the real dev server: `explain` reads /openapi/v3, and `apply` only works when the
// documents tell kubectl the server validates fields itself (otherwise it insists on downloading a
// protobuf /openapi/v2 and fails with "failed to download openapi").

let server: DevServer;
const k = (args: string[], input?: string) => kubectl(args, { kubeconfig: server.kubeconfig, input });

function repositoryYaml(name: string, extraSpec = ''): string {
  return [
    'apiVersion: config.porch.kpt.dev/v1alpha1',
    'kind: Repository',
    'metadata:',
    `  name: ${name}`,
    '  namespace: default',
    'spec:',
    '  type: git',
    ...(extraSpec ? [extraSpec] : []),
    '  git:',
    '    repo: https://example.com/x.git',
    '',
  ].join('\n');
}

beforeAll(async () => {
  server = await startDevServer();
});

afterAll(async () => {
  await server?.stop();
});

describe('kubectl and the OpenAPI documents', () => {
  it('explains nested Repository fields from the schema descriptions', async () => {
    const r = await k(['explain', 'repositories.spec.git']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('KIND:       Repository');
    expect(r.stdout).toContain('Git repository details.');
    expect(r.stdout).toMatch(/repo\s+<string> -required-/);
    expect(r.stdout).toContain('Address of the git repository');
  });

  it('explains PackageRevision spec', async () => {
    const r = await k(['explain', 'packagerevisions.spec']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('PackageRevisionSpec defines the desired state of PackageRevision.');
    expect(r.stdout).toMatch(/lifecycle\s+<string>/);
    expect(r.stdout).toContain('packageName');
  });

  it('explains a core kind with its map fields', async () => {
    const r = await k(['explain', 'secrets.data']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('map[string]');
  });

  it('applies a Repository with validation on, then applies a change to it', async () => {
    const created = await k(['apply', '-f', '-'], repositoryYaml('oa-apply'));
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).not.toContain('failed to download openapi');
    expect(created.stdout).toContain('repository.config.porch.kpt.dev/oa-apply created');

    const changed = await k(['apply', '-f', '-'], repositoryYaml('oa-apply', '  description: second apply'));
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('repository.config.porch.kpt.dev/oa-apply configured');

    const got = await k(['get', 'repositories', 'oa-apply', '-n', 'default', '-o', 'jsonpath={.spec.description}']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe('second apply');
  });

  it('serves the documents kubectl can read raw', async () => {
    const v3 = await k(['get', '--raw', '/openapi/v3']);
    expect(v3.code, v3.stderr).toBe(0);
    const index = JSON.parse(v3.stdout) as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(index.paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/config.porch.kpt.dev/v1alpha1', 'apis/porch.kpt.dev/v1alpha1']));

    const v2 = await k(['get', '--raw', '/openapi/v2']);
    expect(v2.code, v2.stderr).toBe(0);
    expect(JSON.parse(v2.stdout)).toMatchObject({ swagger: '2.0' });
  });
});
