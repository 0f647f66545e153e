import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs, { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib, { deflateSync } from 'node:zlib';
import git from 'isomorphic-git';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createBareRepo, FastImport, git as gitCli, tempDir } from '../../support/git-fixtures.ts';

// A fetch indexes the pack it receives with isomorphic-git (GitPackIndex.fromPack, then toBuffer),
// patched for speed by patches/isomorphic-git+<version>.patch, applied by `npm ci`. The index it
// writes must be git's own, byte for byte, for every kind of object a pack holds.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const tmp = tempDir('porch-pack-index-');
afterAll(() => tmp.remove());

/** `n` characters that barely compress, so zlib's output buffers fill as the object grows. */
const noise = (n: number) => randomBytes(n).toString('base64').slice(0, n);

/**
 * Commits whose objects cover what indexing meets: an empty file, files inflating to either side of
 * zlib's 16 KiB output chunk and several chunks long, a large text changed a little per commit (so the
 * pack stores deltas), and an annotated tag.
 */
function fixtureRepo(): string {
  const gitdir = createBareRepo(join(tmp.path, 'source.git'));
  const f = new FastImport();
  const text = Array.from({ length: 4000 }, (_, i) => `line ${i}: ${'kpt '.repeat(i % 13)}\n`).join('');
  let head = f.commit('refs/heads/main', 'sizes\n', {
    files: { empty: '', 'c16383': noise(16383), 'c16384': noise(16384), 'c16385': noise(16385), 'c32768': noise(32768), 'c100000': noise(100_000), 'text.txt': text },
  });
  for (let i = 1; i <= 30; i++) head = f.commit('refs/heads/main', `edit ${i}\n`, { from: head, files: { 'text.txt': text.replace(`line ${i * 100}:`, `line ${i * 100} (edit ${i}):`) } });
  f.run(gitdir);
  gitCli(gitdir, ['tag', '-a', '-m', 'annotated', 'v1', 'main']);
  return gitdir;
}

/** The pack `git pack-objects` sends for every ref: deltas name their base by offset, or by object id. */
function packOf(gitdir: string, baseByOffset: boolean): Buffer {
  const args = ['pack-objects', '--revs', '--all', '--stdout', '--no-reuse-delta', ...(baseByOffset ? ['--delta-base-offset'] : [])];
  return execFileSync('git', args, { cwd: gitdir, input: '', maxBuffer: 1 << 30 });
}

/** git's index of `pack`, and isomorphic-git's, each written beside its own copy of the pack. */
async function bothIndexes(pack: Buffer, name: string): Promise<{ ours: Buffer; gits: Buffer }> {
  const dir = join(tmp.path, name);
  mkdirSync(join(dir, 'iso'), { recursive: true });
  mkdirSync(join(dir, 'cli'));
  writeFileSync(join(dir, 'iso', 'p.pack'), pack);
  copyFileSync(join(dir, 'iso', 'p.pack'), join(dir, 'cli', 'p.pack'));
  await git.indexPack({ fs, dir: join(dir, 'iso'), gitdir: join(dir, 'iso'), filepath: 'p.pack' });
  gitCli(dir, ['index-pack', join(dir, 'cli', 'p.pack')]);
  return { ours: readFileSync(join(dir, 'iso', 'p.idx')), gits: readFileSync(join(dir, 'cli', 'p.idx')) };
}

describe('indexing a received pack (patched isomorphic-git)', () => {
  const source = fixtureRepo();

  it.each([
    ['offset deltas', true],
    ['object id deltas', false],
  ])('writes the .idx git index-pack writes, byte for byte (%s)', async (_, byOffset) => {
    const pack = packOf(source, byOffset);
    // The pack does hold deltas of the kind named (type 6 or 7 in verify-pack's terms: a base named).
    const { ours, gits } = await bothIndexes(pack, byOffset ? 'ofs' : 'ref');
    const listed = gitCli(join(tmp.path, byOffset ? 'ofs' : 'ref', 'cli'), ['verify-pack', '-v', 'p.idx']);
    expect(listed).toMatch(/^[0-9a-f]{40} blob\s+\d+ \d+ \d+ \d+ [0-9a-f]{40}$/m);
    expect(ours.length).toBe(gits.length);
    expect(ours.equals(gits)).toBe(true);
  });

  it('inflates each object once with node:zlib and hashes with node:crypto, not one WebCrypto call per object', async () => {
    const digest = vi.spyOn(globalThis.crypto.subtle, 'digest');
    const inflate = vi.spyOn(zlib, 'inflateSync');
    try {
      // The spies see calls made the way isomorphic-git makes them: WebCrypto's SHA-1 (which unpatched
      // isomorphic-git uses whenever it works) and node:zlib through the module object.
      await globalThis.crypto.subtle.digest('SHA-1', new Uint8Array(0));
      expect(digest).toHaveBeenCalledTimes(1);
      createRequire(import.meta.url)('node:zlib').inflateSync(deflateSync('x'));
      expect(inflate).toHaveBeenCalledTimes(1);
      digest.mockClear();
      inflate.mockClear();
      const { ours, gits } = await bothIndexes(packOf(source, true), 'sync-hash');
      expect(ours.equals(gits)).toBe(true);
      expect(digest).not.toHaveBeenCalled();
      const objects = gits.readUInt32BE(8 + 255 * 4);
      expect(inflate).toHaveBeenCalledTimes(objects);
    } finally {
      digest.mockRestore();
      inflate.mockRestore();
    }
  });

  it('refuses a pack damaged in its middle, and indexes what precedes a cut at the offsets git gives', async () => {
    const pack = packOf(source, true);
    // The first objects are read straight from the buffer; from the damage on, the stream reader
    // takes over and reports it as unpatched isomorphic-git does.
    const damaged = Buffer.from(pack);
    damaged[Math.floor(pack.length * 0.6)] ^= 0xff;
    await expect(bothIndexes(damaged, 'damaged')).rejects.toThrow();

    const { gits } = await bothIndexes(pack, 'whole');
    const offsetsOf = (idx: Buffer) => {
      const n = idx.readUInt32BE(8 + 255 * 4);
      const names = 8 + 256 * 4;
      const at = new Map<string, number>();
      for (let i = 0; i < n; i++) at.set(idx.toString('hex', names + i * 20, names + i * 20 + 20), idx.readUInt32BE(names + n * 24 + i * 4));
      return at;
    };
    const cutAt = Math.floor(pack.length / 2);
    const dir = join(tmp.path, 'cut');
    mkdirSync(dir);
    writeFileSync(join(dir, 'p.pack'), pack.subarray(0, cutAt));
    await git.indexPack({ fs, dir, gitdir: dir, filepath: 'p.pack' });
    const partial = offsetsOf(readFileSync(join(dir, 'p.idx')));
    const whole = offsetsOf(gits);
    const before = [...whole].filter(([, offset]) => offset < cutAt);
    expect(partial.size).toBeGreaterThan(0);
    expect(partial.size).toBeLessThanOrEqual(before.length);
    for (const [oid, offset] of partial) expect(whole.get(oid)).toBe(offset);
  });

  it('is patched for the isomorphic-git version the lock file installs', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    const version = lock.packages['node_modules/isomorphic-git'].version;
    const installed = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'isomorphic-git', 'package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(version);
    expect(fs.readdirSync(join(ROOT, 'patches')).filter((n) => n.startsWith('isomorphic-git+'))).toEqual([`isomorphic-git+${version}.patch`]);
  });
});
