import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { listEndpoint } from '../http/list-endpoint.ts';
import { listResponse, negotiate } from '../http/respond.ts';
import { watchResponse } from '../http/watch-stream.ts';

/** LIST (and ?watch) of a store-served resource, in one namespace or across all. */
export function listStoreObjects(res: ResourceDescriptor) {
  return (ctx: AppContext) =>
    listEndpoint(ctx, res, async (c, q) => {
      const { namespace, fieldSelector } = q;
      const table = negotiate(c).table;
      if (q.watch) {
        return watchResponse({
          res,
          table,
          timeoutSeconds: q.timeoutSeconds,
          bookmarks: q.allowWatchBookmarks,
          initialEventsEnd: q.sendInitialEvents,
          currentResourceVersion: () => ctx.store.currentResourceVersion(),
          subscribe: (send) => ctx.store.watch(res, { namespace, labelSelector: q.labelSelector, fieldSelector, resourceVersion: q.resourceVersion, send }),
          onShutdown: ctx.shutdown.onShutdown,
        });
      }
      const { items, resourceVersion } = await ctx.store.list(res, { namespace, labelSelector: q.labelSelector, fieldSelector });
      return listResponse(c, res, items, resourceVersion);
    });
}
