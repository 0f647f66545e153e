import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { porchRepo } from '../support/git-fixtures.ts';
import { client, PORCH, type Reply } from './api.ts';
import { stressSize } from '../support/stress.ts';

/** Writers racing on one resourceVersion. */
const WRITERS = stressSize(8, 64);

const run = promisify(execFile);

// Concurrent writers against the real server over HTTP: one winner per resourceVersion, one
// workspace per name, one tag per revision number — whatever the interleaving.

interface Obj {
  metadata: { name: string; resourceVersion: string };
  spec: { lifecycle?: string; revision?: number; resources?: Record<string, string> };
}

describe('concurrent writers', () => {
  let dir: string;
  let bare: string;
  let server: DevServer;
  const api = client(() => server);
  const withJson = (r: Reply) => ({ ...r, json: () => JSON.parse(r.text) as Obj & { reason?: string; message?: string } });
  const req = async (method: string, path: string, body?: unknown, contentType?: string) => withJson(await api.req(method, path, body, contentType));
  const create = async (pkg: string, ws: string) => withJson(await api.createDraft(pkg, ws));
  const lifecycle = (name: string, lc: string, sub = '') => req('PATCH', `${PORCH}/packagerevisions/${name}${sub}`, { spec: { lifecycle: lc } }, 'application/merge-patch+json');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-concurrency-'));
    bare = porchRepo(dir, 'blue', [{ path: 'app', revisions: 1 }]);
    server = await startDevServer({ args: ['--sync-interval', '0'] });
    const r = await api.registerBlue(bare);
    expect(r.status, r.text).toBe(201);
    await api.waitServed('blue.app.v1');
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`lets exactly one of ${WRITERS} updates with the same resourceVersion through; the rest get 409`, async () => {
    const c = await create('racy', 'ws1');
    expect(c.status, c.text).toBe(201);
    const name = c.json().metadata.name;
    const cur = (await req('GET', `${PORCH}/packagerevisionresources/${name}`)).json();
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) =>
        req('PUT', `${PORCH}/packagerevisionresources/${name}`, {
          ...cur,
          spec: { ...cur.spec, resources: { ...cur.spec.resources, 'writer.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: writer\ndata:\n  who: "${i}"\n` } },
        }),
      ),
    );
    const codes = results.map((r) => r.status).sort();
    expect(codes).toEqual([200, ...Array<number>(WRITERS - 1).fill(409)]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.json().reason).toBe('Conflict');
    // What is stored is the winner's content, whole.
    const winner = results.findIndex((r) => r.status === 200);
    const after = (await req('GET', `${PORCH}/packagerevisionresources/${name}`)).json();
    expect(after.spec.resources?.['writer.yaml']).toContain(`who: "${winner}"`);
  });

  it('creates a workspace once when two clients ask for it together', async () => {
    const [a, b] = await Promise.all([create('twice', 'ws1'), create('twice', 'ws1')]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.json().reason).toBe('AlreadyExists');
    const { stdout } = await run('git', ['for-each-ref', '--format=%(refname)', 'refs/heads/drafts/twice'], { cwd: bare });
    expect(stdout.trim().split('\n')).toEqual(['refs/heads/drafts/twice/ws1']);
  });

  it('numbers two drafts of one package approved at once as revisions 2 and 3, never the same', async () => {
    for (const ws of ['p1', 'p2']) {
      const c = await create('app', ws);
      expect(c.status, c.text).toBe(201);
      const p = await lifecycle(`blue.app.${ws}`, 'Proposed');
      expect(p.status, p.text).toBe(200);
    }
    const [a, b] = await Promise.all([lifecycle('blue.app.p1', 'Published', '/approval'), lifecycle('blue.app.p2', 'Published', '/approval')]);
    expect(a.status, a.text).toBe(200);
    expect(b.status, b.text).toBe(200);
    expect([a.json().spec.revision, b.json().spec.revision].sort()).toEqual([2, 3]);
    const { stdout } = await run('git', ['tag', '--list', 'app/*'], { cwd: bare });
    expect(stdout.trim().split('\n').sort()).toEqual(['app/v1', 'app/v2', 'app/v3']);
    const list = JSON.parse((await req('GET', `${PORCH}/packagerevisions?fieldSelector=spec.packageName%3Dapp`)).text) as { items: Obj[] };
    const revisions = list.items.map((i) => i.spec.revision ?? 0).filter((r) => r > 0).sort();
    expect(revisions).toEqual([1, 2, 3]);
  });

  it('keeps one lifecycle when a propose and an approval race on the same draft', async () => {
    expect((await create('race2', 'ws1')).status).toBe(201);
    expect((await lifecycle('blue.race2.ws1', 'Proposed')).status).toBe(200);
    const [back, approve] = await Promise.all([lifecycle('blue.race2.ws1', 'Draft'), lifecycle('blue.race2.ws1', 'Published', '/approval')]);
    // Whichever ran first decides, and the other is then an illegal transition: 409.
    const final = (await req('GET', `${PORCH}/packagerevisions/blue.race2.ws1`)).json();
    expect([back.status, approve.status].sort()).toEqual([200, 409]);
    expect(final.spec.lifecycle).toBe(approve.status === 200 ? 'Published' : 'Draft');
    const tags = (await run('git', ['tag', '--list', 'race2/*'], { cwd: bare })).stdout.trim();
    const branches = (await run('git', ['for-each-ref', '--format=%(refname)', 'refs/heads/drafts/race2', 'refs/heads/proposed/race2'], { cwd: bare })).stdout.trim();
    if (final.spec.lifecycle === 'Published') {
      expect(tags).toBe('race2/v1');
      expect(branches).toBe('');
    } else {
      expect(final.spec.lifecycle).toBe('Draft');
      expect(tags).toBe('');
      expect(branches).toBe('refs/heads/drafts/race2/ws1');
    }
  });
});
