import fs from 'node:fs';
import { gitFs, removeStaleTemporaries } from './atomic-fs.ts';
import { mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import git from 'isomorphic-git';
import { unsafePathProblem } from '../api/safe-path.ts';
import { KeyedMutex, trimSlashes } from '../util.ts';
import { errMessage } from '../errors.ts';
import { PORCH_IDENTITY, writeCommit } from './commit.ts';
import { annotatedWorkspace, latestPackageCommits, revisionTasks, summarise, type CommitSummary } from './history.ts';
import { compareRefNames, deletionProposedRef, parseRef, type ParsedRef } from './refs.ts';
export { revisionKey } from './listing.ts';
import { compareAndSwapRef, packRefs, removeStaleLocks } from './refstore.ts';
import { combineOrigins, NO_ORIGINS, type FileOrigins, type PackageContents } from './file-origin.ts';
import { newObjects } from './new-objects.ts';
import { findPackagesSince, type FoundPackages } from './package-diff.ts';
import { receivePack, requireAll, type RefUpdate } from './receive-pack.ts';
import { Remote, type NetOptions } from './remote.ts';
import { TreeIO, UnsafeTreeError } from './tree.ts';
import {
  GitConflictError,
  GitUnavailableError,
  type CommitAuthor,
  type GitPackageRevision,
  type GitRepositoryOptions,
  type GitSignature,
  type RevisionListing,
  type SkippedRef,
  type TrailerTask,
} from './types.ts';

// A Porch repository over isomorphic-git. A local bare repository is used in place; a remote one is
// mirrored into a bare repository under workDir whose refs/heads and refs/tags equal the remote's as
// of the last sync, and every ref change is pushed (with the remote's old value checked) before it
// counts as done, so the remote stays the source of truth.

/** Commits read per revision when looking for its first task. */
const TASK_WALK_LIMIT = 64;
/** Commits read on the registered branch when looking for each package's last annotated commit. */
const PLACEHOLDER_WALK_LIMIT = 10_000;
/** Entries kept in the per-repository caches below before they are dropped wholesale. */
const CACHE_LIMIT = 100_000;
const WRITE = 'write';
const OID = /^[0-9a-f]{40}$/;
/** Loose ref files tolerated before they are packed: every listing reads each one. */
const LOOSE_REFS_LIMIT = 256;
/** Refs beyond which a first listing reads the packs whole (see ObjectReader.bulk). */
const BULK_LISTING_REFS = 256;

function isLocal(url: string): boolean {
  return url.startsWith('/') || url.startsWith('file://');
}

/** One mutex per git directory in this process, whichever Repository objects share it. */
const locks = new Map<string, KeyedMutex>();
function lockFor(gitdir: string): KeyedMutex {
  const key = resolvePath(gitdir);
  let m = locks.get(key);
  if (!m) locks.set(key, (m = new KeyedMutex()));
  return m;
}

function bounded<K, V>(map: Map<K, V>, key: K, value: V): V {
  if (map.size >= CACHE_LIMIT) map.clear();
  map.set(key, value);
  return value;
}

/** isomorphic-git refuses to read a tree holding a name such as `.GIT` or `..`. */
function unsafeTree(err: unknown): boolean {
  return err instanceof UnsafeTreeError || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'UnsafeFilepathError');
}

function checkPath(what: string, path: string): void {
  const problem = unsafePathProblem(path);
  if (problem) throw new Error(`invalid ${what} ${JSON.stringify(path)}: ${problem}`);
}

interface Summary extends CommitSummary {
  tree: string;
}

interface PackageAt {
  tree: string;
  kptfile: string;
}

/**
 * The ref-level adapter: listing, reading, and compare-and-swap writes of named refs. Which refs a
 * lifecycle step writes is PorchGitRepository's business (porch-repository.ts).
 */
export class IsoGitRepository {
  private readonly gitdir: string;
  private readonly remote: Remote | undefined;
  private readonly dir: string;
  private readonly io: TreeIO;
  private readonly lock: KeyedMutex;
  private readonly summaries = new Map<string, Summary>();
  private readonly kptfiles = new Map<string, string>();
  private readonly taskCache = new Map<string, TrailerTask[]>();
  private mirrorReady = false;
  /** Loose ref files seen by the last ref listing. */
  private looseRefs = 0;
  /** The placeholder walk's answer for the branch head it started from. */
  private placeholderState:
    | { head: string; paths: ReadonlySet<string>; latest: Map<string, { oid: string; author: GitSignature }>; packages: FoundPackages; kptfiles: ReadonlyMap<string, string> }
    | undefined;
  /** Packages of the registered branch left out at `head` (their trees hold names git refuses). */
  private branchSkipped: { head: string; refs: SkippedRef[] } | undefined;
  /** packed-refs parsed once per version of the file (inode, size, mtime). */
  private packed: { key: string; refs: Map<string, string>; tagsPeeled: boolean } | undefined;

