import type { Repository } from '../api/repository.ts';
import type { RepositoryCache } from '../cache/repository-cache.ts';
import { REPOSITORIES, type Engine } from '../engine/engine.ts';
import { errors, errMessage } from '../errors.ts';
import { forEachBounded, formatDuration, SyncTimeoutError, withTimeout } from './limits.ts';
import type { SyncPlanView } from './planner.ts';
import { pruneOrphanedPackageRevs } from './prune.ts';
import { parseSchedule } from './schedule.ts';
import { findStaleDrafts } from './stale-drafts.ts';
import { RepositoryStatusWriter, type SyncOutcome } from './status.ts';

export interface SyncRunnerOptions {
  /** A repository sync taking longer is abandoned and reported as Ready=False "timed out" (default 2 min). */
  repositorySyncTimeoutMs?: number;
  /** A sync still running after this long shows Ready=False, reason Reconciling (default 5 s). */
  reconcilingAfterMs?: number;
  /** Drafts whose branch has not moved for longer are reported (default 30 days; 0: never). */
  staleDraftAgeMs?: number;
  /** PackageRevs younger than this are never pruned: their revision's commit may not be listed yet (default 1 min). */
  pruneGraceMs?: number;
}

const DEFAULT_REPOSITORY_SYNC_TIMEOUT_MS = 120_000;
const DEFAULT_STALE_DRAFT_AGE_MS = 30 * 86_400_000;
const PRUNE_GRACE_MS = 60_000;
/** Repositories synced at once when one request asks for many; each is bounded by the sync timeout. */
const PARALLEL = 8;

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

/**
 * The one way a repository is synced with git, whatever asked for it (its schedule, runOnceAt,
 * start-up, a change of the Repository): open it if that never succeeded, fetch and list, prune the
 * metadata of revisions gone from git, look for stale drafts, and record the outcome in the
 * Repository's status. Only the sync-repositories handler calls it.
 */
export class SyncRunner {
  private readonly status: RepositoryStatusWriter;
  /** Caches whose git repository was opened (connectivity checked, branch ensured). */
  private readonly opened = new WeakSet<RepositoryCache>();
  /** Stale drafts last logged per repository, so each change is logged once rather than every sync. */
  private readonly staleLogged = new Map<string, string>();
  private readonly skippedLogged = new Map<string, string>();
  private plan: SyncPlanView | undefined;
  private stopped = false;
  /** Settles (rejects) at stop(): syncs in progress are abandoned instead of holding up shutdown. */
  private readonly stopping: Promise<never>;
  private abandon: (err: Error) => void = () => undefined;

  constructor(
    private readonly engine: Engine,
    private readonly opts: SyncRunnerOptions = {},
  ) {
    this.status = new RepositoryStatusWriter(engine.store, engine.log);
    // A write through the API shows in status at once, not at the next sync; through the same writer,
    // so it queues behind (never under) a sync's own status write.
    engine.onGitStateChanged((cache, state) => {
      if (!this.stopped) void this.status.gitState(cache.repo, state);
    });
    this.stopping = new Promise<never>((_, reject) => (this.abandon = reject));
    this.stopping.catch(() => undefined);
  }

  /** Where `status.nextFullSyncTime` comes from: the sync scheduler, while it runs. */
  setPlan(plan: SyncPlanView | undefined): void {
    this.plan = plan;
  }

  stop(): void {
    this.stopped = true;
    this.abandon(new Error('the server is stopping'));
  }

  /** Every repository (of one namespace, or all), a few at a time; one deleted meanwhile is left out. */
  async syncAll(namespace?: string): Promise<SyncReport[]> {
    const { items } = await this.engine.store.list(REPOSITORIES, { namespace });
    const synced: SyncReport[] = [];
    await forEachBounded(items as Repository[], PARALLEL, async (r) => {
      const report = await this.sync(r.metadata.namespace ?? 'default', r.metadata.name ?? '').catch(() => undefined);
      if (report) synced.push(report);
    });
    return synced;
  }

  /** Sync one repository. `runOnceAt` is the `spec.sync.runOnceAt` this sync honours, recorded as observed. */
  async sync(namespace: string, name: string, opts: { runOnceAt?: string } = {}): Promise<SyncReport> {
    const found = await this.engine.cacheFor(namespace, name);
    if (!found) throw errors.notFound({ group: REPOSITORIES.group, resource: REPOSITORIES.plural }, name);
    if ('error' in found) {
      const { repo, error: message } = found;
      this.engine.log.warn('repository sync failed', { namespace, repository: name, error: message });
      if (!this.stopped)
        await this.status.write(repo, {
          reason: 'Error',
          message,
          generation: repo.metadata.generation,
          nextFullSyncTime: this.plan?.nextSyncTime(namespace, name),
          ...(opts.runOnceAt ? { observedRunOnceAt: opts.runOnceAt } : {}),
        });
      return { namespace, name, ready: false, reason: 'Error', message, revisions: 0, ms: 0 };
    }
    return this.syncCache(found.cache, opts);
  }

