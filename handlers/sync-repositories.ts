import type { AppContext } from '../lib/context.ts';
import { errors } from '../lib/errors.ts';
import type { SyncReport } from '../lib/sync/runner.ts';
import { SYNC_PATH } from '../lib/sync/scheduler.ts';
import { parseTime } from '../lib/sync/schedule.ts';
import { route } from './http/endpoint.ts';
import { jsonResponse } from './http/respond.ts';

export { SYNC_PATH };

/**
 * Sync repositories with git: one (`?namespace=&name=`, with `&runOnceAt=` when the firing honours
 * `spec.sync.runOnceAt`), every one of a namespace (`?namespace=`), or all. The single entry point of
 * every sync (the sync scheduler fires it); not part of the Kubernetes API surface (the gateway does
 * not serve it). Answers when the syncs are over: a repository that fails or times out is reported,
 * not an error.
 */
export default function syncRepositories(ctx: AppContext) {
  return route(ctx, 'POST', SYNC_PATH, async (c) => {
    const namespace = c.req.query('namespace') || undefined;
    const name = c.req.query('name') || undefined;
    const runOnceAt = c.req.query('runOnceAt') || undefined;
    if (name && !namespace) throw errors.badRequest('name needs namespace');
    if (runOnceAt && !name) throw errors.badRequest('runOnceAt needs namespace and name');
    if (runOnceAt && parseTime(runOnceAt) === undefined) throw errors.badRequest(`runOnceAt "${runOnceAt}" is not an RFC 3339 time`);
    const started = performance.now();
    const synced: SyncReport[] = namespace && name ? [await ctx.sync.sync(namespace, name, { runOnceAt })] : await ctx.sync.syncAll(namespace);
    return jsonResponse({ synced, ms: Math.round(performance.now() - started) });
  });
}
