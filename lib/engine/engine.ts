import { join } from 'node:path';
import type { KubeObject } from '../api/meta.ts';
import type { PackageRevision, PorchPackage } from '../api/porch.ts';
import { PORCH_GROUP } from '../api/porch.ts';
import type { Repository } from '../api/repository.ts';
import { KeyOrderedView } from '../api/order.ts';
import { findResource } from '../api/resources.ts';
import { RepositoryCache, type ChangeType } from '../cache/repository-cache.ts';
import { errors } from '../errors.ts';
import type { GitRepository, GitRepositoryOptions } from '../git/types.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { KeyedMutex } from '../util.ts';
import { WatchHub } from '../watch/hub.ts';
import type { Unsubscribe } from '../watch/types.ts';
import { resolveGitAuth } from './credentials.ts';
import { RvClock } from './rv-clock.ts';
import { RepositoryStatusWriter, type SyncOutcome } from './repository-status.ts';
import { forEachBounded, formatDuration, SyncTimeoutError, withTimeout } from '../sync/limits.ts';
import type { SyncPlanView } from '../sync/planner.ts';
import { pruneOrphanedPackageRevs } from '../sync/prune.ts';
import { parseSchedule } from '../sync/schedule.ts';
import { findStaleDrafts } from '../sync/stale-drafts.ts';

export const REPOSITORIES = findResource('config.porch.kpt.dev', 'v1alpha1', 'repositories')!;
export const PACKAGEREVS = findResource('config.porch.kpt.dev', 'v1alpha1', 'packagerevs')!;
export { PR_GR } from './gr.ts';
import { PR_GR } from './gr.ts';

export interface EngineDeps {
  store: Store;
  log: Logger;
  openGit: (opts: GitRepositoryOptions) => GitRepository;
  /** Where mirrors of remote repositories are kept. */
  dataDir: string;
  gitTimeoutMs?: number;
  /** Repositories loaded and synced at once at start-up (default 4). */
  startupConcurrency?: number;
  /** A repository sync taking longer is abandoned and reported as Ready=False "timed out" (default 2 min). */
  syncTimeoutMs?: number;
  /** A sync still running after this long shows Ready=False, reason Reconciling (default 5 s). */
  reconcilingAfterMs?: number;
  /** Drafts whose branch has not moved for longer are reported (default 30 days; 0: never). */
  staleDraftAgeMs?: number;
  /** PackageRevs younger than this are never pruned: their revision's commit may not be listed yet (default 1 min). */
  pruneGraceMs?: number;
}

export const DEFAULT_SYNC_TIMEOUT_MS = 120_000;
export const DEFAULT_STALE_DRAFT_AGE_MS = 30 * 86_400_000;
const PRUNE_GRACE_MS = 60_000;

/** What one repository sync did, as the sync-repositories handler reports it. */
export interface SyncReport {
  namespace: string;
  name: string;
  ready: boolean;
  reason: 'Ready' | 'Error';
  message: string;
  revisions: number;
  packageCount?: number;
  gitCommitHash?: string;
  ms: number;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The git-relevant part of a Repository: when it changes the repository is opened anew. */
function gitIdentity(repo: Repository): string {
  const g = repo.spec.git;
  return JSON.stringify([repo.spec.type, g?.repo, g?.branch, g?.directory, g?.createBranch, g?.secretRef?.name]);
}

/**
 * The CaD engine's state: one cache per Repository, the PackageRevs carrying metadata, and the watch
 * hubs every change goes through (an API write and a change found by a sync look the same).
 */
export class Engine {
  readonly revisionHub = new WatchHub<PackageRevision>();
  readonly packageHub = new WatchHub<PorchPackage>();
  readonly rv = new RvClock();
  readonly packageLocks = new KeyedMutex();
  private readonly repos = new Map<string, RepositoryCache>();
  private readonly revisionOrder = new KeyOrderedView(() => [...this.repos.values()].flatMap((c) => [...c.revisions()]));
  private readonly packageOrder = new KeyOrderedView(() => [...this.repos.values()].flatMap((c) => [...c.allPackages()]));
  private readonly identities = new Map<string, string>();
  private readonly metas = new Map<string, KubeObject>();
  private readonly repoLocks = new KeyedMutex();
  private readonly status: RepositoryStatusWriter;
  private unwatch: Unsubscribe[] = [];
  /** Background repository work started by watch events; stop() waits for it. */
  private readonly inflight = new Set<Promise<unknown>>();
  /** Caches whose git repository was opened (connectivity checked, branch ensured). */
  private readonly opened = new WeakSet<RepositoryCache>();
  /** The Repository generation each cache last synced for: a spec change syncs again. */
  private readonly generations = new Map<string, number | undefined>();
  /** Why a Repository could not be opened at all (bad secret, OCI…). */
  private readonly openErrors = new Map<string, string>();
  /** Stale drafts last logged per repository, so each change is logged once rather than every sync. */
  private readonly staleLogged = new Map<string, string>();
  private syncPlan: SyncPlanView | undefined;
  private stopped = false;
  /** Settles (rejects) at stop(): syncs in progress are abandoned instead of holding up shutdown. */
  private readonly stopping: Promise<never>;
  private abandon: (err: Error) => void = () => undefined;
  /** Settles when the start-up sync of every repository is over (synced, failed or timed out). */
  initialSync: Promise<void> = Promise.resolve();

