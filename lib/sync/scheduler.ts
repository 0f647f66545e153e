import type { Repository } from '../api/repository.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';
import { systemClock, type Clock } from './clock.ts';
import { forEachBounded } from './limits.ts';
import { SyncPlanner, type SyncRequest } from './planner.ts';
import { followRepositories } from './repository-feed.ts';
import type { SyncReport, SyncRunner } from './runner.ts';

/** Where the sync-repositories handler is mounted; every sync goes through it. */
export const SYNC_PATH = '/internal/sync-repositories';

/** The sync-repositories handler, as the scheduler calls it: a Request in, a Response out. */
export interface SyncHandler {
  request(req: Request): Response | Promise<Response>;
}

export interface SyncSchedulerOptions {
  store: Store;
  /** Told the plan, so the status it writes names the next sync. */
  runner: SyncRunner;
  handler: SyncHandler;
  /** Default period for repositories without `spec.sync.schedule`; 0: only schedules and runOnceAt. */
  intervalMs: number;
  log: Logger;
  clock?: Clock;
  /** Repositories synced at once at start-up (default 4). */
  startupConcurrency?: number;
}

/**
 * Every reason to sync a repository, in one place: each Repository once at start-up (a few at a
 * time), whenever one is created or its spec changes (a new generation), on its schedule or the
 * default period, and at its runOnceAt (lib/sync/planner.ts). Each firing calls the
 * sync-repositories handler, so a sync runs exactly as it would when asked for on its own.
 */
export class SyncScheduler {
  readonly planner: SyncPlanner;
  /** Settles when the start-up sync of every repository is over (synced, failed or timed out). */
  initialSync: Promise<void> = Promise.resolve();
  /** The generation each Repository was last seen with: a new one is a spec change to sync. */
  private readonly generations = new Map<string, number | undefined>();
  private startup: SyncRequest[] | undefined;
  private stopFeed: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly opts: SyncSchedulerOptions) {
    this.planner = new SyncPlanner({
      clock: opts.clock ?? systemClock,
      defaultPeriodMs: opts.intervalMs,
      fire: (req) => this.fire(req),
      log: opts.log,
    });
  }

  /** Follow the Repositories; resolves once they are listed, leaving the start-up syncs running. */
  async start(): Promise<void> {
    this.opts.runner.setPlan(this.planner);
    this.startup = [];
    this.stopFeed = await followRepositories(
      this.opts.store,
      {
        upsert: (repo) => this.upsert(repo),
        remove: (namespace, name) => {
          this.generations.delete(`${namespace}/${name}`);
          this.planner.remove(namespace, name);
        },
        keys: () => this.planner.keys(),
      },
      this.opts.log,
    );
    const startup = this.startup;
    this.startup = undefined;
    this.initialSync = forEachBounded(startup, this.opts.startupConcurrency ?? 4, (req) => (this.stopped ? Promise.resolve() : this.fire(req)));
  }

  private upsert(repo: Repository): void {
    if (this.stopped) return;
    this.planner.upsert(repo);
    const namespace = repo.metadata.namespace ?? 'default';
    const name = repo.metadata.name ?? '';
    const k = `${namespace}/${name}`;
    const known = this.generations.has(k);
    const changed = known && this.generations.get(k) !== repo.metadata.generation;
    this.generations.set(k, repo.metadata.generation);
    if (this.startup && !known) this.startup.push({ namespace, name, cause: 'startup' });
    else if (!known || changed) void this.fire({ namespace, name, cause: 'change' });
  }

  async fire(req: SyncRequest): Promise<void> {
    const query = new URLSearchParams({ namespace: req.namespace, name: req.name });
    if (req.runOnceAt) query.set('runOnceAt', req.runOnceAt);
    const fields = { namespace: req.namespace, repository: req.name, cause: req.cause };
    let res: Response;
    try {
      res = await this.opts.handler.request(new Request(`http://scheduler${SYNC_PATH}?${query}`, { method: 'POST' }));
    } catch (err) {
      this.opts.log.warn('sync failed', { ...fields, error: String(err) });
      return;
    }
    const body = await res.text();
    if (res.status >= 300) {
      this.opts.log.warn('sync failed', { ...fields, status: res.status, body });
      return;
    }
    const result = JSON.parse(body) as { synced: Pick<SyncReport, 'ready' | 'message' | 'ms'>[] };
    for (const r of result.synced) {
      if (r.ready) this.opts.log.debug('repository synced', { ...fields, ms: r.ms });
      else this.opts.log.warn('repository sync: not ready', { ...fields, ms: r.ms, error: r.message });
    }
  }

  stop(): void {
    this.stopped = true;
    this.stopFeed?.();
    this.planner.stop();
    this.opts.runner.setPlan(undefined);
  }
}
