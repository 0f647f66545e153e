import type { AppContext } from '../lib/context.ts';
import { PACKAGEREVISIONRESOURCES } from '../lib/api/resources.ts';
import { normaliseRevisionFieldSelector, revisionMatcher } from '../lib/engine/fields.ts';
import { resourcesListing, type ResourcesFollow } from '../lib/engine/resources-listing.ts';
import { watchStart } from './http/hub-watch.ts';
import { listEndpoint } from './http/list-endpoint.ts';
import { listResponse, negotiate } from './http/respond.ts';
import { watchResponse, type AsyncWatchSource } from './http/watch-stream.ts';

/**
 * GET packagerevisionresources: the files of every matching revision (read from git on demand), and
 * their watch, which follows the package revisions' events with each revision's files read for it.
 */
export default function listPackageRevisionResources(ctx: AppContext) {
  const listing = resourcesListing(ctx.engine, ctx.ops);
  return listEndpoint(ctx, PACKAGEREVISIONRESOURCES, async (c, q) => {
    const namespace = q.namespace;
    const match = revisionMatcher(namespace, q.labelSelector, normaliseRevisionFieldSelector(q.fieldSelector));
    if (q.watch) {
      const from = watchStart(q.resourceVersion);
      let follow: ResourcesFollow | undefined;
      return watchResponse({
        res: PACKAGEREVISIONRESOURCES,
        table: negotiate(c).table,
        timeoutSeconds: q.timeoutSeconds,
        bookmarks: q.allowWatchBookmarks,
        initialEventsEnd: q.sendInitialEvents || from === undefined,
        currentResourceVersion: () => follow?.resourceVersion() ?? ctx.engine.currentResourceVersion(),
        subscribe: (send, fail): AsyncWatchSource => (follow = listing.follow({ namespace, match, from, send, fail })),
        onShutdown: ctx.shutdown.onShutdown,
      });
    }
    return listResponse(c, PACKAGEREVISIONRESOURCES, await listing.list(namespace, match), ctx.engine.currentResourceVersion());
  });
}