  constructor(readonly deps: EngineDeps) {
    this.status = new RepositoryStatusWriter(deps.store, deps.log);
    this.revisionHub.resetFloor(this.rv.current());
    this.packageHub.resetFloor(this.rv.current());
    this.stopping = new Promise<never>((_, reject) => (this.abandon = reject));
    this.stopping.catch(() => undefined);
  }

  get store(): Store {
    return this.deps.store;
  }

  get log(): Logger {
    return this.deps.log;
  }

  /** Where `status.nextFullSyncTime` comes from: the sync scheduler, once it runs. */
  setSyncPlan(plan: SyncPlanView | undefined): void {
    this.syncPlan = plan;
  }

  /**
   * Load metadata and every Repository's cache from what is on disk (a few at a time), so the API
   * answers from the last known state as soon as this returns; then follow changes to both, and sync
   * every repository with its remote in the background, a few at a time, each within the sync
   * timeout: a slow or hanging remote delays nobody.
   */
  async start(): Promise<void> {
    const revs = await this.store.list(PACKAGEREVS);
    for (const m of revs.items) this.metas.set(key(m.metadata.namespace ?? '', m.metadata.name ?? ''), m);
    this.unwatch.push(
      this.store.watch(PACKAGEREVS, {
        resourceVersion: revs.resourceVersion,
        send: (ev) => {
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') this.applyMeta(ev.object, ev.type === 'DELETED');
        },
      }),
    );
    const listed = await this.store.list(REPOSITORIES);
    const initial = listed.items as Repository[];
    const limit = this.deps.startupConcurrency ?? 4;
    await forEachBounded(initial, limit, (repo) => {
      const k = key(repo.metadata.namespace ?? 'default', repo.metadata.name ?? '');
      return this.repoLocks.run(k, async () => {
        if (this.repos.has(k)) return;
        const cache = await this.openCache(repo);
        if (cache) await this.preload(cache);
      });
    });
    // From the list's resourceVersion: changes made while the caches loaded are not lost.
    this.unwatch.push(
      this.store.watch(REPOSITORIES, {
        resourceVersion: listed.resourceVersion,
        send: (ev) => {
          const repo = ev.object as Repository;
          if (ev.type === 'DELETED') this.track(this.removeRepository(repo.metadata.namespace ?? '', repo.metadata.name ?? ''));
          else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.track(this.upsertRepository(repo));
        },
      }),
    );
    this.initialSync = forEachBounded(initial, limit, async (repo) => {
      if (this.stopped) return;
      const ns = repo.metadata.namespace ?? 'default';
      const name = repo.metadata.name ?? '';
      // One deleted, changed or synced meanwhile needs nothing more; one that could not be opened
      // has its status already and is retried by the scheduler.
      const cache = this.repos.get(key(ns, name));
      if (cache && !this.opened.has(cache)) await this.syncCache(cache);
    });
    this.track(this.initialSync);
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.log.warn('repository update failed', { error: errMessage(err) }));
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abandon(new Error('the server is stopping'));
    for (const u of this.unwatch) u();
    this.unwatch = [];
    await Promise.all([...this.inflight]);
    await Promise.all([...this.repos.values()].map((r) => r.git.close().catch(() => undefined)));
  }

  // ---- metadata (PackageRev) ----

  meta(namespace: string, name: string): KubeObject | undefined {
    return this.metas.get(key(namespace, name));
  }

