import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import approvePackageRevision from '../../handlers/approve-packagerevision.ts';
import createPackageRevision from '../../handlers/create-packagerevision.ts';
import patchPackageRevision from '../../handlers/patch-packagerevision.ts';
import type { AppContext } from '../../lib/context.ts';
import { jsonRequest, registerRepository, testContext } from '../support/context.ts';
import { git, porchRepo, tempDir } from '../support/git-fixtures.ts';
import { startGitServer, type GitServer } from '../support/git-server.ts';

// Approving numbers the revision after the highest one the server knows of. When someone pushed that
// number's tag to git directly since the last sync, git refuses to overwrite it: the approval then
// syncs and takes the next free number, and the tag pushed directly is left as it was.

const NS = '/apis/porch.kpt.dev/v1alpha1/namespaces/default';
const MERGE = 'application/merge-patch+json';

interface PR {
  metadata: { name: string; resourceVersion: string };
  spec: { lifecycle: string; revision?: number; packageName: string; workspaceName: string };
}

describe.each([
  ['a local repository', false],
  ['a remote over smart HTTP', true],
])('approving in %s when the next tag was pushed directly', (_, overHttp) => {
  const tmp = tempDir('porch-publish-number-');
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  let server: GitServer | undefined;
  let bare: string;

  beforeAll(async () => {
    ({ ctx, cleanup } = await testContext());
    bare = porchRepo(tmp.path, 'repo', [{ path: 'app', revisions: 1 }]);
    server = overHttp ? await startGitServer({ root: tmp.path }) : undefined;
    await registerRepository(ctx, 'repo', server ? `${server.url}/repo.git` : bare);
  });
  afterAll(async () => {
    await cleanup();
    await server?.stop();
    tmp.remove();
  });

  it('takes the next free number and leaves the tag pushed directly alone', async () => {
    const created = await createPackageRevision(ctx).request(
      jsonRequest('POST', `${NS}/packagerevisions`, {
        apiVersion: 'porch.kpt.dev/v1alpha1',
        kind: 'PackageRevision',
        metadata: { namespace: 'default' },
        spec: { packageName: 'app', workspaceName: 'next', repository: 'repo', tasks: [{ type: 'edit', edit: { sourceRef: { name: 'repo.app.v1' } } }] },
      }),
    );
    expect(created.status, await created.clone().text()).toBe(201);
    const draft = (await created.json()) as PR;
    const proposed = await patchPackageRevision(ctx).request(jsonRequest('PATCH', `${NS}/packagerevisions/${draft.metadata.name}`, { spec: { lifecycle: 'Proposed' } }, MERGE));
    expect(proposed.status, await proposed.clone().text()).toBe(200);

    // Behind the server's back: revision 2's tag, on a commit of its own holding the package.
    const commit = git(bare, ['commit-tree', 'main^{tree}', '-p', 'main', '-m', 'Released by hand'], { env: { GIT_AUTHOR_NAME: 'someone', GIT_AUTHOR_EMAIL: 'someone@example.com', GIT_COMMITTER_NAME: 'someone', GIT_COMMITTER_EMAIL: 'someone@example.com' } });
    git(bare, ['tag', 'app/v2', commit]);
    const pushedDirectly = git(bare, ['rev-parse', 'app/v2']);

    const pr = (await proposed.json()) as PR;
    const approved = await approvePackageRevision(ctx).request(jsonRequest('PUT', `${NS}/packagerevisions/${pr.metadata.name}/approval`, { ...pr, spec: { ...pr.spec, lifecycle: 'Published' } }));
    expect(approved.status, await approved.clone().text()).toBe(200);
    const body = (await approved.json()) as PR;
    expect(body.spec.lifecycle).toBe('Published');
    expect(body.spec.revision).toBe(3);
    expect(git(bare, ['rev-parse', 'app/v2'])).toBe(pushedDirectly);
    expect(git(bare, ['log', '-1', '--format=%s', 'app/v3'])).toBe('Approving package revision app/3');
    expect(git(bare, ['rev-parse', 'app/v3'])).toBe(git(bare, ['rev-parse', 'main']));
  });
});
