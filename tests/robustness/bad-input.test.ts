import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../support/dev-server.ts';
import { porchRepo } from '../support/git-fixtures.ts';
import { client } from './api.ts';
import { corpus, everyMistakeOnce, type BadRequest } from './bad-input-corpus.ts';
import { stressSize } from '../support/stress.ts';

const run = promisify(execFile);

// Every malformed request gets a 4xx Status that names the problem, the server stays up, and neither
// the git repository nor the object store changes by a single byte.

/** Every file under `dir` with its content hash, as one digest plus a listing for diffs. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p);
      else out.push(`${p} ${createHash('sha256').update(await readFile(join(dir, p))).digest('hex')}`);
    }
  };
  await walk('');
  return out.sort();
}

describe('a corpus of malformed requests', () => {
  let dir: string;
  let bare: string;
  let server: DevServer;
  const DRAFT = 'blue.app.ws1';
  const PUBLISHED = 'blue.app.v1';

  const call = async (r: Pick<BadRequest, 'method' | 'path' | 'contentType' | 'body'>) => {
    const res = await fetch(`${server.url}${r.path}`, {
      method: r.method,
      headers: r.contentType ? { 'content-type': r.contentType } : {},
      body: r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : new Uint8Array(r.body),
    });
    return { status: res.status, text: await res.text() };
  };
  const create = async (path: string, obj: unknown) => {
    const r = await call({ method: 'POST', path, contentType: 'application/json', body: JSON.stringify(obj) });
    expect(r.status, r.text).toBe(201);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porch-bad-input-'));
    bare = porchRepo(dir, 'blue', [{ path: 'app', revisions: 1, drafts: ['ws1'] }]);
    server = await startDevServer({ args: ['--sync-interval', '0'] });
    const blue = await client(() => server).registerBlue(bare);
    expect(blue.status, blue.text).toBe(201);
    const cfg = '/apis/config.porch.kpt.dev/v1alpha1/namespaces/default';
    await create(`${cfg}/packagevariants`, { apiVersion: 'config.porch.kpt.dev/v1alpha1', kind: 'PackageVariant', metadata: { name: 'pv1', namespace: 'default' }, spec: {} });
    await create(`${cfg}/packagevariantsets`, { apiVersion: 'config.porch.kpt.dev/v1alpha1', kind: 'PackageVariantSet', metadata: { name: 'pvs1', namespace: 'default' }, spec: {} });
    await create(`${cfg}/packagerevs`, { apiVersion: 'config.porch.kpt.dev/v1alpha1', kind: 'PackageRev', metadata: { name: 'pr1', namespace: 'default' } });
    await create('/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'default' }, stringData: { a: 'b' } });
    await client(() => server).waitServed(DRAFT);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers each with the right 4xx Status and changes nothing', async () => {
    const all = corpus(DRAFT, PUBLISHED, bare);
    expect(all.length).toBeGreaterThanOrEqual(200);
    // Every kind of mistake and every resource and verb; test:stress sends the whole cross product.
    const cases = stressSize(everyMistakeOnce(all), all);
    const gitBefore = await snapshot(bare);
    const refsBefore = (await run('git', ['for-each-ref'], { cwd: bare })).stdout;
    const storeBefore = await snapshot(join(server.dataDir, 'store'));

    const wrong: string[] = [];
    for (const c of cases) {
      const r = await call(c);
      let status: { kind?: string; code?: number; message?: string } = {};
      try {
        status = JSON.parse(r.text) as typeof status;
      } catch {
        // reported below
      }
      const problems: string[] = [];
      if (r.status !== c.status) problems.push(`HTTP ${r.status}, want ${c.status}`);
      if (status.kind !== 'Status') problems.push('body is not a Status');
      else if (status.code !== r.status) problems.push(`Status code ${status.code} differs from HTTP ${r.status}`);
      if (!(status.message ?? '').toLowerCase().includes(c.mention.toLowerCase())) problems.push(`message does not mention "${c.mention}"`);
      if (problems.length) wrong.push(`${c.name}: ${problems.join('; ')} — ${r.text.slice(0, 300)}`);
    }
    expect(wrong, `${wrong.length} of ${cases.length} cases answered wrongly:\n${wrong.join('\n')}`).toEqual([]);

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await run('git', ['for-each-ref'], { cwd: bare })).stdout).toBe(refsBefore);
    expect(await snapshot(bare)).toEqual(gitBefore);
    expect(await snapshot(join(server.dataDir, 'store'))).toEqual(storeBefore);
  });
});