  /** Take in a PackageRev change; idempotent, so the write path and the store watch may both call it. */
  applyMeta(obj: KubeObject, deleted = false): void {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const k = key(ns, name);
    const cur = this.metas.get(k);
    if (deleted) {
      if (!cur) return;
      this.metas.delete(k);
    } else {
      if (cur && Number(cur.metadata.resourceVersion) >= Number(obj.metadata.resourceVersion)) return;
      this.metas.set(k, obj);
    }
    const repo = obj.metadata.labels?.['internal.porch.kpt.dev/repository'];
    const candidates = repo ? [this.repos.get(key(ns, repo))] : [...this.repos.values()].filter((r) => r.namespace === ns);
    for (const c of candidates) c?.metadataChanged(name);
  }

  // ---- repositories ----

  repository(namespace: string, name: string): RepositoryCache | undefined {
    return this.repos.get(key(namespace, name));
  }

  repositories(namespace?: string): RepositoryCache[] {
    return [...this.repos.values()].filter((r) => namespace === undefined || r.namespace === namespace);
  }

  /**
   * Take in a created or changed Repository: open it (again, after a git-relevant change) and sync;
   * a spec change that keeps the same git repository syncs too; a status-only change does nothing.
   */
  async upsertRepository(repo: Repository): Promise<void> {
    const ns = repo.metadata.namespace ?? 'default';
    const name = repo.metadata.name ?? '';
    const k = key(ns, name);
    await this.repoLocks.run(k, async () => {
      const existing = this.repos.get(k);
      if (existing && this.identities.get(k) === gitIdentity(repo)) {
        existing.setRepository(repo);
        if (this.generations.get(k) !== repo.metadata.generation) await this.syncCache(existing);
        return;
      }
      if (existing) {
        this.repos.delete(k);
        await existing.close();
      }
      const cache = await this.openCache(repo);
      if (cache) await this.syncCache(cache);
    });
  }

  /** Make (and register) the cache of a Repository; on failure its status says why and undefined is returned. */
  private async openCache(repo: Repository): Promise<RepositoryCache | undefined> {
    const ns = repo.metadata.namespace ?? 'default';
    const name = repo.metadata.name ?? '';
    const k = key(ns, name);
    const fail = async (message: string) => {
      this.openErrors.set(k, message);
      this.generations.set(k, repo.metadata.generation);
      await this.status.write(repo, { reason: 'Error', message, generation: repo.metadata.generation, nextFullSyncTime: this.syncPlan?.nextSyncTime(ns, name) });
      return undefined;
    };
    if (repo.spec.type === 'oci') return fail('OCI repositories are not supported by this server');
    if (!repo.spec.git) return fail('spec.git is required for a git repository');
    const git = repo.spec.git;
    let cache: RepositoryCache;
    try {
      const creds = await resolveGitAuth(this.store, repo);
      const opened = this.deps.openGit({
        url: git.repo,
        branch: git.branch || 'main',
        directory: git.directory ?? '',
        createBranch: git.createBranch === true,
        auth: creds.auth,
        caBundle: creds.caBundle,
        workDir: this.workDir(ns, name),
        timeoutMs: this.deps.gitTimeoutMs,
      });
      cache = new RepositoryCache(ns, name, repo, opened, {
        meta: (n, rn) => this.meta(n, rn),
        nextRv: () => this.rv.next(),
        revisionChanged: (t, o, p) => this.emitRevision(t, o, p),
        packageChanged: (t, o, p) => this.emitPackage(t, o, p),
      });
    } catch (err) {
      return fail(errMessage(err));
    }
    this.openErrors.delete(k);
    this.repos.set(k, cache);
    this.identities.set(k, gitIdentity(repo));
    return cache;
  }

  private workDir(namespace: string, name: string): string {
    return join(this.deps.dataDir, 'git', namespace, name);
  }

  /**
   * Fill a cache from local git state only (a local repository, or the mirror a remote one left on
   * disk), so a restart serves the last known revisions at once. A remote repository never fetched has
   * nothing to serve: it stays not-loaded until its first sync.
   */
  private async preload(cache: RepositoryCache): Promise<void> {
    const url = cache.repo.spec.git?.repo ?? '';
    const local = url.startsWith('/') || url.startsWith('file://');
    if (!cache.git.hasLocalState()) return;
    try {
      await withTimeout(Promise.race([cache.refresh(false), this.stopping]), this.syncTimeoutMs());
      // A mirror that never received the branch has nothing to serve: writes wait for the first sync.
      if (!local && !cache.branchCommit) cache.loaded = false;
    } catch (err) {
      this.log.warn('could not load repository from local state', { namespace: cache.namespace, repository: cache.name, error: errMessage(err) });
    }
  }

