import type { Hono } from 'hono';
import type { HandlerEnv } from '../handlers/http/env.ts';
import type { AppContext } from '../lib/context.ts';
import type { Logger } from '../lib/log.ts';
import { systemClock, type Clock } from '../lib/sync/clock.ts';
import { SyncPlanner, type SyncRequest } from '../lib/sync/planner.ts';
import { followRepositories } from '../lib/sync/repository-feed.ts';
import { SYNC_PATH } from '../handlers/sync-repositories.ts';

export interface SyncSchedulerOptions {
  /** Default period for repositories without `spec.sync.schedule`; 0: only schedules and runOnceAt. */
  intervalMs: number;
  log: Logger;
  clock?: Clock;
}

/**
 * Fires the sync-repositories handler for each Repository when its plan says so (lib/sync/planner.ts),
 * through the handler's HTTP interface, so a sync runs exactly as it would when invoked on its own.
 */
export class SyncScheduler {
  readonly planner: SyncPlanner;
  private stopFeed: (() => void) | undefined;

  constructor(
    private readonly ctx: AppContext,
    private readonly handler: Hono<HandlerEnv>,
    private readonly opts: SyncSchedulerOptions,
  ) {
    this.planner = new SyncPlanner({
      clock: opts.clock ?? systemClock,
      defaultPeriodMs: opts.intervalMs,
      fire: (req) => this.fire(req),
      log: opts.log,
    });
  }

  async start(): Promise<void> {
    this.ctx.engine.setSyncPlan(this.planner);
    this.stopFeed = await followRepositories(this.ctx.store, this.planner, this.opts.log);
  }

  async fire(req: SyncRequest): Promise<void> {
    const query = new URLSearchParams({ namespace: req.namespace, name: req.name });
    if (req.runOnceAt) query.set('runOnceAt', req.runOnceAt);
    const res = await this.handler.request(new Request(`http://scheduler${SYNC_PATH}?${query}`, { method: 'POST' }));
    const body = await res.text();
    const fields = { namespace: req.namespace, repository: req.name, cause: req.cause };
    if (res.status >= 300) {
      this.opts.log.warn('scheduled sync failed', { ...fields, status: res.status, body });
      return;
    }
    const result = JSON.parse(body) as { synced: { ready: boolean; message: string; ms: number }[] };
    for (const r of result.synced) {
      if (r.ready) this.opts.log.debug('scheduled sync', { ...fields, ms: r.ms });
      else this.opts.log.warn('scheduled sync: repository not ready', { ...fields, ms: r.ms, error: r.message });
    }
  }

  stop(): void {
    this.stopFeed?.();
    this.planner.stop();
    this.ctx.engine.setSyncPlan(undefined);
  }
}

/** "10m", "30s", "1h", "30d", "500ms" or plain seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}" (use e.g. 30s, 10m, 1h, 30d)`);
  const n = Number(m[1]);
  const scale: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Math.round(n * scale[m[2] ?? 's']);
}
