import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { startGitServer, type GitServer } from '../support/git-server.ts';
import { porchRepo } from '../support/git-fixtures.ts';
import { until as pollUntil, type Check } from '../support/wait-for.ts';
import { client, CONFIG, PORCH } from './api.ts';

const run = promisify(execFile);

// The git server goes away between and during operations: requests fail with a clear 503, nothing
// acknowledged is lost, the Repository reports it, and once git is back the same requests succeed.

interface Obj {
  metadata: { name: string; resourceVersion: string };
  spec: { lifecycle?: string; resources?: Record<string, string> };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
  code?: number;
  reason?: string;
  message?: string;
}

describe('git server outages', () => {
  let dir: string;
  let gitServer: GitServer;
  let server: DevServer;
  const REPO = `${CONFIG}/repositories/blue`;
  const api = client(() => server);
  const req = async (method: string, path: string, body?: unknown, contentType?: string) => {
    const r = await api.req(method, path, body, contentType);
    return { ...r, obj: JSON.parse(r.text) as Obj };
  };
  const ready = async () => (await req('GET', REPO)).obj.status?.conditions?.find((c) => c.type === 'Ready');
  const until = <T>(what: string, check: Check<T>) => pollUntil(what, check, 30_000, 100);
  const remoteRefs = async () => (await run('git', ['for-each-ref', '--format=%(refname) %(objectname)'], { cwd: join(dir, 'blue.git') })).stdout;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-outage-'));
    porchRepo(dir, 'blue', [{ path: 'app', revisions: 1 }]);
    gitServer = await startGitServer({ root: dir });
    server = await startDevServer({ args: ['--sync-interval', '1s'] });
    const r = await api.registerBlue(`${gitServer.url}/blue.git`);
    expect(r.status, r.text).toBe(201);
    await api.waitServed('blue.app.v1');
  });

  afterAll(async () => {
    await server?.stop();
    await gitServer?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails writes with 503 while git is down, keeps the draft, and succeeds on retry when it is back', async () => {
    const created = await api.createDraft('outage', 'ws1').then((x) => ({ ...x, obj: JSON.parse(x.text) as Obj }));
    expect(created.status, created.text).toBe(201);
    const name = created.obj.metadata.name;
    const res = (await req('GET', `${PORCH}/packagerevisionresources/${name}`)).obj;
    const saved = await req('PUT', `${PORCH}/packagerevisionresources/${name}`, { ...res, spec: { ...res.spec, resources: { ...res.spec.resources, 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n' } } });
    expect(saved.status, saved.text).toBe(200);
    const before = await remoteRefs();

    await gitServer.stop();
    // Propose, an edit of the resources and a new draft: each needs a push, each fails cleanly.
    const propose = await req('PATCH', `${PORCH}/packagerevisions/${name}`, { spec: { lifecycle: 'Proposed' } }, 'application/merge-patch+json');
    expect(propose.status, propose.text).toBe(503);
    expect(propose.obj).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
    expect(propose.obj.message).toMatch(/git repository unavailable/);
    const cur = (await req('GET', `${PORCH}/packagerevisionresources/${name}`)).obj;
    const edit = await req('PUT', `${PORCH}/packagerevisionresources/${name}`, { ...cur, spec: { ...cur.spec, resources: { ...cur.spec.resources, 'cm.yaml': 'lost: true\n' } } });
    expect(edit.status, edit.text).toBe(503);
    const another = await api.createDraft('outage', 'ws2');
    expect(another.status, another.text).toBe(503);

    // Nothing acknowledged is gone, and nothing refused shows up.
    const during = await req('GET', `${PORCH}/packagerevisions/${name}`);
    expect(during.obj.spec.lifecycle).toBe('Draft');
    expect((await req('GET', `${PORCH}/packagerevisionresources/${name}`)).obj.spec.resources?.['cm.yaml']).toContain('name: kept');
    expect((await req('GET', `${PORCH}/packagerevisions/blue.outage.ws2`)).status).toBe(404);
    const down = await until('Ready=False', async () => {
      const c = await ready();
      return c?.status === 'False' ? c : undefined;
    });
    expect(down.reason).toBe('Error');
    // The listing keeps serving what the cache has while git is away.
    expect((await req('GET', `${PORCH}/packagerevisions/blue.app.v1`)).status).toBe(200);
    expect(await remoteRefs()).toBe(before);

    await gitServer.restart();
    await until('Ready=True', async () => (await ready())?.status === 'True');
    const retry = await req('PATCH', `${PORCH}/packagerevisions/${name}`, { spec: { lifecycle: 'Proposed' } }, 'application/merge-patch+json');
    expect(retry.status, retry.text).toBe(200);
    expect(retry.obj.spec.lifecycle).toBe('Proposed');
    const after = await remoteRefs();
    expect(after).toContain('refs/heads/proposed/outage/ws1');
    expect(after).not.toContain('refs/heads/drafts/outage/ws1');
    const files = (await req('GET', `${PORCH}/packagerevisionresources/${name}`)).obj.spec.resources ?? {};
    expect(files['cm.yaml']).toContain('name: kept');
  });

  it('fails a write whose push is cut off mid-request with 503, and loses nothing', async () => {
    const created = await api.createDraft('cutoff', 'ws1').then((x) => ({ ...x, obj: JSON.parse(x.text) as Obj }));
    expect(created.status, created.text).toBe(201);
    const name = created.obj.metadata.name;
    const res = (await req('GET', `${PORCH}/packagerevisionresources/${name}`)).obj;
    const before = await remoteRefs();

    // The push reaches the git server with its whole pack, which then goes away before answering.
    const arrived = gitServer.holdNext(/^POST \/blue\.git\/git-receive-pack/);
    const pending = req('PUT', `${PORCH}/packagerevisionresources/${name}`, { ...res, spec: { ...res.spec, resources: { ...res.spec.resources, 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cut\n' } } });
    await arrived;
    await gitServer.stop();
    const cut = await pending;
    expect(cut.status, cut.text).toBe(503);
    expect(cut.obj).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
    expect(cut.obj.message).toMatch(/git repository unavailable/);
    expect(await remoteRefs()).toBe(before);
    const kept = (await req('GET', `${PORCH}/packagerevisionresources/${name}`)).obj;
    expect(kept.spec.resources).toEqual(res.spec.resources);

    await gitServer.restart();
    await until('Ready=True', async () => (await ready())?.status === 'True');
    const listed = (await req('GET', `${PORCH}/packagerevisions/${name}`)).obj;
    expect(listed.spec.lifecycle).toBe('Draft');
    const retry = await req('PUT', `${PORCH}/packagerevisionresources/${name}`, { ...kept, spec: { ...kept.spec, resources: { ...kept.spec.resources, 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cut\n' } } });
    expect(retry.status, retry.text).toBe(200);
    expect((await req('GET', `${PORCH}/packagerevisionresources/${name}`)).obj.spec.resources?.['cm.yaml']).toContain('name: cut');
    expect(await remoteRefs()).not.toBe(before);
  });
});
