import { realpath, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// Which local git repositories (an absolute path or a file:// URL) a tenant may name, as a Repository
// or as a clone upstream. Paths are compared as the kernel resolves them (realpath: symlinks,
// /proc/self/root, "..", repeated and trailing slashes), never as strings, so no spelling of a
// refused directory gets through; the server's data directory (every tenant's mirrors and objects)
// is refused whatever the roots say.

export interface LocalPathPolicy {
  /** Where local repositories may be; undefined = anywhere but the data directory. */
  roots?: readonly string[];
  /** The server's data directory: never a repository. */
  dataDir: string;
}

/** The policy the flags describe: dev mode without roots allows anything outside the data directory, cluster mode nothing. */
export function localPathPolicy(mode: 'dev' | 'cluster', roots: readonly string[], dataDir: string): LocalPathPolicy {
  if (roots.length > 0) return { roots, dataDir };
  return mode === 'dev' ? { dataDir } : { roots: [], dataDir };
}

/** A refused local path. The message is the same whether or not the path exists. */
export class LocalPathError extends Error {}

/** The filesystem path a repository URL names, or undefined for a network URL. */
export function localPathOf(url: string): string | undefined {
  if (url.startsWith('/')) return url;
  if (!url.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(url);
  } catch {
    // file://host/… and malformed escapes name no local path we could check.
    throw new LocalPathError(`"${url}" is not a local file URL`);
  }
}

/**
 * The real path of `path`; for a path that does not exist (yet), the real path of its nearest
 * existing ancestor with the rest appended. Undefined when the rest cannot be resolved without
 * guessing ("." or ".." below a missing directory).
 */
export async function realpathNearest(path: string): Promise<string | undefined> {
  const parts = path.split('/').filter((s) => s !== '');
  for (let i = parts.length; i >= 0; i--) {
    let base: string;
    try {
      base = await realpath(`/${parts.slice(0, i).join('/')}`);
    } catch {
      continue;
    }
    const rest = parts.slice(i);
    if (rest.some((s) => s === '.' || s === '..')) return undefined;
    return [base === '/' ? '' : base, ...rest].join('/') || '/';
  }
  return undefined;
}

function within(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

async function realDirs(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of dirs) {
    const r = await realpathNearest(d);
    if (r) out.push(r);
  }
  return out;
}

async function allowed(real: string, policy: LocalPathPolicy): Promise<boolean> {
  const [data] = await realDirs([policy.dataDir]);
  if (data === undefined || within(real, data)) return false;
  if (policy.roots === undefined) return true;
  return (await realDirs(policy.roots)).some((root) => within(real, root));
}

/**
 * Checks a repository URL against the policy: nothing for a network URL, the real path for a local
 * one (what the caller must then open, so a symlink swapped afterwards changes nothing), or a
 * LocalPathError. A working tree's `.git` is held to the same rule, as it could link elsewhere.
 */
export async function checkLocalRepository(url: string, policy: LocalPathPolicy): Promise<string | undefined> {
  const path = localPathOf(url);
  if (path === undefined) return undefined;
  const refused = new LocalPathError(
    policy.roots === undefined
      ? `"${url}" is not an allowed local repository path: it is inside the server's data directory, or cannot be resolved`
      : policy.roots.length === 0
        ? `"${url}" is not an allowed local repository path: local repositories are disabled (no --local-repo-root)`
        : `"${url}" is not an allowed local repository path: it must be under a --local-repo-root`,
  );
  const real = await realpathNearest(path);
  if (real === undefined || !(await allowed(real, policy))) throw refused;
  const dotGit = await stat(`${real}/.git`).then(
    () => realpathNearest(`${real}/.git`),
    () => undefined,
  );
  if (dotGit !== undefined && !(await allowed(dotGit, policy))) throw refused;
  return real;
}
