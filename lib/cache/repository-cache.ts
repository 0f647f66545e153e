import type { KubeObject } from '../api/meta.ts';
import type { PackageRevision, PorchPackage } from '../api/porch.ts';
import type { Repository } from '../api/repository.ts';
import type { Lifecycle } from '../api/porch.ts';
import type { PackageContents } from '../git/file-origin.ts';
import { applyListingChange, listingMap } from '../git/listing.ts';
import type { CommitAuthor, GitPackageRevision, GitRepository, ListingChange, NewDraft, SkippedRef, TrailerTask } from '../git/types.ts';
import { secondsTimestamp } from '../util.ts';
import { latestRevisions, namedPackage, recordsFromListing } from './records.ts';
import type { RevisionRecord } from './types.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheHooks {
  /** The PackageRev holding a revision's metadata, if there is one. */
  meta(namespace: string, name: string): KubeObject | undefined;
  nextRv(): number;
  revisionChanged(type: ChangeType, obj: PackageRevision, prev?: PackageRevision): void;
  packageChanged(type: ChangeType, obj: PorchPackage, prev?: PorchPackage): void;
  /** The PackageRevision a record shows as. */
  buildRevision(record: RevisionRecord, context: RevisionContext): PackageRevision;
  buildPackage(namespace: string, repository: string, packagePath: string, latestRevision: number, rv: number, created: string): PorchPackage;
  /** A write changed the number of packages or moved the registered branch (a sync's own findings are not reported here). */
  gitStateChanged?(state: GitState): void;
}

/** What Repository status says of git: packages (paths with any revision) and the registered branch head. */
export interface GitState {
  packageCount: number;
  gitCommitHash: string;
}

/** What a PackageRevision is built from besides its record. */
export interface RevisionContext {
  namespace: string;
  repo: Repository;
  latest: boolean;
  /** The revision's PackageRev: labels, annotations, finalizers, ownerReferences, creation time. */
  meta?: KubeObject;
  rv: number;
}

interface Entry {
  /** The latest record read: same object inputs as the one `object` was built from, maybe a later commit. */
  record: RevisionRecord;
  object: PackageRevision;
  /** With record: everything the object was built from (compared field by field; no string kept). */
  latest: boolean;
  metaRv: string;
  generation: number;
}

/**
 * The in-memory view of one repository's package revisions, and the engine's only door to git.
 * Refreshes are incremental (the git layer reuses refs that did not move) and serialised: a refresh
 * asked for while one runs is queued behind it. Writes go through to git and their result straight
 * into the view; one landing while a refresh reads git is applied again on top of what that refresh
 * read, so a listing taken before a write can never overwrite what the write produced.
 */
export class RepositoryCache {
  private listing = new Map<string, GitPackageRevision>();
  private readonly entries = new Map<string, Entry>();
  private readonly packages = new Map<string, PorchPackage>();
  /** Package name by package path (built once per path). */
  private readonly packageNames = new Map<string, string>();
  private running: Promise<void> | undefined;
  private queued: { promise: Promise<void>; fetch: boolean } | undefined;
  /** Changes written while a refresh reads git (undefined when none runs). */
  private writtenDuringRefresh: ListingChange[] | undefined;
  private repoGeneration = 0;
  branchCommit = '';
  lastError: string | undefined;
  lastSyncTime: Date | undefined;
  /** Refs the last listing left out (trees git would refuse to check out). */
  skippedRefs: SkippedRef[] = [];
  loaded = false;
  /** Set by close(): a refresh still running then changes nothing and announces nothing. */
  private closed = false;
  /** A dry run's copy (see planned()): metadata written in it, by revision name (null: deleted). */
  private plannedMeta: Map<string, KubeObject | null> | undefined;

