import { Hono } from 'hono';
import type { Repository } from '../lib/api/repository.ts';
import type { AppContext } from '../lib/context.ts';
import { REPOSITORIES, type SyncReport } from '../lib/engine/engine.ts';
import { errors } from '../lib/errors.ts';
import { forEachBounded } from '../lib/sync/limits.ts';
import { parseTime } from '../lib/sync/schedule.ts';
import { endpoint } from './http/endpoint.ts';
import type { HandlerEnv } from './http/env.ts';
import { jsonResponse } from './http/respond.ts';

export const SYNC_PATH = '/internal/sync-repositories';

/** Repositories synced at once when one request asks for many; each is bounded by the sync timeout. */
const PARALLEL = 8;

/**
 * Sync repositories with git: one (`?namespace=&name=`, with `&runOnceAt=` when the firing honours
 * `spec.sync.runOnceAt`), every one of a namespace (`?namespace=`), or all. The sync scheduler's
 * single entry point; not part of the Kubernetes API surface (the gateway does not serve it).
 * Answers when the syncs are over: a repository that fails or times out is reported, not an error.
 */
export default function syncRepositories(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  app.post(
    SYNC_PATH,
    endpoint(ctx.log, async (c) => {
      const namespace = c.req.query('namespace') || undefined;
      const name = c.req.query('name') || undefined;
      const runOnceAt = c.req.query('runOnceAt') || undefined;
      if (name && !namespace) throw errors.badRequest('name needs namespace');
      if (runOnceAt && !name) throw errors.badRequest('runOnceAt needs namespace and name');
      if (runOnceAt && parseTime(runOnceAt) === undefined) throw errors.badRequest(`runOnceAt "${runOnceAt}" is not an RFC 3339 time`);
      const started = performance.now();
      let synced: SyncReport[];
      if (namespace && name) {
        synced = [await ctx.engine.syncRepository(namespace, name, { runOnceAt })];
      } else {
        const { items } = await ctx.store.list(REPOSITORIES, { namespace });
        synced = [];
        await forEachBounded(items as Repository[], PARALLEL, async (r) => {
          const ns = r.metadata.namespace ?? 'default';
          const n = r.metadata.name ?? '';
          // Deleted since the list: nothing to report.
          const report = await ctx.engine.syncRepository(ns, n).catch(() => undefined);
          if (report) synced.push(report);
        });
      }
      return jsonResponse({ synced, ms: Math.round(performance.now() - started) });
    }),
  );
  return app;
}