  private syncTimeoutMs(): number {
    return this.deps.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
  }

  async removeRepository(namespace: string, name: string): Promise<void> {
    const k = key(namespace, name);
    await this.repoLocks.run(k, async () => {
      const cache = this.repos.get(k);
      this.repos.delete(k);
      this.identities.delete(k);
      this.generations.delete(k);
      this.openErrors.delete(k);
      this.staleLogged.delete(k);
      if (cache) await cache.close();
      // Metadata of revisions that no longer exist anywhere goes with the repository (a PackageRev
      // with user finalizers is marked for deletion and waits for them).
      const { items } = await this.store.list(PACKAGEREVS, {
        namespace,
        labelSelector: [{ key: 'internal.porch.kpt.dev/repository', op: 'eq', value: name }],
      });
      for (const m of items) await this.store.delete(PACKAGEREVS, namespace, m.metadata.name ?? '').catch(() => undefined);
    });
  }

  /**
   * Sync one repository with its remote and record the outcome in its status. `runOnceAt` is the
   * `spec.sync.runOnceAt` this sync honours; it is recorded as `status.observedRunOnceAt`.
   */
  async syncRepository(namespace: string, name: string, opts: { runOnceAt?: string } = {}): Promise<SyncReport> {
    const k = key(namespace, name);
    let cache = this.repos.get(k);
    if (!cache) {
      const repo = (await this.store.get(REPOSITORIES, namespace, name)) as Repository | undefined;
      if (!repo) throw errors.notFound({ group: REPOSITORIES.group, resource: REPOSITORIES.plural }, name);
      cache = await this.repoLocks.run(k, async () => this.repos.get(k) ?? (await this.openCache(repo)));
      if (!cache) {
        const message = this.openErrors.get(k) ?? 'the repository could not be opened';
        if (opts.runOnceAt) await this.status.write(repo, { reason: 'Error', message, observedRunOnceAt: opts.runOnceAt, nextFullSyncTime: this.syncPlan?.nextSyncTime(namespace, name) });
        return { namespace, name, ready: false, reason: 'Error', message, revisions: 0, ms: 0 };
      }
    }
    return this.syncCache(cache, opts);
  }

  /**
   * One full sync: open the repository if that never succeeded, fetch and list, then prune metadata
   * of revisions gone from git and look for stale drafts. Bounded by the sync timeout; Ready=False
   * reason Reconciling is shown only if it runs long enough for anyone to notice.
   */
  private async syncCache(cache: RepositoryCache, opts: { runOnceAt?: string } = {}): Promise<SyncReport> {
    const k = key(cache.namespace, cache.name);
    const repo = cache.repo;
    const generation = repo.metadata.generation;
    this.generations.set(k, generation);
    const started = Date.now();
    let running = true;
    const reconciling = setTimeout(() => void this.status.reconciling(repo, () => running), this.deps.reconcilingAfterMs ?? 5000);
    reconciling.unref();
    let outcome: SyncOutcome;
    try {
      await withTimeout(Promise.race([this.fetchAndList(cache), this.stopping]), this.syncTimeoutMs());
      cache.lastError = undefined;
      cache.lastSyncTime = new Date();
      const schedule = repo.spec.sync?.schedule?.trim();
      const parsed = schedule ? parseSchedule(schedule) : undefined;
      outcome = {
        reason: parsed && !parsed.ok ? 'Error' : 'Ready',
        message: parsed && !parsed.ok ? `invalid spec.sync.schedule "${schedule}": ${parsed.error}` : 'Repository Ready',
        packageCount: new Set([...cache.records()].map((r) => r.packagePath)).size,
        gitCommitHash: cache.branchCommit,
        lastFullSyncTime: cache.lastSyncTime,
        staleDrafts: this.staleDrafts(cache),
        staleDraftAgeText: formatDuration(this.deps.staleDraftAgeMs ?? DEFAULT_STALE_DRAFT_AGE_MS),
      };
      await this.prune(cache, started);
    } catch (err) {
      const message = err instanceof SyncTimeoutError ? `repository sync ${err.message}` : errMessage(err);
      cache.lastError = message;
      this.log.warn('repository sync failed', { namespace: cache.namespace, repository: cache.name, error: message });
      outcome = { reason: 'Error', message };
    } finally {
      running = false;
      clearTimeout(reconciling);
    }
    if (!this.stopped && this.repos.get(k) === cache)
      await this.status.write(repo, {
        ...outcome,
        generation,
        nextFullSyncTime: this.syncPlan?.nextSyncTime(cache.namespace, cache.name),
        ...(opts.runOnceAt ? { observedRunOnceAt: opts.runOnceAt } : {}),
      });
    return {
      namespace: cache.namespace,
      name: cache.name,
      ready: outcome.reason === 'Ready',
      reason: outcome.reason,
      message: outcome.message,
      revisions: cache.size,
      packageCount: outcome.packageCount,
      gitCommitHash: outcome.gitCommitHash,
      ms: Date.now() - started,
    };
  }