  constructor(private readonly opts: GitRepositoryOptions) {
    if (isLocal(opts.url)) {
      const path = opts.url.startsWith('file://') ? fileURLToPath(opts.url) : opts.url;
      // A non-bare repository is accepted too; only its git directory is used.
      this.gitdir = fs.existsSync(join(path, '.git', 'HEAD')) ? join(path, '.git') : path;
    } else {
      this.remote = new Remote({ url: opts.url, auth: opts.auth, caBundle: opts.caBundle, timeoutMs: opts.timeoutMs });
      this.gitdir = join(opts.workDir, 'mirror.git');
    }
    this.dir = trimSlashes(opts.directory);
    this.io = new TreeIO(this.gitdir);
    this.lock = lockFor(this.gitdir);
  }

  private fullPath(pkg: string): string {
    return this.dir ? `${this.dir}/${pkg}` : pkg;
  }

  private branchRef(): string {
    return `refs/heads/${this.opts.branch}`;
  }

  // ---- remote mirror ----

  private async ensureMirror(): Promise<void> {
    if (!this.remote || this.mirrorReady) return;
    await mkdir(this.gitdir, { recursive: true });
    if (!fs.existsSync(join(this.gitdir, 'HEAD'))) await git.init({ fs: gitFs, gitdir: this.gitdir, bare: true, defaultBranch: this.opts.branch });
    await git.setConfig({ fs: gitFs, gitdir: this.gitdir, path: 'remote.origin.url', value: this.opts.url });
    this.mirrorReady = true;
  }

  /** Bring the mirror's refs (and the objects they need) up to the remote's. */
  private async sync(): Promise<void> {
    await this.lock.run(WRITE, () => this.syncLocked());
  }

  private async syncLocked(): Promise<void> {
    try {
      await this.syncFromAdvertisement();
    } finally {
      this.remote!.forgetAdvertisement();
    }
  }

  private async syncFromAdvertisement(): Promise<void> {
    const remote = this.remote!;
    await this.ensureMirror();
    const advertised = await remote.call(
      'list refs of',
      (o) => git.listServerRefs({ http: o.http, url: o.url, headers: o.headers, onAuth: o.onAuth, protocolVersion: 1, peelTags: true }),
      'keep',
    );
    const want = new Map<string, string>();
    const peeled = new Map<string, string>();
    for (const r of advertised) {
      if (!r.ref.startsWith('refs/heads/') && !r.ref.startsWith('refs/tags/')) continue;
      if (r.ref.endsWith('^{}')) continue;
      want.set(r.ref, r.oid);
      if (r.peeled) peeled.set(r.ref, r.peeled);
    }
    const have = new Map([...(await this.allRefsUnlocked())].filter(([ref]) => !ref.endsWith('^{}')));
    const changed = [...want].filter(([ref, oid]) => have.get(ref) !== oid);
    const gone = [...have.keys()].filter((ref) => !want.has(ref));
    if (!changed.length && !gone.length) return;

    const missing = await this.io.missing(changed.map(([, oid]) => oid));
    if (missing.size) await this.fetchObjects(want, missing, have);

    if (have.size === 0 && gone.length === 0 && changed.length > 64) {
      await this.writePackedRefs(want, peeled);
      return;
    }
    for (const ref of gone) await compareAndSwapRef(this.gitdir, ref, have.get(ref), undefined);
    for (const [ref, oid] of changed) {
      // Objects the remote advertised but did not send (it moved during the fetch) wait for the next sync.
      if (missing.has(oid) && !(await this.hasObject(oid))) continue;
      await compareAndSwapRef(this.gitdir, ref, have.get(ref), oid);
    }
  }

  private async hasObject(oid: string): Promise<boolean> {
    return (await this.io.missing([oid])).size === 0;
  }

  /** A fresh mirror: all refs in one packed-refs file rather than thousands of loose files. */
  private async writePackedRefs(refs: Map<string, string>, peeled: Map<string, string>): Promise<void> {
    const lines = ['# pack-refs with: peeled fully-peeled sorted '];
    const absent = await this.io.missing(refs.values());
    for (const ref of [...refs.keys()].sort()) {
      if (absent.has(refs.get(ref)!)) continue;
      lines.push(`${refs.get(ref)} ${ref}`);
      const p = peeled.get(ref);
      if (p && p !== refs.get(ref)) lines.push(`^${p}`);
    }
    const path = join(this.gitdir, 'packed-refs');
    await writeFile(`${path}.new`, `${lines.join('\n')}\n`);
    await rename(`${path}.new`, path);
  }

