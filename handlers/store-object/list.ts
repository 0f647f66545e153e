import { Hono } from 'hono';
import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { endpoint } from '../http/endpoint.ts';
import type { HandlerContext, HandlerEnv } from '../http/env.ts';
import { allNamespacesPath, collectionPath, watchPaths } from '../http/paths.ts';
import { listQuery } from '../http/query.ts';
import { listResponse, negotiate } from '../http/respond.ts';
import { watchResponse } from '../http/watch-stream.ts';

/** LIST (and ?watch) of a store-served resource, in one namespace or across all. */
export function listStoreObjects(res: ResourceDescriptor) {
  return (ctx: AppContext) => {
    const app = new Hono<HandlerEnv>();
    const run = (forceWatch: boolean) =>
      endpoint(ctx.log, async (c: HandlerContext) => {
        const q = listQuery(c);
        const { namespace, fieldSelector } = q;
        const table = negotiate(c).table;
        if (q.watch || forceWatch) {
          return watchResponse({
            res,
            table,
            timeoutSeconds: q.timeoutSeconds,
            bookmarks: q.allowWatchBookmarks,
            initialEventsEnd: q.sendInitialEvents,
            currentResourceVersion: () => ctx.store.currentResourceVersion(),
            subscribe: (send) =>
              ctx.store.watch(res, { namespace, labelSelector: q.labelSelector, fieldSelector, resourceVersion: q.resourceVersion, send }),
            onShutdown: ctx.shutdown.onShutdown,
          });
        }
        const { items, resourceVersion } = await ctx.store.list(res, { namespace, labelSelector: q.labelSelector, fieldSelector });
        return listResponse(c, res, items, resourceVersion);
      });
    app.get(collectionPath(res), run(false));
    if (res.namespaced) app.get(allNamespacesPath(res), run(false));
    for (const p of watchPaths(res)) app.get(p, run(true));
    return app;
  };
}