  constructor(
    readonly namespace: string,
    readonly name: string,
    public repo: Repository,
    private readonly git: GitRepository,
    private readonly hooks: CacheHooks,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  revisions(): IterableIterator<PackageRevision> {
    return mapValues(this.entries.values(), (e) => e.object);
  }

  revision(name: string): PackageRevision | undefined {
    return this.entries.get(name)?.object;
  }

  record(name: string): RevisionRecord | undefined {
    return this.entries.get(name)?.record;
  }

  records(): IterableIterator<RevisionRecord> {
    return mapValues(this.entries.values(), (e) => e.record);
  }

  allPackages(): IterableIterator<PorchPackage> {
    return this.packages.values();
  }

  package(name: string): PorchPackage | undefined {
    return this.packages.get(name);
  }

  /** Whether this is a dry run's copy, whose writes are planned and never made. */
  get isPlanned(): boolean {
    return this.plannedMeta !== undefined;
  }

  /**
   * A copy of this view for a dry run: the same revisions, writes go to `git.planned()` (answered as
   * they would be, nothing written), and neither this view nor any watcher hears of them. A revision
   * it rebuilds keeps the resourceVersion it has here (a new one has none), as a dry run answers.
   */
  planned(): RepositoryCache {
    const metas = new Map<string, KubeObject | null>();
    const copy = new RepositoryCache(this.namespace, this.name, this.repo, this.git.planned(), {
      meta: (namespace, name) => (metas.has(name) ? (metas.get(name) ?? undefined) : this.hooks.meta(namespace, name)),
      nextRv: () => 0,
      revisionChanged: () => undefined,
      packageChanged: () => undefined,
      buildRevision: (record, context) => {
        const rv = this.revision(record.name)?.metadata.resourceVersion;
        const built = this.hooks.buildRevision(record, { ...context, rv: Number(rv ?? 0) });
        if (rv !== undefined) return built;
        const { resourceVersion: _none, ...metadata } = built.metadata;
        return { ...built, metadata };
      },
      buildPackage: this.hooks.buildPackage,
    });
    copy.plannedMeta = metas;
    copy.listing = new Map(this.listing);
    for (const [k, v] of this.entries) copy.entries.set(k, v);
    for (const [k, v] of this.packages) copy.packages.set(k, v);
    copy.repoGeneration = this.repoGeneration;
    copy.branchCommit = this.branchCommit;
    copy.lastError = this.lastError;
    copy.lastSyncTime = this.lastSyncTime;
    copy.loaded = this.loaded;
    return copy;
  }

  /** In a dry run's copy: a revision's metadata as the dry run would have written it (undefined: deleted). */
  planMeta(name: string, meta: KubeObject | undefined): void {
    if (!this.plannedMeta) throw new Error('planMeta is only for a dry run\'s copy');
    this.plannedMeta.set(name, meta ?? null);
    // A dry run's metadata keeps the resourceVersion it had: rebuild regardless.
    if (!this.entries.delete(name)) return;
    this.apply([...this.listing.values()], new Set([name]));
  }

  /** Re-read git; `fetch` false reads only local state. Coalesced and ordered. A dry run's copy never re-reads. */
  refresh(fetch: boolean): Promise<void> {
    if (this.plannedMeta) return Promise.resolve();
    if (!this.running) {
      this.running = this.doRefresh(fetch).finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    if (this.queued) {
      this.queued.fetch ||= fetch;
      return this.queued.promise;
    }
    const q = { fetch, promise: Promise.resolve() };
    q.promise = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.refresh(q.fetch);
      });
    this.queued = q;
    return q.promise;
  }

  private async doRefresh(fetch: boolean): Promise<void> {
    if (this.closed) return;
    const written: ListingChange[] = [];
    this.writtenDuringRefresh = written;
    try {
      const result = await this.git.listRevisions(this.listing, { fetch });
      if (this.closed) return;
      let listing = listingMap(result.revisions);
      let branchCommit = result.branchCommit;
      for (const change of written) {
        listing = applyListingChange(listing, change);
        if (change.branch) branchCommit = change.branch.commit;
      }
      this.listing = listing;
      this.branchCommit = branchCommit;
      this.skippedRefs = result.skipped ?? [];
      this.apply([...listing.values()]);
      this.loaded = true;
    } finally {
      this.writtenDuringRefresh = undefined;
    }
  }

  // ---- writes: to git, then the write's result into the view ----