  /**
   * Fetch the objects behind `missing`. isomorphic-git's fetch offers every local ref as a "have"
   * (resolving each one, which is quadratic with packed refs) and rewrites every remote ref, so it runs
   * against a scratch git directory that shares the mirror's object store (objects is a symlink),
   * offers only the mirror's branch heads as haves, and maps no refs at all; the mirror's refs are
   * then set by syncLocked.
   */
  private async fetchObjects(want: Map<string, string>, missing: Set<string>, have: Map<string, string>): Promise<void> {
    const shadow = join(this.opts.workDir, 'fetch.git');
    const haves = [...new Set([...have].filter(([ref]) => ref.startsWith('refs/heads/')).map(([, oid]) => oid))].slice(0, 256);
    const anchor = want.has(this.branchRef()) ? this.branchRef() : [...want.keys()].find((r) => r.startsWith('refs/heads/'));
    if (anchor) {
      await this.prepareShadow(shadow, haves.map((oid, i) => [`refs/haves/h${i}`, oid]));
      await this.fetchAdvertised((o, cache) =>
        git.fetch({ fs: gitFs, gitdir: shadow, url: o.url, http: o.http, headers: o.headers, onAuth: o.onAuth, singleBranch: false, tags: false, remoteRef: anchor, cache }),
      );
    }
    // Tags whose objects no branch reaches (annotated tags, tags on abandoned commits): one by one,
    // with the branch head offered under the tag's own name, as a single-ref fetch only offers that.
    const tags = [...want].filter(([ref, oid]) => missing.has(oid) && ref.startsWith('refs/tags/'));
    const unreached = await this.io.missing(tags.map(([, oid]) => oid));
    for (const [ref, oid] of tags) {
      // A tag fetched before this one may have brought it.
      if (!unreached.has(oid) || (await this.hasObject(oid))) continue;
      const base = have.get(this.branchRef()) ?? haves[0];
      await this.prepareShadow(shadow, base ? [[ref, base]] : []);
      await this.fetchAdvertised((o, cache) =>
        git.fetch({ fs: gitFs, gitdir: shadow, url: o.url, http: o.http, headers: o.headers, onAuth: o.onAuth, singleBranch: true, tags: false, ref, remoteRef: ref, cache }),
      );
    }
  }

  /**
   * A fetch that starts from the advertisement the sync listed rather than asking for it again. Should
   * the remote refuse what that advertisement offered (a ref forced elsewhere meanwhile), the fetch is
   * done once more from a fresh advertisement.
   */
  private async fetchAdvertised(fetch: (o: NetOptions, cache: object) => Promise<unknown>): Promise<void> {
    const remote = this.remote!;
    // The objects the fetch resolved while indexing its pack are left on its cache: the listing that
    // follows reads them from there rather than inflating them from the pack again.
    const fetchAndAdopt = async (o: NetOptions) => {
      const cache = {};
      await fetch(o, cache);
      this.io.adoptFetched(cache);
    };
    try {
      await remote.call('fetch from', fetchAndAdopt, 'reuse');
    } catch (err) {
      if (!(err instanceof GitUnavailableError) || err.authFailed || /timed out/.test(err.message)) throw err;
      await remote.call('fetch from', fetchAndAdopt);
    }
  }

  private async prepareShadow(shadow: string, refs: [string, string][]): Promise<void> {
    await mkdir(shadow, { recursive: true });
    const objects = join(shadow, 'objects');
    if (!fs.existsSync(objects)) await symlink(join(resolvePath(this.gitdir), 'objects'), objects, 'dir');
    await writeFile(join(shadow, 'HEAD'), 'ref: refs/heads/main\n');
    // A fetch refspec that matches nothing: isomorphic-git then writes no refs.
    await writeFile(
      join(shadow, 'config'),
      `[core]\n\tbare = true\n[remote "origin"]\n\turl = ${this.opts.url}\n\tfetch = +refs/porch-mirror-none/*:refs/porch-mirror-none/*\n`,
    );
    await rm(join(shadow, 'refs'), { recursive: true, force: true });
    await rm(join(shadow, 'shallow'), { force: true });
    await mkdir(join(shadow, 'refs'), { recursive: true });
    await writeFile(join(shadow, 'packed-refs'), refs.map(([r, o]) => `${o} ${r}\n`).join(''));
  }

  // ---- refs ----

