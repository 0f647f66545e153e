import { execFileSync } from 'node:child_process';
import fs, { readdirSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import http from 'isomorphic-git/http/node';
import git from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchedObjects, ObjectReader } from '../../../lib/git/object-reader.ts';
import { createBareRepo, FastImport, git as gitCli, tempDir } from '../../support/git-fixtures.ts';
import { startGitServer, type GitServer } from '../../support/git-server.ts';

// A fetch's pack is indexed by isomorphic-git, which resolves every object to hash it. As patched
// (patches/), it leaves those objects on the cache the fetch was given, and a listing right after the
// fetch reads them from there instead of inflating the pack a second time.

const tmp = tempDir('porch-fetched-objects-');
let server: GitServer;

/** Commits changing one large text a little at a time (the pack stores deltas), plus an annotated tag. */
function served(): string {
  const gitdir = createBareRepo(join(tmp.path, 'served', 'r.git'));
  const f = new FastImport();
  const text = Array.from({ length: 2000 }, (_, i) => `line ${i}\n`).join('');
  let head = f.commit('refs/heads/main', 'start\n', { files: { 'a/Kptfile': 'kind: Kptfile\n', 'a/text.txt': text, empty: '' } });
  for (let i = 1; i <= 20; i++) head = f.commit('refs/heads/main', `edit ${i}\n`, { from: head, files: { 'a/text.txt': text.replace(`line ${i * 50}\n`, `line ${i * 50} (edit ${i})\n`) } });
  f.run(gitdir);
  gitCli(gitdir, ['tag', '-a', '-m', 'annotated', 'v1', 'main']);
  gitCli(gitdir, ['repack', '-adq']);
  return gitdir;
}

/** Every object of `gitdir` as git reads it: id, type and bytes. */
function objectsOf(gitdir: string): { oid: string; type: string; body: Buffer }[] {
  const list = gitCli(gitdir, ['cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype)']).trim().split('\n');
  return list.map((line) => {
    const [oid, type] = line.split(' ');
    return { oid, type, body: execFileSync('git', ['cat-file', type, oid], { cwd: gitdir, maxBuffer: 1 << 30 }) };
  });
}

async function fetchInto(name: string): Promise<{ gitdir: string; cache: object }> {
  const gitdir = createBareRepo(join(tmp.path, name));
  gitCli(gitdir, ['remote', 'add', 'origin', `${server.url}/r.git`]);
  const cache = {};
  await git.fetch({ fs, http, gitdir, singleBranch: false, tags: true, cache });
  return { gitdir, cache };
}

describe('objects a fetch resolved while indexing its pack', () => {
  let source: string;
  beforeAll(async () => {
    source = served();
    server = await startGitServer({ root: join(tmp.path, 'served') });
  });
  afterAll(async () => {
    await server?.stop();
    tmp.remove();
  });

  it('are left on the fetch’s cache, each the type and bytes git has for its id', async () => {
    const { cache } = await fetchInto('one.git');
    const resolved = fetchedObjects(cache);
    expect(resolved).toBeDefined();
    const all = objectsOf(source);
    expect(all.length).toBeGreaterThan(40);
    let found = 0;
    for (const o of all) {
      const got = resolved!.read(o.oid);
      if (!got) continue;
      found++;
      expect(got.type).toBe(o.type);
      expect(got.body.equals(o.body)).toBe(true);
    }
    // Deltas whose base came later in the pack are resolved by a second pass and not kept: most are.
    expect(found).toBeGreaterThan(all.length * 0.9);
    expect(resolved!.read('0'.repeat(40))).toBeUndefined();
  });

  it('are read from memory once adopted, and from the pack again after trim()', async () => {
    const { gitdir, cache } = await fetchInto('two.git');
    const reader = new ObjectReader(gitdir);
    reader.adopt(fetchedObjects(cache)!);
    const kptfile = objectsOf(source).find((o) => o.type === 'blob' && o.body.toString('utf8') === 'kind: Kptfile\n')!;
    // With the pack emptied and its index gone, only the adopted objects can answer.
    const packDir = join(gitdir, 'objects', 'pack');
    for (const n of readdirSync(packDir)) n.endsWith('.pack') ? truncateSync(join(packDir, n), 0) : rmSync(join(packDir, n));
    expect(reader.read(kptfile.oid)?.body.toString('utf8')).toBe('kind: Kptfile\n');
    reader.trim();
    expect(reader.read(kptfile.oid)).toBeUndefined();
  });

  it('are read from the last few fetches only: older sets are left to the packs', () => {
    const reader = new ObjectReader(join(tmp.path, 'no-such.git'));
    const oids = Array.from({ length: 6 }, (_, i) => String(i).repeat(40));
    for (const oid of oids) reader.adopt({ read: (o) => (o === oid ? { type: 'blob', body: Buffer.from(oid) } : undefined) });
    expect(oids.map((oid) => reader.read(oid) !== undefined)).toEqual([false, false, true, true, true, true]);
  });

  it('are not there for a fetch given no cache, nor for a cache no fetch used', () => {
    expect(fetchedObjects({})).toBeUndefined();
    expect(fetchedObjects({ [Symbol.for('isomorphic-git.fetchedObjects')]: { read: 'not a function' } })).toBeUndefined();
  });
});
