import fs from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { KeyedMutex } from '../util.ts';
import { normaliseDirectory, parseRef } from './refs.ts';
import { parseTrailer } from './trailer.ts';
import { TreeIO } from './tree.ts';
import {
  GitConflictError,
  GitUnavailableError,
  type CommitAuthor,
  type GitPackageRevision,
  type GitRepository,
  type GitRepositoryOptions,
  type GitSignature,
  type RevisionListing,
  type TrailerTask,
} from './types.ts';

const COMMITTER = { name: 'Package Orchestration Service', email: 'porch@kpt.dev' };
const TASK_TYPES = new Set(['init', 'clone', 'edit', 'upgrade']);
const TASK_WALK_DEPTH = 50;

/** Key of a listing entry: placeholders share their branch's ref, so the package path is part of it. */
export function revisionKey(r: Pick<GitPackageRevision, 'ref' | 'packagePath' | 'kind'>): string {
  return r.kind === 'placeholder' ? `${r.ref}\0${r.packagePath}` : r.ref;
}

/** isomorphic-git's listRefs order: by name, a peeled "^{}" entry right after its tag. */
function compareRefNames(a: string, b: string): number {
  const x = a.endsWith('^{}') ? a.slice(0, -3) : a;
  const y = b.endsWith('^{}') ? b.slice(0, -3) : b;
  if (x < y) return -1;
  if (x > y) return 1;
  return a.endsWith('^{}') ? 1 : -1;
}

