import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import git from 'isomorphic-git';
import { gitFs } from './atomic-fs.ts';
import { Remote } from './remote.ts';
import { TreeIO } from './tree.ts';
import type { GitAuth } from './types.ts';

// A package read from any git repository by URL, ref and directory: the upstream of a clone from
// plain git. Local repositories are read in place; remote ones are fetched (that one ref, shallow)
// into a cache directory of their own under the server's data directory.

export interface UpstreamSource {
  url: string;
  /** A branch, a tag or a commit id. */
  ref: string;
  /** The package directory inside the repository ("" or "/" = the top). */
  directory: string;
  auth?: GitAuth;
  caBundle?: string;
  timeoutMs?: number;
}

/** The upstream has no such ref or directory: the request names something that is not there. */
export class UpstreamNotFoundError extends Error {}

export interface UpstreamPackage {
  files: Record<string, string>;
  /** The commit the ref named when it was read. */
  commit: string;
}

function localGitdir(url: string): string | undefined {
  if (!url.startsWith('/') && !url.startsWith('file://')) return undefined;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return fs.existsSync(join(path, '.git', 'HEAD')) ? join(path, '.git') : path;
}

async function resolveLocal(gitdir: string, ref: string): Promise<string | undefined> {
  if (/^[0-9a-f]{40}$/.test(ref)) return ref;
  for (const full of [`refs/tags/${ref}`, `refs/heads/${ref}`, ref]) {
    try {
      return await git.resolveRef({ fs, gitdir, ref: full });
    } catch {
      // next candidate
    }
  }
  return undefined;
}

async function readPackage(gitdir: string, oid: string, directory: string, what: string): Promise<UpstreamPackage> {
  const io = new TreeIO(gitdir);
  try {
    const commit = await io.peel(oid);
    const root = await io.commitTree(commit);
    const dir = directory.replace(/^\/+|\/+$/g, '');
    const tree = dir ? await io.subtree(root, dir) : root;
    if (!tree) throw new UpstreamNotFoundError(`${what} has no directory "${dir}"`);
    const files = await io.readFiles(tree);
    if (files.Kptfile === undefined) throw new UpstreamNotFoundError(`${what}: directory "${dir || '/'}" holds no Kptfile, so it is not a kpt package`);
    return { files, commit };
  } finally {
    io.close();
  }
}

/** Read the package at `source`; `cacheRoot` holds fetched copies of remote repositories. */
export async function readUpstreamPackage(source: UpstreamSource, cacheRoot: string): Promise<UpstreamPackage> {
  const what = `${source.url}@${source.ref}`;
  const local = localGitdir(source.url);
  if (local) {
    if (!fs.existsSync(join(local, 'HEAD'))) throw new UpstreamNotFoundError(`${source.url} is not a git repository`);
    const oid = await resolveLocal(local, source.ref);
    if (!oid) throw new UpstreamNotFoundError(`${source.url} has no branch, tag or commit "${source.ref}"`);
    return readPackage(local, oid, source.directory, what);
  }
  const gitdir = join(cacheRoot, createHash('sha256').update(source.url).digest('hex').slice(0, 24));
  await mkdir(gitdir, { recursive: true });
  if (!fs.existsSync(join(gitdir, 'HEAD'))) {
    await git.init({ fs: gitFs, gitdir, bare: true });
    await git.setConfig({ fs: gitFs, gitdir, path: 'remote.origin.url', value: source.url });
    // Fetched refs land under their own namespace; only the commit a fetch returns is used.
    await git.setConfig({ fs: gitFs, gitdir, path: 'remote.origin.fetch', value: '+refs/*:refs/upstream/*' });
  }
  const remote = new Remote({ url: source.url, auth: source.auth, caBundle: source.caBundle, timeoutMs: source.timeoutMs });
  try {
    const refs = await remote.call('list refs of', (o) => git.listServerRefs({ http: o.http, url: o.url, headers: o.headers, onAuth: o.onAuth, protocolVersion: 1, peelTags: true }));
    const found =
      refs.find((r) => r.ref === `refs/tags/${source.ref}`) ?? refs.find((r) => r.ref === `refs/heads/${source.ref}`) ?? refs.find((r) => r.ref === source.ref);
    if (!found && !/^[0-9a-f]{40}$/.test(source.ref)) throw new UpstreamNotFoundError(`${source.url} has no branch or tag "${source.ref}"`);
    const remoteRef = found?.ref ?? source.ref;
    const result = await remote.call('fetch from', (o) =>
      git.fetch({ fs: gitFs, gitdir, url: o.url, http: o.http, headers: o.headers, onAuth: o.onAuth, ref: remoteRef, remoteRef, singleBranch: true, tags: false, depth: 1, cache: {} }),
    );
    const oid = result.fetchHead ?? found?.oid;
    if (!oid) throw new UpstreamNotFoundError(`${source.url} did not send "${source.ref}"`);
    return await readPackage(gitdir, oid, source.directory, what);
  } finally {
    remote.close();
  }
}