  private timeoutMs(): number {
    return this.opts.repositorySyncTimeoutMs ?? DEFAULT_REPOSITORY_SYNC_TIMEOUT_MS;
  }

  /** Bounded by the sync timeout; Ready=False reason Reconciling is shown only if it runs long enough for anyone to notice. */
  private async syncCache(cache: RepositoryCache, opts: { runOnceAt?: string }): Promise<SyncReport> {
    const repo = cache.repo;
    const generation = repo.metadata.generation;
    const started = Date.now();
    let running = true;
    const reconciling = setTimeout(() => void this.status.reconciling(repo, () => running), this.opts.reconcilingAfterMs ?? 5000);
    reconciling.unref();
    let outcome: SyncOutcome;
    try {
      await withTimeout(Promise.race([this.fetchAndList(cache), this.stopping]), this.timeoutMs());
      cache.lastError = undefined;
      cache.lastSyncTime = new Date();
      const schedule = repo.spec.sync?.schedule?.trim();
      const parsed = schedule ? parseSchedule(schedule) : undefined;
      outcome = {
        reason: parsed && !parsed.ok ? 'Error' : 'Ready',
        message: parsed && !parsed.ok ? `invalid spec.sync.schedule "${schedule}": ${parsed.error}` : 'Repository Ready',
        ...cache.gitState,
        currentGitState: () => cache.gitState,
        lastFullSyncTime: cache.lastSyncTime,
        skippedRefs: this.skippedRefs(cache),
        staleDrafts: this.staleDrafts(cache),
        staleDraftAgeText: formatDuration(this.opts.staleDraftAgeMs ?? DEFAULT_STALE_DRAFT_AGE_MS),
      };
      await this.prune(cache, started);
      this.engine.log.info('repository sync finished', {
        namespace: cache.namespace,
        repository: cache.name,
        revisions: cache.size,
        packages: outcome.packageCount,
        commit: cache.branchCommit,
        ms: Date.now() - started,
      });
    } catch (err) {
      const message = err instanceof SyncTimeoutError ? `repository sync ${err.message}` : errMessage(err);
      cache.lastError = message;
      this.engine.log.warn('repository sync failed', { namespace: cache.namespace, repository: cache.name, error: message });
      outcome = { reason: 'Error', message };
    } finally {
      running = false;
      clearTimeout(reconciling);
    }
    if (!this.stopped && this.engine.repository(cache.namespace, cache.name) === cache)
      await this.status.write(repo, {
        ...outcome,
        generation,
        nextFullSyncTime: this.plan?.nextSyncTime(cache.namespace, cache.name),
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
      // Opening brings a remote's mirror up to the remote: the first listing reads that mirror rather
      // than asking for the ref advertisement (thousands of refs) a second time.
      await cache.open();
      this.opened.add(cache);
      await cache.refresh(false);
      return;
    }
    await cache.refresh(true);
  }

  /** Delete PackageRevs whose revision the sync no longer found in git. Failures are logged, not fatal. */
  private async prune(cache: RepositoryCache, syncStarted: number): Promise<void> {
    // No branch head means nothing sensible was listed: never prune on that.
    if (!cache.branchCommit) return;
    await pruneOrphanedPackageRevs({
      store: this.engine.store,
      namespace: cache.namespace,
      repository: cache.name,
      exists: (name) => cache.revision(name) !== undefined,
      createdBefore: syncStarted - (this.opts.pruneGraceMs ?? PRUNE_GRACE_MS),
      log: this.engine.log,
    }).catch((err: unknown) => this.engine.log.warn('could not prune package revision metadata', { namespace: cache.namespace, repository: cache.name, error: errMessage(err) }));
  }

  /** The refs the listing left out, logged once per change (the condition shows them meanwhile). */
  private skippedRefs(cache: RepositoryCache) {
    const k = `${cache.namespace}/${cache.name}`;
    const refs = cache.skippedRefs.map((s) => s.ref).join(',');
    if (refs !== (this.skippedLogged.get(k) ?? '')) {
      this.skippedLogged.set(k, refs);
      if (refs) this.engine.log.warn('refs skipped: their trees hold paths git refuses to check out', { namespace: cache.namespace, repository: cache.name, refs: cache.skippedRefs });
    }
    return cache.skippedRefs;
  }

  private staleDrafts(cache: RepositoryCache) {
    const maxAge = this.opts.staleDraftAgeMs ?? DEFAULT_STALE_DRAFT_AGE_MS;
    const stale = findStaleDrafts(cache.records(), Date.now(), maxAge);
    const k = `${cache.namespace}/${cache.name}`;
    const names = stale.map((d) => d.name).join(',');
    if (names !== (this.staleLogged.get(k) ?? '')) {
      this.staleLogged.set(k, names);
      if (stale.length)
        this.engine.log.warn('stale draft package revisions (reported, not deleted)', {
          namespace: cache.namespace,
          repository: cache.name,
          olderThan: formatDuration(maxAge),
          drafts: stale.map((d) => ({ name: d.name, branch: d.ref, lastChanged: d.since.toISOString() })),
        });
    }
    return stale;
  }
}
