import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { GitConflictError, GitLockedError } from './types.ts';

// Compare-and-swap of refs in a git directory, with git's own locking protocol: `<ref>.lock` is
// created exclusively, the current value is checked while holding it, the new value is written to the
// lock file and renamed over the ref. `git` and other processes honour the same lock files, so a
// concurrent `git push` into a bare repository or a second server process cannot interleave with us.
// (isomorphic-git's writeRef writes the ref file directly, without a lock and without a check.)

const PACKED_LOCK_ATTEMPTS = 20;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Parsed packed-refs by git directory, with the identity of the file version it came from. */
const packedCache = new Map<string, { key: string; refs: Map<string, string> }>();

/**
 * packed-refs as name → oid (peeled "^" lines skipped). Read through one open handle, so the version
 * checked (inode, size, mtime) is the version read; an unchanged file is not parsed again.
 */
async function readPacked(gitdir: string): Promise<Map<string, string>> {
  const path = join(gitdir, 'packed-refs');
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (errno(err) === 'ENOENT') return new Map();
    throw err;
  }
  try {
    const st = await fh.stat();
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    const hit = packedCache.get(gitdir);
    if (hit?.key === key) return hit.refs;
    const text = await fh.readFile('utf8');
    const out = new Map<string, string>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#') || line.startsWith('^')) continue;
      const sp = line.indexOf(' ');
      if (sp > 0) out.set(line.slice(sp + 1), line.slice(0, sp));
    }
    if (packedCache.size >= 256) packedCache.clear();
    packedCache.set(gitdir, { key, refs: out });
    return out;
  } finally {
    await fh.close();
  }
}

/** The value of `ref` as stored (loose file first, then packed-refs), without following symbolic refs. */
export async function readRefRaw(gitdir: string, ref: string): Promise<string | undefined> {
  try {
    const text = (await readFile(join(gitdir, ref), 'utf8')).trim();
    if (text) return text;
  } catch (err) {
    // EISDIR: `ref` is a directory of other refs, so it is not a ref itself.
    const code = errno(err);
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw err;
  }
  return (await readPacked(gitdir)).get(ref);
}

/**
 * A lock file this old was left by a writer that died (a lock is held for the moment of one write):
 * it is broken rather than blocking its ref forever, which is what a crash would otherwise cause.
 */
export const STALE_LOCK_MS = 5_000;

async function breakIfStale(path: string): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st || Date.now() - st.mtimeMs < STALE_LOCK_MS) return false;
  await rm(path, { force: true });
  return true;
}

async function lockFile(path: string, what: string): Promise<FileHandle> {
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(dirname(path), { recursive: true });
      return await open(path, 'wx');
    } catch (err) {
      const code = errno(err);
      // A concurrent deletion may remove the (empty) directory between mkdir and open.
      if (code === 'ENOENT' && attempt < 3) continue;
      if (code === 'EEXIST' && attempt < 3 && (await breakIfStale(path))) continue;
      if (code === 'EEXIST') throw new GitLockedError(`${what} is being updated by another writer (${path} exists)`);
      if (code === 'ENOTDIR' || code === 'EISDIR') throw new GitConflictError(`${what} clashes with an existing ref (a ref cannot be both a name and a directory)`);
      throw err;
    }
  }
}

