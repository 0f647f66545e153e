import { mkdir, open, readFile, rename, rm, rmdir, type FileHandle } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { GitConflictError } from './types.ts';

// Compare-and-swap of refs in a git directory, with git's own locking protocol: `<ref>.lock` is
// created exclusively, the current value is checked while holding it, the new value is written to the
// lock file and renamed over the ref. `git` and other processes honour the same lock files, so a
// concurrent `git push` into a bare repository or a second server process cannot interleave with us.
// (isomorphic-git's writeRef writes the ref file directly, without a lock and without a check.)

const PACKED_LOCK_ATTEMPTS = 20;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** packed-refs as name → oid (peeled "^" lines skipped). */
async function readPacked(gitdir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = await readFile(join(gitdir, 'packed-refs'), 'utf8');
  } catch (err) {
    if (errno(err) === 'ENOENT') return out;
    throw err;
  }
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#') || line.startsWith('^')) continue;
    const sp = line.indexOf(' ');
    if (sp > 0) out.set(line.slice(sp + 1), line.slice(0, sp));
  }
  return out;
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

async function lockFile(path: string, what: string): Promise<FileHandle> {
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(dirname(path), { recursive: true });
      return await open(path, 'wx');
    } catch (err) {
      const code = errno(err);
      // A concurrent deletion may remove the (empty) directory between mkdir and open.
      if (code === 'ENOENT' && attempt < 3) continue;
      if (code === 'EEXIST') throw new GitConflictError(`${what} is being updated by another writer (${path} exists)`);
      if (code === 'ENOTDIR' || code === 'EISDIR') throw new GitConflictError(`${what} clashes with an existing ref (a ref cannot be both a name and a directory)`);
      throw err;
    }
  }
}

/** Rewrite packed-refs without `ref` (and its peeled line), under packed-refs.lock. */
async function dropPacked(gitdir: string, ref: string): Promise<void> {
  const path = join(gitdir, 'packed-refs');
  let fh: FileHandle | undefined;
  for (let attempt = 0; !fh; attempt++) {
    try {
      fh = await open(`${path}.lock`, 'wx');
    } catch (err) {
      // git holds this lock only for the moment of a rewrite: wait for it a little, as git does.
      if (errno(err) !== 'EEXIST' || attempt >= PACKED_LOCK_ATTEMPTS) {
        if (errno(err) === 'EEXIST') throw new GitConflictError(`packed-refs of ${gitdir} stays locked by another writer`);
        throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let renamed = false;
  try {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (errno(err) === 'ENOENT') return;
      throw err;
    }
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
    const next = kept.join('\n');
    if (next === text) return;
    await fh.writeFile(next);
    await fh.close();
    fh = undefined;
    await rename(`${path}.lock`, path);
    renamed = true;
  } finally {
    await fh?.close();
    if (!renamed) await rm(`${path}.lock`, { force: true });
  }
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