  private async fetchAndList(cache: RepositoryCache): Promise<void> {
    if (!this.opened.has(cache)) {
      await cache.git.open();
      this.opened.add(cache);
    }
    await cache.refresh(true);
  }

  /** Delete PackageRevs whose revision the sync no longer found in git. Failures are logged, not fatal. */
  private async prune(cache: RepositoryCache, syncStarted: number): Promise<void> {
    // No branch head means nothing sensible was listed: never prune on that.
    if (!cache.branchCommit) return;
    await pruneOrphanedPackageRevs({
      store: this.store,
      namespace: cache.namespace,
      repository: cache.name,
      exists: (name) => cache.revision(name) !== undefined,
      createdBefore: syncStarted - (this.deps.pruneGraceMs ?? PRUNE_GRACE_MS),
      log: this.log,
    }).catch((err: unknown) => this.log.warn('could not prune package revision metadata', { namespace: cache.namespace, repository: cache.name, error: errMessage(err) }));
  }

  private staleDrafts(cache: RepositoryCache) {
    const maxAge = this.deps.staleDraftAgeMs ?? DEFAULT_STALE_DRAFT_AGE_MS;
    const stale = findStaleDrafts(cache.records(), Date.now(), maxAge);
    const k = key(cache.namespace, cache.name);
    const names = stale.map((d) => d.name).join(',');
    if (names !== (this.staleLogged.get(k) ?? '')) {
      this.staleLogged.set(k, names);
      if (stale.length)
        this.log.warn('stale draft package revisions (reported, not deleted)', {
          namespace: cache.namespace,
          repository: cache.name,
          olderThan: formatDuration(maxAge),
          drafts: stale.map((d) => ({ name: d.name, branch: d.ref, lastChanged: d.since.toISOString() })),
        });
    }
    return stale;
  }

  // ---- events ----

  private emitRevision(type: ChangeType, obj: PackageRevision, prev?: PackageRevision): void {
    this.revisionOrder.changed();
    this.revisionHub.publish({ type, object: obj, prev, rv: Number(obj.metadata.resourceVersion) });
  }

  private emitPackage(type: ChangeType, obj: PorchPackage, prev?: PorchPackage): void {
    this.packageOrder.changed();
    this.packageHub.publish({ type, object: obj, prev, rv: Number(obj.metadata.resourceVersion) });
  }

  // ---- queries ----

  /** In namespace/name order, as kube-apiserver lists. */
  listRevisions(namespace: string | undefined, match: (pr: PackageRevision) => boolean): PackageRevision[] {
    return this.revisionOrder.items().filter((pr) => (namespace === undefined || pr.metadata.namespace === namespace) && match(pr));
  }

  /** Find a revision by name: the repository is the first dot-separated part of the name. */
  findRevision(namespace: string, name: string): { cache: RepositoryCache; pr: PackageRevision } | undefined {
    const repoName = name.split('.')[0];
    const cache = this.repos.get(key(namespace, repoName));
    const pr = cache?.revision(name);
    return cache && pr ? { cache, pr } : undefined;
  }

  getRevision(namespace: string, name: string): { cache: RepositoryCache; pr: PackageRevision } {
    const found = this.findRevision(namespace, name);
    if (!found) throw errors.notFound(PR_GR, name);
    return found;
  }

  /** In namespace/name order, as kube-apiserver lists. */
  listPackages(namespace: string | undefined, match: (p: PorchPackage) => boolean): PorchPackage[] {
    return this.packageOrder.items().filter((p) => (namespace === undefined || p.metadata.namespace === namespace) && match(p));
  }

  getPackage(namespace: string, name: string): PorchPackage {
    const cache = this.repos.get(key(namespace, name.split('.')[0]));
    const p = cache?.package(name);
    if (!p) throw errors.notFound({ group: PORCH_GROUP, resource: 'packages' }, name);
    return p;
  }

  currentResourceVersion(): string {
    return String(this.rv.current());
  }
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
