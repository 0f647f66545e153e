import fs from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import git from 'isomorphic-git';
import { gitFs } from './atomic-fs.ts';
import { Remote } from './remote.ts';
import type { PackageContents } from './file-origin.ts';
import { TreeIO } from './tree.ts';
import type { GitAuth } from './types.ts';
import type { HttpClient } from 'isomorphic-git';
import { packageBytes } from '../package-size.ts';
import { trimSlashes } from '../util.ts';

// A package read from any git repository by URL, ref and directory: the upstream of a clone from
// plain git. Local repositories are read in place; a remote one is fetched (that one ref, shallow)
// into a scratch repository of its own under the server's data directory, removed afterwards, so
// concurrent clones never share a half-written repository and one tenant's fetch never serves
// another's.

export interface UpstreamSource {
  url: string;
  /** A branch, a tag or a commit id; `<directory>/<ref>` is tried first, as Porch and kpt do. */
  ref: string;
  /** The package directory inside the repository ("" or "/" = the top). */
  directory: string;
  auth?: GitAuth;
  caBundle?: string;
  timeoutMs?: number;
  /** Most bytes a fetch may receive and the package may hold; larger is an UpstreamTooLargeError. */
  maxBytes?: number;
}

/** The upstream has no such repository, ref or directory: the request names something that is not there. */
export class UpstreamNotFoundError extends Error {
  constructor(
    message: string,
    /** Which part of the request is wrong. */
    readonly part: 'repo' | 'ref' | 'directory',
  ) {
    super(message);
  }
}

/** The upstream is bigger than the server accepts; the fetch was abandoned once it passed the limit. */
export class UpstreamTooLargeError extends Error {
  constructor(
    readonly limit: number,
    /** What had been received (fetch) or read (package) when it was given up. */
    readonly bytesRead: number,
  ) {
    super(`the upstream package is larger than the limit of ${limit} bytes (--max-package-bytes)`);
  }
}

export interface UpstreamPackage extends PackageContents {
  /** The commit the ref named when it was read. */
  commit: string;
  /** The ref that matched, short form (e.g. `basens/v1` when `v1` was asked for in directory basens). */
  ref: string;
}

const SHA = /^[0-9a-f]{40}$/;
/** Scratch repositories older than this are leftovers of a crash, not a fetch in progress. */
const STALE_MS = 30 * 60_000;

/** The short ref names to try, in order: `<dir>/<ref>` (per-package tags), then the ref itself. */
function candidates(source: UpstreamSource): string[] {
  const dir = trimSlashes(source.directory);
  return dir ? [`${dir}/${source.ref}`, source.ref] : [source.ref];
}

function localGitdir(url: string): string | undefined {
  if (!url.startsWith('/') && !url.startsWith('file://')) return undefined;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return fs.existsSync(join(path, '.git', 'HEAD')) ? join(path, '.git') : path;
}

async function resolveLocal(gitdir: string, source: UpstreamSource): Promise<{ oid: string; ref: string } | undefined> {
  for (const short of candidates(source)) {
    for (const full of [`refs/tags/${short}`, `refs/heads/${short}`]) {
      try {
        return { oid: await git.resolveRef({ fs, gitdir, ref: full }), ref: short };
      } catch {
        // next candidate
      }
    }
  }
  if (SHA.test(source.ref)) return { oid: source.ref, ref: source.ref };
  return undefined;
}

async function readPackage(gitdir: string, oid: string, source: UpstreamSource, ref: string): Promise<UpstreamPackage> {
  const io = new TreeIO(gitdir);
  const what = `${source.url}@${ref}`;
  try {
    let commit: string;
    try {
      commit = await io.peel(oid);
    } catch {
      throw new UpstreamNotFoundError(`${source.url} has no commit "${source.ref}"`, 'ref');
    }
    const root = await io.commitTree(commit);
    const dir = trimSlashes(source.directory);
    const tree = dir ? await io.subtree(root, dir) : root;
    if (!tree) throw new UpstreamNotFoundError(`${what} has no directory "${dir}"`, 'directory');
    const { files, origins } = await io.readContents(tree);
    if (source.maxBytes !== undefined) {
      const size = packageBytes(files);
      if (size > source.maxBytes) throw new UpstreamTooLargeError(source.maxBytes, size);
    }
    if (files.Kptfile === undefined) throw new UpstreamNotFoundError(`${what}: directory "${dir || '/'}" holds no Kptfile, so it is not a kpt package`, 'directory');
    return { files, origins, commit, ref };
  } finally {
    io.close();
  }
}