function isLocal(url: string): boolean {
  return url.startsWith('/') || url.startsWith('file://');
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

interface PackageInfo {
  tree: string;
  kptfile: string;
  tasks: TrailerTask[];
  author: GitSignature;
  trailerWorkspace?: string;
}

/**
 * A Porch repository over isomorphic-git. A local bare repository is used in place; a remote one is
 * mirrored under workDir (refs/heads and refs/tags mapped one to one) and every ref change is pushed
 * before it is taken as done, so the remote is the source of truth.
 */
export class IsoGitRepository implements GitRepository {
  private readonly gitdir: string;
  private readonly remote: boolean;
  private readonly dir: string;
  private readonly io: TreeIO;
  private readonly lock = new KeyedMutex();
  private readonly infoCache = new Map<string, PackageInfo | null>();
  private mirrorReady = false;
  /** packed-refs parsed once per version of the file (inode, size, mtime). */
  private packed: { key: string; refs: Map<string, string> } | undefined;

  constructor(private readonly opts: GitRepositoryOptions) {
    this.remote = !isLocal(opts.url);
    this.gitdir = this.remote ? join(opts.workDir, 'mirror.git') : opts.url.startsWith('file://') ? fileURLToPath(opts.url) : opts.url;
    this.dir = normaliseDirectory(opts.directory);
    this.io = new TreeIO(this.gitdir);
  }

  private fullPath(pkg: string): string {
    return this.dir ? `${this.dir}/${pkg}` : pkg;
  }

  private branchRef(): string {
    return `refs/heads/${this.opts.branch}`;
  }

  // ---- network ----

  private netOptions() {
    const auth = this.opts.auth;
    const headers: Record<string, string> = {};
    if (auth?.kind === 'bearer') headers.Authorization = `Bearer ${auth.token}`;
    let tried = false;
    return {
      http,
      headers,
      onAuth: () => {
        if (auth?.kind !== 'basic' || tried) return { cancel: true };
        tried = true;
        return { username: auth.username, password: auth.password };
      },
      onAuthFailure: () => ({ cancel: true }),
    };
  }

  private async net<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const timeout = this.opts.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new GitUnavailableError(`${what} ${this.opts.url}: timed out after ${timeout} ms`)), timeout);
        }),
      ]);
    } catch (err) {
      throw mapNetError(what, this.opts.url, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private async ensureMirror(): Promise<void> {
    if (!this.remote || this.mirrorReady) return;
    await mkdir(this.gitdir, { recursive: true });
    if (!fs.existsSync(join(this.gitdir, 'HEAD'))) await git.init({ fs, gitdir: this.gitdir, bare: true, defaultBranch: this.opts.branch });
    await git.setConfig({ fs, gitdir: this.gitdir, path: 'remote.origin.url', value: this.opts.url });
    await git.setConfig({ fs, gitdir: this.gitdir, path: 'remote.origin.fetch', value: '+refs/heads/*:refs/heads/*' });
    this.mirrorReady = true;
  }

  private async fetchRemote(): Promise<void> {
    await this.ensureMirror();
    await this.net('fetch from', () =>
      git.fetch({ fs, gitdir: this.gitdir, remote: 'origin', tags: true, prune: true, pruneTags: true, singleBranch: false, ...this.netOptions() }),
    );
  }

  private async push(ref: string, del: boolean): Promise<void> {
    await this.net('push to', async () => {
      const res = await git.push({ fs, gitdir: this.gitdir, remote: 'origin', ref, remoteRef: ref, delete: del, ...this.netOptions() });
      const r = res.refs?.[ref];
      if (r && !r.ok) throw new GitConflictError(`push of ${ref} was rejected: ${r.error ?? 'rejected'}`);
    });
  }

  // ---- refs ----

  private async resolve(ref: string): Promise<string | undefined> {
    const fast = await this.resolveFast(ref);
    if (fast !== null) return fast;
    try {
      return await git.resolveRef({ fs, gitdir: this.gitdir, ref });
    } catch {
      return undefined;
    }
  }

  /**
   * packed-refs as a map (peeled lines as "<ref>^{}", as isomorphic-git reads them), re-read only when
   * the file changed. null when it cannot be read consistently (e.g. caught mid-write): callers then
   * fall back to isomorphic-git, which reads it under its own lock.
   */
  private async packedRefs(): Promise<Map<string, string> | null> {
    const path = join(this.gitdir, 'packed-refs');
    const st = await stat(path).catch(() => undefined);
    if (!st) return new Map();
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (this.packed?.key === key) return this.packed.refs;
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined || (text.length > 0 && !text.endsWith('\n')) || Buffer.byteLength(text) !== st.size || st.size === 0) return null;
    const refs = new Map<string, string>();
    let last = '';
    for (const line of text.split('\n')) {
      if (!line || /^\s*#/.test(line)) continue;
      if (line.startsWith('^')) refs.set(`${last}^{}`, line.slice(1));
      else {
        const i = line.indexOf(' ');
        last = line.slice(i + 1);
        refs.set(last, line.slice(0, i));
      }
    }
    this.packed = { key, refs };
    return refs;
  }

  /** A loose ref file's content: undefined when there is none, null when it is not a plain object id. */
  private async looseRef(ref: string): Promise<string | undefined | null> {
    const text = await readFile(join(this.gitdir, ref), 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' || err.code === 'ENOTDIR' ? undefined : null));
    if (text === undefined || text === null) return text;
    const oid = text.trim();
    return /^[0-9a-f]{40}$/.test(oid) ? oid : null;
  }

  /**
   * The same lookup as isomorphic-git's resolveRef (each of ref, refs/<ref>, refs/tags/<ref>,
   * refs/heads/<ref>, refs/remotes/<ref>, refs/remotes/<ref>/HEAD: loose file, then packed-refs)
   * without parsing packed-refs each time. Returns undefined when the ref does not exist and null
   * when the answer needs isomorphic-git (symbolic refs, partly written files).
   */
  private async resolveFast(ref: string): Promise<string | undefined | null> {
    if (/^[0-9a-f]{40}$/.test(ref)) return ref;
    const packed = await this.packedRefs();
    if (!packed) return null;
    const candidates = [ref, `refs/${ref}`, `refs/tags/${ref}`, `refs/heads/${ref}`, `refs/remotes/${ref}`, `refs/remotes/${ref}/HEAD`];
    for (const c of candidates) {
      if (['config', 'description', 'index', 'shallow', 'commondir'].includes(c)) continue;
      const loose = await this.looseRef(c);
      if (loose === null) return null;
      const value = loose ?? packed.get(c);
      if (value === undefined) continue;
      return /^[0-9a-f]{40}$/.test(value.trim()) ? value.trim() : null;
    }
    return undefined;
  }

  /** Compare-and-set of one ref, pushed to the remote; the local ref is restored when the push fails. */
  private async setRef(ref: string, value: string | undefined, expected: string | undefined): Promise<void> {
    const cur = await this.resolve(ref);
    if (cur !== expected) throw new GitConflictError(`${ref} is at ${cur ?? 'nothing'}, expected ${expected ?? 'nothing'}`);
    if (value === cur) return;
    if (value === undefined) {
      // Deletion is pushed while the local ref still exists (the push names it), then mirrored locally.
      if (this.remote) await this.push(ref, true);
      await git.deleteRef({ fs, gitdir: this.gitdir, ref });
      return;
    }
    await git.writeRef({ fs, gitdir: this.gitdir, ref, value, force: true });
    if (!this.remote) return;
    try {
      await this.push(ref, false);
    } catch (err) {
      if (cur) await git.writeRef({ fs, gitdir: this.gitdir, ref, value: cur, force: true });
      else await git.deleteRef({ fs, gitdir: this.gitdir, ref }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Every branch and tag with its object id, in isomorphic-git's listRefs order: packed-refs read
   * once and the loose ref files walked once, rather than one resolveRef (and so one packed-refs
   * parse) per ref. Runs under the write lock so our own ref writes are never seen half done.
   */
  private async allRefs(): Promise<Map<string, string>> {
    return this.lock.run('write', async () => {
      const packed = await this.packedRefs();
      const out = new Map<string, string>();
      for (const base of ['refs/heads', 'refs/tags']) {
        let sorted: string[];
        if (packed) {
          const names = new Set(await this.looseFiles(base));
          for (const k of packed.keys()) if (k.startsWith(`${base}/`)) names.add(k.slice(base.length + 1));
          sorted = [...names].sort(compareRefNames);
        } else sorted = await git.listRefs({ fs, gitdir: this.gitdir, filepath: base }).catch(() => [] as string[]);
        for (const n of sorted) {
          const full = `${base}/${n}`;
          let oid: string | undefined | null = packed ? await this.resolveFast(full) : null;
          if (oid === null) oid = await git.resolveRef({ fs, gitdir: this.gitdir, ref: full }).catch(() => undefined);
          if (oid) out.set(full, oid);
        }
      }
      return out;
    });
  }

  /** Loose ref files under `base` (relative to it), as isomorphic-git's readdirDeep finds them. */
  private async looseFiles(base: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(join(this.gitdir, base, rel), { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(p);
        else out.push(p);
      }
    };
    await walk('');
    return out;
  }

  // ---- reading ----

  /** A local repository that vanished must fail the sync, not list as empty. */
  private checkLocal(): void {
    if (!fs.existsSync(join(this.gitdir, 'HEAD')) && !fs.existsSync(join(this.gitdir, '.git')))
      throw new GitUnavailableError(`${this.opts.url} is not a git repository`);
  }

  async open(): Promise<void> {
    if (this.remote) await this.fetchRemote();
    else this.checkLocal();
    if (await this.resolve(this.branchRef())) return;
    if (!this.opts.createBranch) return;
    await this.lock.run('write', async () => {
      if (await this.resolve(this.branchRef())) return;
      const tree = await this.io.writeFiles({ 'README.md': `# ${this.opts.branch}\n\nPackages managed by Porch.\n` });
      const oid = await this.writeCommit('Initial commit: Creating main branch\n', tree, [], COMMITTER);
      await this.setRef(this.branchRef(), oid, undefined);
    });
  }

  private async commitInfo(oid: string) {
    return this.io.readCommit(oid);
  }

  private async packageInfo(commit: string, pkg: string, withTasks: boolean): Promise<PackageInfo | null> {
    const key = `${commit}\0${pkg}\0${withTasks}`;
    if (this.infoCache.has(key)) return this.infoCache.get(key)!;
    const c = await this.commitInfo(commit);
    const tree = await this.io.subtree(c.tree, this.fullPath(pkg));
    let info: PackageInfo | null = null;
    if (tree) {
      const k = (await this.io.readTree(tree)).find((e) => e.path === 'Kptfile' && e.type === 'blob');
      if (k) {
        const trailer = parseTrailer(c.message);
        info = {
          tree,
          kptfile: await this.io.readBlob(k.oid),
          tasks: withTasks ? await this.tasksOf(commit, this.fullPath(pkg)) : [],
          author: { name: c.author.name, email: c.author.email, timestamp: c.author.timestamp },
          trailerWorkspace: trailer && trailer.package === this.fullPath(pkg) && trailer.workspaceName ? trailer.workspaceName : undefined,
        };
      }
    }
    if (this.infoCache.size > 100_000) this.infoCache.clear();
    this.infoCache.set(key, info);
    return info;
  }

  /** The task of the newest commit annotating this package with init/clone/edit/upgrade. */
  private async tasksOf(start: string, fullPath: string): Promise<TrailerTask[]> {
    let oid: string | undefined = start;
    for (let depth = 0; oid && depth < TASK_WALK_DEPTH; depth++) {
      const c = await this.commitInfo(oid);
      const t = parseTrailer(c.message);
      if (t && t.package === fullPath && t.task && TASK_TYPES.has(String(t.task.type))) return [t.task as TrailerTask];
      // A merge (an approval) came from the revision's own branch: its second parent.
      oid = c.parent.length > 1 ? c.parent[1] : c.parent[0];
    }
    return [];
  }

  async listRevisions(previous?: ReadonlyMap<string, GitPackageRevision>, opts: { fetch?: boolean } = {}): Promise<RevisionListing> {
    if (!this.remote) this.checkLocal();
    if (this.remote && opts.fetch !== false) await this.fetchRemote();
    else if (this.remote) await this.ensureMirror();
    const refs = await this.allRefs();
    const out: GitPackageRevision[] = [];
    const branchCommit = refs.get(this.branchRef()) ?? '';
    let read = 0;

    for (const [ref, oid] of refs) {
      const parsed = parseRef(this.dir, ref);
      if (!parsed) continue;
      const prev = previous?.get(ref);
      if (prev && prev.commit === oid && prev.kind !== 'placeholder') {
        out.push(prev);
        continue;
      }
      // Let requests in between during a long first listing.
      if (++read % 256 === 0) await new Promise((r) => setImmediate(r));
      const commit = await this.peel(oid);
      const info = await this.packageInfo(commit, parsed.packagePath, true);
      if (!info) continue;
      const revision = 'revision' in parsed ? parsed.revision : 0;
      const workspace = 'workspace' in parsed ? parsed.workspace : (info.trailerWorkspace ?? `v${revision}`);
      out.push({ kind: parsed.kind, packagePath: parsed.packagePath, workspace, revision, ref, commit: oid, tree: info.tree, kptfile: info.kptfile, tasks: info.tasks, author: info.author });
    }

    if (branchCommit) {
      const reused = previous ? [...previous.values()].filter((p) => p.kind === 'placeholder' && p.commit === branchCommit) : [];
      if (reused.length) out.push(...reused);
      else {
        const c = await this.commitInfo(branchCommit);
        const root = this.dir ? await this.io.subtree(c.tree, this.dir) : c.tree;
        if (root) {
          const pkgs = await this.io.findPackages(root);
          for (const [pkg, { tree, kptfile }] of pkgs)
            out.push({
              kind: 'placeholder',
              packagePath: pkg,
              workspace: this.opts.branch,
              revision: -1,
              ref: this.branchRef(),
              commit: branchCommit,
              tree,
              kptfile: await this.io.readBlob(kptfile),
              tasks: [],
              author: { name: c.author.name, email: c.author.email, timestamp: c.author.timestamp },
            });
        }
      }
    }
    return { revisions: out, branchCommit };
  }

  /** Annotated tags point at a tag object; everything here wants the commit. */
  private async peel(oid: string): Promise<string> {
    return this.io.peel(oid);
  }

  async readResources(commit: string, packagePath: string): Promise<Record<string, string>> {
    const c = await this.commitInfo(await this.peel(commit));
    const tree = await this.io.subtree(c.tree, this.fullPath(packagePath));
    return tree ? this.io.readFiles(tree) : {};
  }

  // ---- writing ----

  private async writeCommit(message: string, tree: string, parent: string[], author: CommitAuthor): Promise<string> {
    const ts = now();
    const offset = new Date().getTimezoneOffset();
    return git.writeCommit({
      fs,
      gitdir: this.gitdir,
      commit: {
        message,
        tree,
        parent,
        author: { name: author.name, email: author.email, timestamp: ts, timezoneOffset: offset },
        committer: { ...COMMITTER, timestamp: ts, timezoneOffset: offset },
      },
    });
  }

  async commitPackage(args: {
    ref: string;
    packagePath: string;
    resources: Record<string, string>;
    message: string;
    author: CommitAuthor;
    expectedOld: string | null;
    baseCommit?: string;
  }): Promise<string> {
    return this.lock.run('write', async () => {
      const cur = await this.resolve(args.ref);
      if (args.expectedOld === null ? cur !== undefined : cur !== args.expectedOld)
        throw new GitConflictError(`${args.ref} is at ${cur ?? 'nothing'}, expected ${args.expectedOld ?? 'nothing'}`);
      const parent = args.expectedOld ?? args.baseCommit ?? (await this.resolve(this.branchRef()));
      const root = parent ? await this.io.commitTree(parent) : undefined;
      const pkgTree = await this.io.writeFiles(args.resources);
      const newRoot = await this.io.replace(root, this.fullPath(args.packagePath), pkgTree);
      const oid = await this.writeCommit(args.message, newRoot, parent ? [parent] : [], args.author);
      await this.setRef(args.ref, oid, cur);
      return oid;
    });
  }

  async moveRef(from: string, to: string, commit: string): Promise<void> {
    await this.lock.run('write', async () => {
      const cur = await this.resolve(from);
      if (cur !== commit) throw new GitConflictError(`${from} is at ${cur ?? 'nothing'}, expected ${commit}`);
      const existing = await this.resolve(to);
      if (existing !== undefined && existing !== commit) throw new GitConflictError(`${to} already exists`);
      if (existing === undefined) await this.setRef(to, commit, undefined);
      await this.setRef(from, undefined, commit);
    });
  }

  async publish(args: { packagePath: string; sourceRef: string; sourceCommit: string; tag: string; message: string; author: CommitAuthor }): Promise<string> {
    return this.lock.run('write', async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.publishOnce(args);
        } catch (err) {
          // The registered branch moved on the remote: catch up and merge onto the new head once.
          if (!(err instanceof GitConflictError) || !this.remote || attempt > 0) throw err;
          await this.fetchRemote();
        }
      }
    });
  }

  private async publishOnce(args: { packagePath: string; sourceRef: string; sourceCommit: string; tag: string; message: string; author: CommitAuthor }): Promise<string> {
    const src = await this.resolve(args.sourceRef);
    if (src !== args.sourceCommit) throw new GitConflictError(`${args.sourceRef} is at ${src ?? 'nothing'}, expected ${args.sourceCommit}`);
    if (await this.resolve(args.tag)) throw new GitConflictError(`tag ${args.tag} already exists`);
    const head = await this.resolve(this.branchRef());
    const srcTree = await this.io.subtree(await this.io.commitTree(args.sourceCommit), this.fullPath(args.packagePath));
    const root = head ? await this.io.commitTree(head) : undefined;
    const newRoot = await this.io.replace(root, this.fullPath(args.packagePath), srcTree);
    const merge = await this.writeCommit(args.message, newRoot, head ? [head, args.sourceCommit] : [args.sourceCommit], args.author);
    await this.setRef(this.branchRef(), merge, head);
    await this.setRef(args.tag, merge, undefined);
    await this.setRef(args.sourceRef, undefined, args.sourceCommit);
    return merge;
  }

  async updateRef(ref: string, commit: string, expectedOld: string | null): Promise<void> {
    await this.lock.run('write', () => this.setRef(ref, commit, expectedOld ?? undefined));
  }

  async deleteRef(ref: string, expected: string): Promise<void> {
    await this.lock.run('write', async () => {
      const cur = await this.resolve(ref);
      // A tag may be annotated: compare the commit it names.
      const curCommit = cur ? await this.peel(cur) : undefined;
      if (curCommit !== expected) throw new GitConflictError(`${ref} is at ${curCommit ?? 'nothing'}, expected ${expected}`);
      await this.setRef(ref, undefined, cur);
    });
  }

  async deletePackageFromBranch(packagePath: string, message: string, author: CommitAuthor): Promise<string> {
    return this.lock.run('write', async () => {
      const head = await this.resolve(this.branchRef());
      if (!head) throw new GitConflictError(`branch ${this.opts.branch} does not exist`);
      const newRoot = await this.io.replace(await this.io.commitTree(head), this.fullPath(packagePath), undefined);
      const oid = await this.writeCommit(message, newRoot, [head], author);
      await this.setRef(this.branchRef(), oid, head);
      return oid;
    });
  }

  async close(): Promise<void> {
    this.infoCache.clear();
    this.io.close();
    this.packed = undefined;
  }
}

function mapNetError(what: string, url: string, err: unknown): Error {
  if (err instanceof GitUnavailableError || err instanceof GitConflictError) return err;
  const e = err as { code?: string; data?: { statusCode?: number; statusMessage?: string }; message?: string };
  if (e.code === 'PushRejectedError') return new GitConflictError(`${what} ${url}: ${e.message ?? 'rejected'}`);
  const status = e.data?.statusCode;
  if (status === 401 || status === 403 || e.code === 'UserCanceledError')
    return new GitUnavailableError(`${what} ${url}: authentication failed (check the credentials in the Repository's secretRef)`, true);
  return new GitUnavailableError(`${what} ${url}: ${e.message ?? String(err)}`);
}

export function openGitRepository(opts: GitRepositoryOptions): GitRepository {
  return new IsoGitRepository(opts);
}