  private async resolve(ref: string): Promise<string | undefined> {
    const fast = await this.resolveFast(ref);
    if (fast !== null) return fast;
    try {
      return await git.resolveRef({ fs: gitFs, gitdir: this.gitdir, ref });
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
    // With these traits (as git writes them), a tag without a peeled line is not an annotated tag.
    const tagsPeeled = text.startsWith('# pack-refs with:') && / (?:fully-)?peeled /.test(`${text.slice(0, text.indexOf('\n'))} `);
    for (const line of text.split('\n')) {
      if (!line || /^\s*#/.test(line)) continue;
      // Values are checked once here, so readers can take them as object ids.
      if (line.startsWith('^')) {
        if (!OID.test(line.slice(1))) return null;
        refs.set(`${last}^{}`, line.slice(1));
      } else {
        const i = line.indexOf(' ');
        last = line.slice(i + 1);
        if (i !== 40 || !OID.test(line.slice(0, i))) return null;
        refs.set(last, line.slice(0, i));
      }
    }
    this.packed = { key, refs, tagsPeeled };
    return refs;
  }

  /** Whether packed-refs names `ref` at `oid` and says it is no annotated tag: its value is the commit. */
  private plainPackedTag(ref: string, oid: string): boolean {
    const p = this.packed;
    return p !== undefined && p.tagsPeeled && p.refs.get(ref) === oid && !p.refs.has(`${ref}^{}`);
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

  /** Compare-and-swap of one ref (lock held); see setRefs. */
  private async setRef(ref: string, value: string | undefined, expected: string | undefined, newCommits: readonly string[] = []): Promise<void> {
    await this.setRefs([{ ref, value, expected }], newCommits);
  }

  /**
   * Compare-and-swap of several refs (lock held), in order. Locally that is the whole story; for a
   * remote they go as one push (atomic where the server supports it) carrying the objects of
   * `newCommits`, with the mirror's values as the old ones the remote checks, and the mirror follows
   * what the remote took.
   */
  private async setRefs(updates: readonly RefUpdate[], newCommits: readonly string[] = []): Promise<void> {
    if (!this.remote) {
      for (const u of updates) await compareAndSwapRef(this.gitdir, u.ref, u.expected, u.value);
      return;
    }
    const todo: RefUpdate[] = [];
    for (const u of updates) {
      const cur = await this.resolve(u.ref);
      if (cur !== u.expected) throw new GitConflictError(`${u.ref} is at ${cur ?? 'nothing'}, expected ${u.expected ?? 'nothing'}`);
      if (u.value !== cur) todo.push(u);
    }
    if (!todo.length) return;
    // receive-pack wants a pack (possibly empty) unless every command is a deletion.
    const pack = todo.some((u) => u.value !== undefined)
      ? (await git.packObjects({ fs: gitFs, gitdir: this.gitdir, oids: await newObjects(this.io, newCommits), cache: {} })).packfile
      : undefined;
    const report = await this.remote.call('push to', (o) => receivePack(o, todo, pack));
    for (const u of todo) if (report.ok.includes(u.ref)) await compareAndSwapRef(this.gitdir, u.ref, u.expected, u.value);
    requireAll(report, todo, `push to ${this.opts.url}`);
  }

  /**
   * Every branch and tag with its object id, in isomorphic-git's listRefs order: packed-refs read
   * once and the loose ref files walked once, rather than one resolveRef (and so one packed-refs
   * parse) per ref. Runs under the write lock (allRefs) so our own ref writes are never seen half done.
   */
  private async allRefs(): Promise<Map<string, string>> {
    return this.lock.run(WRITE, () => this.allRefsUnlocked());
  }

  private async allRefsUnlocked(): Promise<Map<string, string>> {
    const packed = await this.packedRefs();
    const out = new Map<string, string>();
    let looseCount = 0;
    for (const base of ['refs/heads', 'refs/tags']) {
      let sorted: string[];
      const loose = packed ? new Set(await this.looseFiles(base)) : new Set<string>();
      looseCount += loose.size;
      if (packed) {
        const names = new Set(loose);
        for (const k of packed.keys()) if (k.startsWith(`${base}/`)) names.add(k.slice(base.length + 1));
        sorted = [...names].sort(compareRefNames);
      } else sorted = await git.listRefs({ fs: gitFs, gitdir: this.gitdir, filepath: base }).catch(() => [] as string[]);
      for (const n of sorted) {
        const full = `${base}/${n}`;
        // A listed name resolves to its own loose file, else its packed-refs line (as resolveRef's first candidate).
        let oid: string | undefined | null = !packed ? null : loose.has(n) ? await this.looseRef(full) : undefined;
        if (packed && oid === undefined) oid = packed.get(full);
        if (oid === null) oid = await git.resolveRef({ fs: gitFs, gitdir: this.gitdir, ref: full }).catch(() => undefined);
        if (oid) out.set(full, oid);
      }
    }
    this.looseRefs = looseCount;
    return out;
  }

  /** Loose ref files under `base` (relative to it), as isomorphic-git's readdirDeep finds them. */
  private async looseFiles(base: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(join(this.gitdir, base, rel), { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(p);
        // A lock file is a ref being written by someone (git, another process), not a ref.
        else if (!e.name.endsWith('.lock')) out.push(p);
      }
    };
    await walk('');
    return out;
  }

  // ---- reading ----

  hasLocalState(): boolean {
    return fs.existsSync(join(this.gitdir, 'HEAD'));
  }

  /** A local repository that vanished must fail the sync, not list as empty. */
  private checkLocal(): void {
    if (!fs.existsSync(join(this.gitdir, 'HEAD')) || !fs.existsSync(join(this.gitdir, 'objects')))
      throw new GitUnavailableError(`${this.opts.url} is not a git repository`);
  }

  async open(): Promise<void> {
    if (this.remote) await this.sync();
    else this.checkLocal();
    await removeStaleTemporaries(this.gitdir);
    await removeStaleLocks(this.gitdir);
    await this.lock.run(WRITE, async () => {
      if (await this.resolve(this.branchRef())) return;
      // Porch's ErrorIfMissing / CreateIfMissing main branch strategies.
      if (!this.opts.createBranch) throw new GitUnavailableError(`branch "${this.opts.branch}" doesn't exist in ${this.opts.url}`);
      const tree = await this.io.writeFiles({ 'README.md': 'Created by porch' });
      const oid = await writeCommit(this.gitdir, { tree, parents: [], author: PORCH_IDENTITY, message: 'Initial commit: Creating main branch' });
      await this.setRef(this.branchRef(), oid, undefined, [oid]);
    });
  }

  /** Commit fields the listing needs, cached per commit (commits never change). */
  private async summary(oid: string): Promise<Summary> {
    const hit = this.summaries.get(oid);
    if (hit) return hit;
    const c = await this.io.readCommit(oid);
    return bounded(this.summaries, oid, { ...summarise(c), tree: c.tree });
  }

  private readonly readSummary = (oid: string): Promise<CommitSummary> => this.summary(oid);

  private async blobText(oid: string): Promise<string> {
    const hit = this.kptfiles.get(oid);
    if (hit !== undefined) return hit;
    return bounded(this.kptfiles, oid, await this.io.readBlob(oid));
  }

  /** The package directory at `fullPath` under root tree `root`, if it holds a Kptfile. */
  private async packageAt(root: string, fullPath: string): Promise<PackageAt | undefined> {
    const tree = await this.io.subtree(root, fullPath);
    if (!tree) return undefined;
    const k = (await this.io.readTree(tree)).find((e) => e.path === 'Kptfile' && e.type === 'blob');
    return k ? { tree, kptfile: await this.blobText(k.oid) } : undefined;
  }

  private async tasksFor(commit: string, fullPath: string, workspace: string): Promise<TrailerTask[]> {
    const key = `${commit}\0${fullPath}\0${workspace}`;
    const hit = this.taskCache.get(key);
    if (hit) return hit;
    return bounded(this.taskCache, key, await revisionTasks(this.readSummary, commit, fullPath, workspace, TASK_WALK_LIMIT));
  }

  /** The commit a ref value names: annotated tags are peeled. */
  private async peel(oid: string): Promise<string> {
    return this.io.peel(oid);
  }

  private async describe(parsed: ParsedRef, ref: string, commit: string): Promise<GitPackageRevision | undefined> {
    const c = await this.summary(commit);
    const full = this.fullPath(parsed.packagePath);
    const pkg = await this.packageAt(c.tree, full);
    if (!pkg) return undefined;
    // Reading the package later (resources, clone, edit) must not fail on what someone pushed.
    await this.io.checkSafe(pkg.tree);
    let workspace: string;
    let revision: number;
    if ('workspace' in parsed) {
      workspace = parsed.workspace;
      revision = 0;
    } else if (parsed.revision > 0) {
      // Published revisions name their workspace in the approval commit's annotation; hand-made tags
      // have none, and Porch then calls the workspace after the revision.
      workspace = annotatedWorkspace(c.annotations, full) ?? `v${parsed.revision}`;
      revision = parsed.revision;
    } else {
      // A tag not named vN (a catalog's release tag, `pkg/v2.0.0`): its name is the workspace.
      workspace = parsed.name;
      revision = -1;
    }
    const deletionMark = 'name' in parsed ? deletionProposedRef(this.dir, parsed.packagePath, parsed.revision > 0 ? parsed.revision : parsed.name) : undefined;
    return {
      kind: parsed.kind,
      packagePath: parsed.packagePath,
      workspace,
      revision,
      ref,
      commit,
      tree: pkg.tree,
      kptfile: pkg.kptfile,
      tasks: await this.tasksFor(commit, full, workspace),
      author: c.author,
      ...(deletionMark ? { deletionMark } : {}),
    };
  }

  /** One placeholder per package on the registered branch (workspace = branch name, revision -1). */
  private async placeholders(head: string): Promise<GitPackageRevision[]> {
    const c = await this.summary(head);
    const root = this.dir ? await this.io.subtree(c.tree, this.dir) : c.tree;
    if (!root) return [];
    const prev = this.placeholderState;
    const found = await findPackagesSince(this.io, root, prev?.packages);
    const paths = new Set([...found.keys()].map((p) => this.fullPath(p)));
    // publishedBy/publishedAt of a package on the branch: its last annotated commit, as Porch finds it.
    const latest = (await this.stepPlaceholders(head, c, paths)) ?? (await latestPackageCommits(this.readSummary, head, paths, PLACEHOLDER_WALK_LIMIT));
    // Kptfiles of packages that did not change are the texts read last time.
    const kptfiles = new Map<string, string>();
    for (const { kptfile } of found.values()) kptfiles.set(kptfile, prev?.kptfiles.get(kptfile) ?? (await this.blobText(kptfile)));
    this.placeholderState = { head, paths, latest, packages: { root, found }, kptfiles };
    const out: GitPackageRevision[] = [];
    const skipped: SkippedRef[] = [];
    for (const [pkg, { tree, kptfile }] of found) {
      const problem = await this.io.checkSafe(tree).then(
        () => undefined,
        (err: unknown) => {
          if (!unsafeTree(err)) throw err;
          return errMessage(err);
        },
      );
      if (problem) {
        skipped.push({ ref: `${this.branchRef()}:${this.fullPath(pkg)}`, reason: problem });
        continue;
      }
      out.push({
        kind: 'placeholder',
        packagePath: pkg,
        workspace: this.opts.branch,
        revision: -1,
        ref: this.branchRef(),
        commit: head,
        tree,
        kptfile: kptfiles.get(kptfile)!,
        tasks: [],
        author: latest.get(this.fullPath(pkg))?.author ?? c.author,
        deletionMark: deletionProposedRef(this.dir, pkg, this.opts.branch),
      });
    }
    this.branchSkipped = { head, refs: skipped };
    return out;
  }

  /**
   * The last annotated commit per package when the branch moved by one commit on top of the head the
   * previous walk started from (an approval merge, a deletion, a single push): the walk from the new
   * head meets that commit first and then only what the previous walk saw, so its answer carries over.
   * Undefined when the history changed in any other way, and the whole walk is needed.
   */
  private async stepPlaceholders(head: string, c: Summary, paths: ReadonlySet<string>): Promise<Map<string, { oid: string; author: GitSignature }> | undefined> {
    const prev = this.placeholderState;
    if (!prev) return undefined;
    if (prev.head === head) return prev.latest;
    // A merge's other parents may hold commits annotated for other packages: only our own approval
    // merges, annotated for the package they publish, are known to add nothing else.
    if (c.parents[0] !== prev.head || (c.parents.length > 1 && !c.annotations.length)) return undefined;
    const latest = new Map<string, { oid: string; author: GitSignature }>();
    for (const p of paths) {
      const hit = prev.latest.get(p);
      if (hit) latest.set(p, hit);
      else if (!prev.paths.has(p) && !c.annotations.some((a) => a.package === p)) return undefined;
    }
    for (const a of c.annotations) if (paths.has(a.package)) latest.set(a.package, { oid: head, author: c.author });
    return latest;
  }

  /** Listing entries of `refs` as a listing would make them (refs that are not package revisions give none). */
  async describeRefs(refs: readonly { ref: string; commit: string }[]): Promise<GitPackageRevision[]> {
    const out: GitPackageRevision[] = [];
    for (const { ref, commit } of refs) {
      const parsed = parseRef(this.dir, ref);
      if (!parsed) continue;
      const tag = parsed.kind === 'published' || parsed.kind === 'deletionProposed';
      const entry = tag
        ? await this.describe(parsed, ref, commit).catch((err: unknown) => {
            if (unsafeTree(err)) throw err;
            return undefined;
          })
        : await this.describe(parsed, ref, commit);
      if (entry) out.push(entry);
    }
    return out;
  }

  /** The placeholders of the registered branch at `head`, as a listing would make them. */
  async placeholdersAt(head: string): Promise<GitPackageRevision[]> {
    return this.placeholders(head);
  }

  /** The registered branch's full ref name. */
  get branch(): string {
    return this.branchRef();
  }

  /** The Repository's directory, without leading or trailing slashes ("" for the top). */
  get directory(): string {
    return this.dir;
  }

  async listRevisions(previous?: ReadonlyMap<string, GitPackageRevision>, opts: { fetch?: boolean } = {}): Promise<RevisionListing> {
    if (!this.remote) this.checkLocal();
    else if (opts.fetch !== false) await this.sync();
    else await this.ensureMirror();
    const refs = await this.allRefs();
    // A first listing of many refs reads objects from all over the packs: they are read whole.
    if (!previous?.size && refs.size > BULK_LISTING_REFS) this.io.bulk();
    let listing: RevisionListing;
    try {
      listing = await this.describeListing(refs, previous);
    } finally {
      this.trimCaches();
    }
    if (this.looseRefs > LOOSE_REFS_LIMIT) {
      // Only an optimisation: refs stay correct either way, so a failure (say, another writer holding
      // packed-refs.lock) just means trying again after a later listing.
      await this.lock.run(WRITE, () => packRefs(this.gitdir, (oid) => this.io.peel(oid))).catch(() => undefined);
      this.looseRefs = 0;
    }
    return listing;
  }

  private async describeListing(refs: ReadonlyMap<string, string>, previous: ReadonlyMap<string, GitPackageRevision> | undefined): Promise<RevisionListing> {
    const out: GitPackageRevision[] = [];
    const skipped: SkippedRef[] = [];
    const branchCommit = refs.get(this.branchRef()) ?? '';

    for (const [ref, oid] of refs) {
      const prev = previous?.get(ref);
      let commit = !ref.startsWith('refs/tags/') || this.plainPackedTag(ref, oid) ? oid : refs.get(`${ref}^{}`);
      // A ref still at the commit of the previous listing is taken as is, without reading or even
      // parsing anything (the entry was made from this very ref name).
      if (commit === undefined) commit = prev?.commit === oid ? oid : await this.peel(oid);
      if (prev && prev.commit === commit && prev.kind !== 'placeholder') {
        out.push(prev);
        continue;
      }
      // Like Porch, a tag that does not name a package (missing Kptfile, unreadable) is skipped; a
      // branch of ours that cannot be read is an error. A ref whose tree git itself would refuse to
      // check out was pushed behind our back: it is left out and reported, never fails the listing.
      try {
        out.push(...(await this.describeRefs([{ ref, commit }])));
      } catch (err) {
        if (!unsafeTree(err)) throw err;
        skipped.push({ ref, reason: errMessage(err) });
      }
    }

    if (branchCommit) {
      const prevPlaceholders = previous ? [...previous.values()].filter((p) => p.kind === 'placeholder') : [];
      if (prevPlaceholders.length && prevPlaceholders.every((p) => p.commit === branchCommit)) out.push(...prevPlaceholders);
      else out.push(...(await this.placeholders(branchCommit)));
      if (this.branchSkipped?.head === branchCommit) skipped.push(...this.branchSkipped.refs);
    }
    return { revisions: out, branchCommit, skipped };
  }

  async readResources(commit: string, packagePath: string): Promise<Record<string, string>> {
    return (await this.readContents(commit, packagePath)).files;
  }

  async readContents(commit: string, packagePath: string): Promise<PackageContents> {
    const tree = await this.packageTree(commit, packagePath);
    return tree ? this.io.readContents(tree) : { files: {}, origins: NO_ORIGINS };
  }

  private async packageTree(commit: string, packagePath: string): Promise<string | undefined> {
    const c = await this.summary(await this.peel(commit));
    return this.io.subtree(c.tree, this.fullPath(packagePath));
  }

  // ---- writing ----

  private async mismatch(ref: string, expected: string | null): Promise<string | undefined> {
    const cur = await this.resolve(ref);
    if (expected === null ? cur !== undefined : cur !== expected) throw new GitConflictError(`${ref} is at ${cur ?? 'nothing'}, expected ${expected ?? 'nothing'}`);
    return cur;
  }

  /**
   * Write the whole package directory as one commit on `ref`. `expectedOld` is the commit the ref must
   * point at now, or null when the ref must not exist yet (the new commit's parent is then the
   * registered branch head, or `baseCommit` when given). Returns the new commit; GitConflictError
   * when the ref moved. Files keep the bytes and mode of their `origins`, or of the package the ref
   * held, where their text is what those were shown as.
   */
  async commitPackage(args: {
    ref: string;
    packagePath: string;
    resources: Record<string, string>;
    origins?: FileOrigins;
    message: string;
    author: CommitAuthor;
    expectedOld: string | null;
    baseCommit?: string;
  }): Promise<string> {
    checkPath('package path', args.packagePath);
    for (const p of Object.keys(args.resources)) checkPath('resource path', p);
    return this.lock.run(WRITE, async () => {
      const cur = await this.mismatch(args.ref, args.expectedOld);
      const parent = args.expectedOld ?? args.baseCommit ?? (await this.resolve(this.branchRef()));
      const root = parent ? (await this.summary(parent)).tree : undefined;
      const before = cur ? await this.packageTree(cur, args.packagePath) : undefined;
      const origins = combineOrigins(args.origins ?? NO_ORIGINS, before ? await this.io.treeOrigins(before) : NO_ORIGINS);
      const pkgTree = await this.io.writeFiles(args.resources, origins);
      const newRoot = await this.io.replace(root, this.fullPath(args.packagePath), pkgTree);
      const oid = await writeCommit(this.gitdir, { tree: newRoot, parents: parent ? [parent] : [], author: args.author, message: args.message });
      await this.setRef(args.ref, oid, cur, [oid]);
      return oid;
    });
  }

  /**
   * Point `to` at `commit` and delete `from` (which must point at `commit`), as one step as far as git
   * allows: the new ref is created first, so a crash leaves both, never neither.
   */
  async moveRef(from: string, to: string, commit: string): Promise<void> {
    await this.lock.run(WRITE, async () => {
      await this.mismatch(from, commit);
      const existing = await this.resolve(to);
      if (existing !== undefined && existing !== commit) throw new GitConflictError(`${to} already exists`);
      await this.setRefs([...(existing === undefined ? [{ ref: to, value: commit, expected: undefined }] : []), { ref: from, value: undefined, expected: commit }]);
    });
  }

  /**
   * Replace the package directory on the registered branch with `tree` (undefined: remove it) in a
   * commit with extra parents `also`, pushed together with the ref updates `along(commit)` gives; for
   * a remote whose branch moved meanwhile, sync and redo once.
   */
  private async commitOnBranch(
    packagePath: string,
    tree: string | undefined,
    also: string[],
    message: string,
    author: CommitAuthor,
    before?: () => Promise<void>,
    along: (commit: string) => RefUpdate[] = () => [],
  ): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      if (before) await before();
      const head = await this.resolve(this.branchRef());
      const root = head ? (await this.summary(head)).tree : undefined;
      const full = this.fullPath(packagePath);
      if (!tree && (!root || !(await this.io.subtree(root, full)))) return head;
      const newRoot = await this.io.replace(root, full, tree);
      const oid = await writeCommit(this.gitdir, { tree: newRoot, parents: head ? [head, ...also] : also, author, message });
      try {
        await this.setRefs([{ ref: this.branchRef(), value: oid, expected: head }, ...along(oid)], [oid]);
        return oid;
      } catch (err) {
        if (!(err instanceof GitConflictError) || !this.remote || attempt > 0) throw err;
        await this.syncLocked();
      }
    }
  }

  /**
   * A merge commit on the registered branch with parents [branch head, sourceCommit] whose tree is the
   * branch tree with the package directory replaced by the source's; `tag` at that commit; `sourceRef`
   * deleted: for a remote, one push. Returns the merge commit.
   */
  async publish(args: { packagePath: string; sourceRef: string; sourceCommit: string; tag: string; message: string; author: CommitAuthor }): Promise<string> {
    checkPath('package path', args.packagePath);
    return this.lock.run(WRITE, async () => {
      const full = this.fullPath(args.packagePath);
      const check = async () => {
        await this.mismatch(args.sourceRef, args.sourceCommit);
        if (await this.resolve(args.tag)) throw new GitConflictError(`tag ${args.tag} already exists`);
      };
      await check();
      const tree = await this.io.subtree((await this.summary(args.sourceCommit)).tree, full);
      if (!tree) throw new GitConflictError(`${args.sourceRef} has no package at ${full}`);
      const along = (merge: string): RefUpdate[] => [
        { ref: args.tag, value: merge, expected: undefined },
        { ref: args.sourceRef, value: undefined, expected: args.sourceCommit },
      ];
      return (await this.commitOnBranch(args.packagePath, tree, [args.sourceCommit], args.message, args.author, check, along))!;
    });
  }

  /** Create or move `ref` to `commit` (expectedOld null = must not exist). */
  async updateRef(ref: string, commit: string, expectedOld: string | null): Promise<void> {
    await this.lock.run(WRITE, () => this.setRef(ref, commit, expectedOld ?? undefined));
  }

  /** Delete `ref`, which must point at `expected` (undefined: at any commit, but it must exist). */
  async deleteRef(ref: string, expected: string | undefined): Promise<void> {
    await this.lock.run(WRITE, async () => {
      const cur = await this.resolve(ref);
      // A tag may be annotated: compare the commit it names.
      const curCommit = cur ? await this.peel(cur) : undefined;
      if (curCommit === undefined || (expected !== undefined && curCommit !== expected))
        throw new GitConflictError(`${ref} is at ${curCommit ?? 'nothing'}, expected ${expected ?? 'a commit'}`);
      await this.setRef(ref, undefined, cur);
    });
  }

  /** A commit removing the package directory from the registered branch; returns the branch head after it. */
  async deletePackageFromBranch(packagePath: string, message: string, author: CommitAuthor): Promise<string> {
    checkPath('package path', packagePath);
    // As in Porch, a package (or branch) that is not there leaves the branch as it is.
    return this.lock.run(WRITE, async () => (await this.commitOnBranch(packagePath, undefined, [], message, author)) ?? '');
  }

  /**
   * What a listing read is not kept: the caller holds the listing and hands it back, so only the refs
   * that moved are read next time, and those are few.
   */
  private trimCaches(): void {
    this.summaries.clear();
    this.kptfiles.clear();
    this.taskCache.clear();
    this.io.trim();
  }

  async close(): Promise<void> {
    this.summaries.clear();
    this.kptfiles.clear();
    this.taskCache.clear();
    this.placeholderState = undefined;
    this.io.close();
    this.remote?.close();
  }
}

export function openGitRepository(opts: GitRepositoryOptions): IsoGitRepository {
  return new IsoGitRepository(opts);
}
