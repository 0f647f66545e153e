import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import { normaliseRevisionFieldSelector, revisionMatcher } from '../lib/engine/fields.ts';
import { resourcesListing, type ResourcesFollow } from '../lib/engine/resources-listing.ts';
import { endpoint } from './http/endpoint.ts';
import type { HandlerEnv } from './http/env.ts';
import { allNamespacesPath, collectionPath, watchPaths } from './http/paths.ts';
import { PACKAGEREVISIONRESOURCES } from '../lib/api/resources.ts';
import { listQuery } from './http/query.ts';
import { listResponse, negotiate } from './http/respond.ts';
import { watchStart } from './http/hub-watch.ts';
import { watchResponse, type AsyncWatchSource } from './http/watch-stream.ts';

/**
 * GET packagerevisionresources: the files of every matching revision (read from git on demand), and
 * their watch, which follows the package revisions' events with each revision's files read for it.
 */
export default function listPackageRevisionResources(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  const listing = resourcesListing(ctx.engine, ctx.ops);

  const run = (forceWatch: boolean) =>
    endpoint(ctx.log, async (c) => {
      const q = listQuery(c);
      const namespace = q.namespace;
      const match = revisionMatcher(namespace, q.labelSelector, normaliseRevisionFieldSelector(q.fieldSelector));
      const table = negotiate(c).table;
      if (q.watch || forceWatch) {
        const from = watchStart(q.resourceVersion);
        let follow: ResourcesFollow | undefined;
        return watchResponse({
          res: PACKAGEREVISIONRESOURCES,
          table,
          timeoutSeconds: q.timeoutSeconds,
          bookmarks: q.allowWatchBookmarks,
          initialEventsEnd: q.sendInitialEvents || from === undefined,
          currentResourceVersion: () => follow?.resourceVersion() ?? ctx.engine.currentResourceVersion(),
          subscribe: (send, fail): AsyncWatchSource => (follow = listing.follow({ namespace, match, from, send, fail })),
          onShutdown: ctx.shutdown.onShutdown,
        });
      }
      const items = await listing.list(namespace, match);
      return listResponse(c, PACKAGEREVISIONRESOURCES, items, ctx.engine.currentResourceVersion());
    });
  app.get(collectionPath(PACKAGEREVISIONRESOURCES), run(false));
  app.get(allNamespacesPath(PACKAGEREVISIONRESOURCES), run(false));
  for (const p of watchPaths(PACKAGEREVISIONRESOURCES)) app.get(p, run(true));
  return app;
}