/** Best effort: scratch repositories a crashed process left behind. */
async function sweep(root: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const path = join(root, name);
    const st = await stat(path).catch(() => undefined);
    if (st && now - st.mtimeMs > STALE_MS) await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The client with every response body counted: past `limit` bytes the read fails at once (the
 * connection goes when the remote is closed), so a huge pack is never held whole in memory.
 */
function capped(client: HttpClient, limit: number, seen: { bytes: number; over: boolean }): HttpClient {
  return {
    async request(req) {
      const res = await client.request(req);
      const body = res.body;
      if (!body) return res;
      async function* counted(): AsyncGenerator<Uint8Array> {
        for await (const chunk of body as AsyncIterable<Uint8Array>) {
          seen.bytes += chunk.byteLength;
          if (seen.bytes > limit) {
            seen.over = true;
            throw new UpstreamTooLargeError(limit, seen.bytes);
          }
          yield chunk;
        }
      }
      return { ...res, body: counted() };
    },
  };
}

type RefsResult = { refs: { ref: string; oid: string }[] } | { missing: true };

/** Read the package at `source`; `scratchRoot` is where a remote repository is fetched to, briefly. */
export async function readUpstreamPackage(source: UpstreamSource, scratchRoot: string): Promise<UpstreamPackage> {
  const local = localGitdir(source.url);
  if (local) {
    if (!fs.existsSync(join(local, 'HEAD'))) throw new UpstreamNotFoundError(`${source.url} is not a git repository`, 'repo');
    const found = await resolveLocal(local, source);
    if (!found) throw new UpstreamNotFoundError(`${source.url} has no branch or tag "${candidates(source).join('" or "')}"`, 'ref');
    return readPackage(local, found.oid, source, found.ref);
  }

  const remote = new Remote({ url: source.url, auth: source.auth, caBundle: source.caBundle, timeoutMs: source.timeoutMs });
  const seen = { bytes: 0, over: false };
  const limit = source.maxBytes ?? Number.POSITIVE_INFINITY;
  try {
    const listed = await remote.call('list refs of', (o): Promise<RefsResult> =>
      git.listServerRefs({ http: capped(o.http, limit, seen), url: o.url, headers: o.headers, onAuth: o.onAuth, protocolVersion: 1, peelTags: true }).then(
        (refs) => ({ refs }),
        // A server that answers 404 is up: the URL names no repository, which is the request's fault.
        (err: { code?: string; data?: { statusCode?: number } }) => (err?.code === 'HttpError' && err.data?.statusCode === 404 ? { missing: true as const } : Promise.reject(err)),
      ),
    );
    if ('missing' in listed) throw new UpstreamNotFoundError(`${source.url} is not a git repository (HTTP 404)`, 'repo');
    let found: { ref: string; short: string; oid: string } | undefined;
    for (const short of candidates(source)) {
      const r = listed.refs.find((x) => x.ref === `refs/tags/${short}`) ?? listed.refs.find((x) => x.ref === `refs/heads/${short}`);
      if (r) {
        found = { ref: r.ref, short, oid: r.oid };
        break;
      }
    }
    if (!found && !SHA.test(source.ref)) throw new UpstreamNotFoundError(`${source.url} has no branch or tag "${candidates(source).join('" or "')}"`, 'ref');

    await mkdir(scratchRoot, { recursive: true });
    await sweep(scratchRoot);
    const gitdir = await mkdtemp(join(scratchRoot, 'fetch-'));
    try {
      await git.init({ fs: gitFs, gitdir, bare: true });
      await git.setConfig({ fs: gitFs, gitdir, path: 'remote.origin.url', value: source.url });
      // Fetched refs land under their own namespace; only the commit the fetch returns is used.
      await git.setConfig({ fs: gitFs, gitdir, path: 'remote.origin.fetch', value: '+refs/*:refs/upstream/*' });
      const remoteRef = found?.ref ?? source.ref;
      const result = await remote.call('fetch from', (o) =>
        git.fetch({ fs: gitFs, gitdir, url: o.url, http: capped(o.http, limit, seen), headers: o.headers, onAuth: o.onAuth, ref: remoteRef, remoteRef, singleBranch: true, tags: false, depth: 1, cache: {} }),
      );
      const oid = result.fetchHead ?? found?.oid;
      if (!oid) throw new UpstreamNotFoundError(`${source.url} did not send "${source.ref}"`, 'ref');
      return await readPackage(gitdir, oid, source, found?.short ?? source.ref);
    } finally {
      await rm(gitdir, { recursive: true, force: true }).catch(() => undefined);
    }
  } catch (err) {
    // The remote layer reports any failed read as the server being unavailable; this one is the size.
    if (seen.over) throw new UpstreamTooLargeError(limit, seen.bytes);
    throw err;
  } finally {
    remote.close();
  }
}