  private take(change: ListingChange): void {
    if (this.closed) return;
    const before = this.gitState;
    this.writtenDuringRefresh?.push(change);
    this.listing = applyListingChange(this.listing, change);
    if (change.branch) this.branchCommit = change.branch.commit;
    this.apply([...this.listing.values()]);
    const after = this.gitState;
    if (after.packageCount !== before.packageCount || after.gitCommitHash !== before.gitCommitHash) this.hooks.gitStateChanged?.(after);
  }

  get gitState(): GitState {
    return { packageCount: this.packages.size, gitCommitHash: this.branchCommit };
  }

  async createDraft(draft: NewDraft): Promise<void> {
    this.take(await this.git.createDraft(draft));
  }

  // Each write starts from the record its caller checked its preconditions on: if git moved since,
  // the write fails (GitConflictError) rather than acting on something the caller never saw.

  /** Replace the package contents of a draft; `task` is what the commit records (Porch: render). */
  async updateContents(rec: RevisionRecord, resources: Record<string, string>, task: TrailerTask, author: CommitAuthor): Promise<void> {
    this.take(await this.git.updateDraft(rec.git, { resources, task, author }));
  }

  /** Draft ↔ Proposed, Published ↔ DeletionProposed. */
  async setLifecycle(rec: RevisionRecord, to: Lifecycle): Promise<void> {
    this.take(await this.git.setLifecycle(rec, to));
  }

  /** Publish a proposed revision as `revision`; afterwards its name belongs to the tag's revision. */
  async publish(rec: RevisionRecord, revision: number, author: CommitAuthor): Promise<void> {
    this.take(await this.git.publish(rec.git, revision, author));
  }

  async remove(rec: RevisionRecord): Promise<void> {
    this.take(await this.git.deleteRevision(rec));
  }

  /** Check the remote is reachable and the branch exists (or create it), once before the first sync. */
  open(): Promise<void> {
    return this.git.open();
  }

  /** Whether git state is on disk to load from without the network. */
  hasLocalState(): boolean {
    return this.git.hasLocalState();
  }

  /** Let go of git without announcing anything: the server is stopping, not the repository going away. */
  release(): Promise<void> {
    return this.git.close();
  }

  /** The files of a revision's package. */
  readResources(rec: RevisionRecord): Promise<Record<string, string>> {
    return this.git.readResources(rec.git.commit, rec.packagePath);
  }

  /** The files of a revision's package, with what their text does not show (modes, exact bytes). */
  readContents(rec: RevisionRecord): Promise<PackageContents> {
    return this.git.readContents(rec.git.commit, rec.packagePath);
  }

  /** The Repository object changed (e.g. `deployment`): every revision shows it. */
  setRepository(repo: Repository): void {
    if (this.closed) return;
    const deploymentChanged = (repo.spec.deployment === true) !== (this.repo.spec.deployment === true);
    this.repo = repo;
    if (deploymentChanged) {
      this.repoGeneration++;
      this.apply([...this.listing.values()]);
    }
  }

  /** A PackageRev changed: rebuild that one revision. */
  metadataChanged(name: string): void {
    if (!this.closed && this.entries.has(name)) this.apply([...this.listing.values()], new Set([name]));
  }

  /** Whether `prev` was built from the same inputs, so its object can stay as it is. */
  private unchanged(prev: Entry, r: RevisionRecord, latest: boolean, metaRv: string): boolean {
    const a = prev.record;
    return (
      a.git.ref === r.git.ref &&
      sameContent(a.git, r.git) &&
      a.lifecycle === r.lifecycle &&
      (a.deletionRef ?? '') === (r.deletionRef ?? '') &&
      prev.latest === latest &&
      prev.metaRv === metaRv &&
      prev.generation === this.repoGeneration
    );
  }

