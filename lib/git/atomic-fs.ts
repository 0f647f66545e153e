import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';

// The file system handed to isomorphic-git. It writes objects (loose objects, packs and their
// indexes) straight to their final names, so a process killed mid-write leaves a truncated object
// that later writes of the same content skip ("it exists") — a corrupt repository. Here every file
// under objects/ is written to a temporary name in the same directory and renamed into place, and an
// empty loose object file (what a crash during its write leaves) counts as absent, so it is written
// again rather than trusted.

const TMP_PREFIX = 'tmp_porch_';

function underObjects(path: string): boolean {
  return path.includes(`${sep}objects${sep}`) && !basename(path).startsWith(TMP_PREFIX);
}

function isLooseObject(path: string): boolean {
  return /[\\/]objects[\\/][0-9a-f]{2}[\\/][0-9a-f]{38}$/.test(path);
}

async function atomicWriteFile(path: fs.PathLike | fs.promises.FileHandle, data: string | Uint8Array, options?: fs.WriteFileOptions): Promise<void> {
  if (typeof path !== 'string' || !underObjects(path)) return writeFile(path, data, options);
  const tmp = join(dirname(path), `${TMP_PREFIX}${randomBytes(6).toString('hex')}_${basename(path)}`);
  try {
    await writeFile(tmp, data, options);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function objectAwareStat(path: fs.PathLike, opts?: fs.StatOptions): Promise<fs.Stats | fs.BigIntStats> {
  const st = await stat(path, opts);
  if (typeof path === 'string' && isLooseObject(path) && Number(st.size) === 0) {
    const err = new Error(`ENOENT: empty object file ${path}`) as NodeJS.ErrnoException;
    err.code = 'ENOENT';
    throw err;
  }
  return st;
}

/** node:fs for isomorphic-git, with crash-safe object writes. */
export const gitFs = {
  ...fs,
  promises: { ...fs.promises, writeFile: atomicWriteFile, stat: objectAwareStat },
};

/**
 * Remove temporary files a killed writer of ours left under objects/ (only our own prefix, and only
 * old ones, so a write in flight in another process is never touched).
 */
export async function removeStaleTemporaries(gitdir: string, olderThanMs = 60_000): Promise<number> {
  let removed = 0;
  const now = Date.now();
  const dirs = await readdir(join(gitdir, 'objects'), { withFileTypes: true }).catch(() => []);
  for (const d of dirs) {
    if (!d.isDirectory()) continue;
    const dir = join(gitdir, 'objects', d.name);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(TMP_PREFIX)) continue;
      const st = await stat(join(dir, name)).catch(() => undefined);
      if (st && now - st.mtimeMs > olderThanMs) {
        await rm(join(dir, name), { force: true });
        removed++;
      }
    }
  }
  return removed;
}