/** packed-refs.lock, waited for a little: git holds it only for the moment of a rewrite. */
async function lockPacked(gitdir: string): Promise<FileHandle> {
  const lock = join(gitdir, 'packed-refs.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      return await open(lock, 'wx');
    } catch (err) {
      if (errno(err) === 'EEXIST' && attempt < PACKED_LOCK_ATTEMPTS && (await breakIfStale(lock))) continue;
      if (errno(err) !== 'EEXIST' || attempt >= PACKED_LOCK_ATTEMPTS) {
        if (errno(err) === 'EEXIST') throw new GitLockedError(`packed-refs of ${gitdir} stays locked by another writer`);
        throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Replace packed-refs under packed-refs.lock: `next` gets the current text ("" when there is none)
 * and returns the new one, or undefined to leave the file as it is.
 */
async function rewritePacked(gitdir: string, next: (text: string) => Promise<string | undefined>): Promise<void> {
  const path = join(gitdir, 'packed-refs');
  let fh: FileHandle | undefined = await lockPacked(gitdir);
  let renamed = false;
  try {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
    }
    const out = await next(text);
    if (out === undefined || out === text) return;
    await fh.writeFile(out);
    await fh.close();
    fh = undefined;
    await rename(`${path}.lock`, path);
    renamed = true;
  } finally {
    await fh?.close();
    if (!renamed) await rm(`${path}.lock`, { force: true });
  }
}

/** Rewrite packed-refs without `ref` (and its peeled line). */
async function dropPacked(gitdir: string, ref: string): Promise<void> {
  await rewritePacked(gitdir, async (text) => {
    if (!text) return undefined;
    const kept: string[] = [];
    let dropping = false;
    for (const line of text.split('\n')) {
      if (line.startsWith('^')) {
        if (!dropping) kept.push(line);
        continue;
      }
      dropping = !line.startsWith('#') && line.slice(line.indexOf(' ') + 1) === ref;
      if (!dropping) kept.push(line);
    }
    return kept.join('\n');
  });
}

/** Remove now-empty directories left by a deleted ref, up to refs/heads or refs/tags. */
async function pruneDirs(gitdir: string, ref: string): Promise<void> {
  const stop = new Set([join(gitdir, 'refs'), join(gitdir, 'refs', 'heads'), join(gitdir, 'refs', 'tags')]);
  let dir = dirname(join(gitdir, ref));
  while (!stop.has(dir) && dir.startsWith(gitdir + sep)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = dirname(dir);
  }
}

/**
 * Set `ref` to `value` (undefined: delete it) if it is `expected` now (undefined: must not exist).
 * Throws GitConflictError when it is not, or when another writer holds the ref's lock.
 */
export async function compareAndSwapRef(gitdir: string, ref: string, expected: string | undefined, value: string | undefined): Promise<void> {
  if (!/^refs\/(heads|tags)\/[^\0\\]+$/.test(ref) || ref.split('/').some((s) => s === '' || s === '.' || s === '..' || s.endsWith('.lock')))
    throw new Error(`refusing to write unusual ref name ${JSON.stringify(ref)}`);
  const path = join(gitdir, ref);
  const lock = `${path}.lock`;
  let handle: FileHandle | undefined = await lockFile(lock, ref);
  let renamed = false;
  try {
    const cur = await readRefRaw(gitdir, ref);
    if (cur !== expected) throw new GitConflictError(`${ref} is at ${cur ?? 'nothing'}, expected ${expected ?? 'nothing'}`);
    if (value === undefined) {
      if (cur === undefined) return;
      // packed-refs first: a reader must never see an older packed value once the loose file is gone.
      if ((await readPacked(gitdir)).has(ref)) await dropPacked(gitdir, ref);
      await rm(path, { force: true });
      await handle.close();
      handle = undefined;
      await rm(lock, { force: true });
      renamed = true;
      await pruneDirs(gitdir, ref);
      return;
    }
    if (cur === undefined) {
      // git keeps refs prefix-free (a/b and a/b/c cannot both exist); packed ones escape mkdir's check.
      for (const name of (await readPacked(gitdir)).keys())
        if (name.startsWith(`${ref}/`) || ref.startsWith(`${name}/`)) throw new GitConflictError(`${ref} clashes with existing ref ${name}`);
    }
    await handle.writeFile(`${value}\n`);
    await handle.close();
    handle = undefined;
    try {
      await rename(lock, path);
    } catch (err) {
      if (errno(err) === 'EISDIR' || errno(err) === 'ENOTEMPTY' || errno(err) === 'EEXIST') throw new GitConflictError(`${ref} clashes with existing refs below it`);
      throw err;
    }
    renamed = true;
  } finally {
    await handle?.close();
    if (!renamed) await rm(lock, { force: true });
  }
}

const OID = /^[0-9a-f]{40}$/;

/** Loose ref files under refs/heads and refs/tags, as ref names (lock files are refs being written, not refs). */
async function looseRefNames(gitdir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(gitdir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else if (!e.name.endsWith('.lock')) out.push(p);
    }
  };
  await walk('refs/heads');
  await walk('refs/tags');
  return out;
}

/**
 * Move loose branch and tag refs into packed-refs, as `git pack-refs --all` does: the new packed-refs
 * is written under packed-refs.lock and renamed into place, then each loose file is removed under its
 * own ref lock, and only if it still holds the packed value (one that moved meanwhile stays loose and
 * keeps winning over the packed line). Readers therefore always find every ref at a value it had.
 * Keeps listing cost from growing with every ref ever written. `peel` gives the commit an object
 * names (annotated tags are followed). Returns how many loose refs were removed.
 */
export async function packRefs(gitdir: string, peel: (oid: string) => Promise<string>): Promise<number> {
  const packed = new Map<string, string>();
  await rewritePacked(gitdir, async (text) => {
    const entries = new Map<string, { oid: string; peeled?: string }>();
    const header = text.startsWith('# pack-refs with:') ? text.slice(0, text.indexOf('\n')) : '';
    // With these traits, a tag without a peeled line is known not to be an annotated tag.
    const tagsPeeled = / (?:fully-)?peeled /.test(`${header} `);
    let last: { oid: string; peeled?: string } | undefined;
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      if (line.startsWith('^')) {
        if (last && OID.test(line.slice(1))) last.peeled = line.slice(1);
        continue;
      }
      const sp = line.indexOf(' ');
      if (sp !== 40 || !OID.test(line.slice(0, sp))) throw new Error(`packed-refs of ${gitdir} has a line that is not "<oid> <ref>"`);
      entries.set(line.slice(sp + 1), (last = { oid: line.slice(0, sp) }));
    }
    const needsPeel = new Set<string>();
    if (!tagsPeeled) for (const name of entries.keys()) if (name.startsWith('refs/tags/')) needsPeel.add(name);
    for (const name of await looseRefNames(gitdir)) {
      const value = (await readFile(join(gitdir, name), 'utf8').catch(() => '')).trim();
      if (!OID.test(value)) continue; // symbolic or half-written: left as it is
      entries.set(name, { oid: value });
      packed.set(name, value);
      if (name.startsWith('refs/tags/')) needsPeel.add(name);
    }
    if (!packed.size) return undefined;
    for (const name of needsPeel) {
      const e = entries.get(name)!;
      const commit = await peel(e.oid);
      if (commit !== e.oid) e.peeled = commit;
    }
    const lines = ['# pack-refs with: peeled fully-peeled sorted '];
    for (const name of [...entries.keys()].sort()) {
      const e = entries.get(name)!;
      lines.push(`${e.oid} ${name}`);
      if (e.peeled) lines.push(`^${e.peeled}`);
    }
    return `${lines.join('\n')}\n`;
  });
  let removed = 0;
  for (const [name, oid] of packed) {
    const lock = `${join(gitdir, name)}.lock`;
    let handle: FileHandle;
    try {
      handle = await open(lock, 'wx');
    } catch {
      continue; // being written right now: it stays loose
    }
    try {
      const now = (await readFile(join(gitdir, name), 'utf8').catch(() => '')).trim();
      if (now === oid) {
        await rm(join(gitdir, name), { force: true });
        removed++;
      }
    } finally {
      await handle.close();
      await rm(lock, { force: true });
    }
    await pruneDirs(gitdir, name);
  }
  return removed;
}

/** Remove lock files under refs/ (and packed-refs.lock) that writers which died left behind. */
export async function removeStaleLocks(gitdir: string): Promise<number> {
  let removed = 0;
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(gitdir, rel), { withFileTypes: true }).catch(() => [])) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.lock') && (await breakIfStale(join(gitdir, p)))) removed++;
    }
  };
  await walk('refs');
  if (await breakIfStale(join(gitdir, 'packed-refs.lock'))) removed++;
  return removed;
}