  private apply(listing: readonly GitPackageRevision[], only?: Set<string>): void {
    const records = recordsFromListing(this.name, listing, this.packageNames);
    const latest = latestRevisions(records.values());
    // Loops over thousands of revisions go by values() or keys() (a cold load runs them before the
    // code is optimised, and each [key, value] pair would be an object).
    for (const record of records.values()) {
      const name = record.name;
      if (only && !only.has(name)) continue;
      const isLatest = latest.get(record.packagePath)?.name === name;
      const meta = this.hooks.meta(this.namespace, name);
      const metaRv = meta?.metadata.resourceVersion ?? '';
      const prev = this.entries.get(name);
      if (prev && this.unchanged(prev, record, isLatest, metaRv)) {
        // The same object, now read at a later commit (a placeholder when its branch moved). A new
        // entry, not a changed one: a dry run's copy shares the entries it was copied with.
        if (prev.record !== record) this.entries.set(name, { ...prev, record });
        continue;
      }
      const object = this.hooks.buildRevision(record, { namespace: this.namespace, repo: this.repo, latest: isLatest, meta, rv: this.hooks.nextRv() });
      this.entries.set(name, { record, object, latest: isLatest, metaRv, generation: this.repoGeneration });
      this.hooks.revisionChanged(prev ? 'MODIFIED' : 'ADDED', object, prev?.object);
    }
    if (!only) {
      for (const name of this.entries.keys()) {
        if (records.has(name)) continue;
        const prev = this.entries.get(name) as Entry;
        this.entries.delete(name);
        this.hooks.revisionChanged('DELETED', { ...prev.object, metadata: { ...prev.object.metadata, resourceVersion: String(this.hooks.nextRv()) } });
      }
      this.applyPackages(records, latest);
    }
  }

  private applyPackages(records: Map<string, RevisionRecord>, latest: Map<string, RevisionRecord>): void {
    /** Each package's earliest revision (a package's creation time is its earliest commit's). */
    const seen = new Map<string, RevisionRecord>();
    for (const r of records.values()) {
      const name = namedPackage(this.packageNames, this.name, r.packagePath);
      const s = seen.get(name);
      if (!s || r.git.author.timestamp < s.git.author.timestamp) seen.set(name, r);
    }
    for (const name of seen.keys()) {
      const earliest = seen.get(name) as RevisionRecord;
      const path = earliest.packagePath;
      const created = earliest.git.author.timestamp;
      const latestRev = latest.get(path)?.revision ?? 0;
      const prev = this.packages.get(name);
      if (prev && (prev.status.latestRevision ?? 0) === latestRev) continue;
      const created_ = prev?.metadata.creationTimestamp ?? secondsTimestamp(created);
      const obj = this.hooks.buildPackage(this.namespace, this.name, path, latestRev, this.hooks.nextRv(), created_);
      this.packages.set(name, obj);
      this.hooks.packageChanged(prev ? 'MODIFIED' : 'ADDED', obj, prev);
    }
    for (const [name, prev] of this.packages) {
      if (seen.has(name)) continue;
      this.packages.delete(name);
      this.hooks.packageChanged('DELETED', { ...prev, metadata: { ...prev.metadata, resourceVersion: String(this.hooks.nextRv()) } });
    }
  }

  /**
   * The repository is gone: every revision and package leaves with a DELETED event, and a refresh
   * still in flight (a hung remote, say) is not waited for and can no longer add anything.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const e of this.entries.values())
      this.hooks.revisionChanged('DELETED', { ...e.object, metadata: { ...e.object.metadata, resourceVersion: String(this.hooks.nextRv()) } });
    for (const p of this.packages.values())
      this.hooks.packageChanged('DELETED', { ...p, metadata: { ...p.metadata, resourceVersion: String(this.hooks.nextRv()) } });
    this.entries.clear();
    this.packages.clear();
    await this.git.close();
  }
}

/**
 * Whether two entries of one ref show as the same object. A placeholder's commit is its branch head,
 * which every publish of another package moves: it shows the same as long as its package's tree, its
 * Kptfile and the commit it was last changed by are the same, so no watcher hears of it.
 */
function sameContent(a: GitPackageRevision, b: GitPackageRevision): boolean {
  if (a.commit === b.commit) return true;
  return a.kind === 'placeholder' && b.kind === 'placeholder' && a.tree === b.tree && a.kptfile === b.kptfile && a.author.timestamp === b.author.timestamp && a.author.name === b.author.name && a.author.email === b.author.email;
}

function* mapValues<A, B>(it: Iterable<A>, fn: (a: A) => B): IterableIterator<B> {
  for (const a of it) yield fn(a);
}
