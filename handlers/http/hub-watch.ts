import type { KubeObject } from '../../lib/api/meta.ts';
import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { errors } from '../../lib/errors.ts';
import type { WatchHub } from '../../lib/watch/hub.ts';
import type { ListQuery } from './query.ts';
import { watchResponse } from './watch-stream.ts';

/** Where a watch starts: undefined ("now", after the current state as ADDED) or after a resourceVersion. */
export function watchStart(resourceVersion: string | undefined): number | undefined {
  if (!resourceVersion || resourceVersion === '0') return undefined;
  const rv = Number(resourceVersion);
  if (!Number.isSafeInteger(rv) || rv < 0) throw errors.badRequest(`invalid resourceVersion "${resourceVersion}"`);
  return rv;
}

/**
 * A watch of engine-served objects: the current selection as ADDED (unless resuming), then the
 * hub's events from the start point, filtered by the same selection.
 */
export function hubWatchResponse<T extends KubeObject>(
  ctx: AppContext,
  q: ListQuery,
  opts: { res: ResourceDescriptor; table: boolean; hub: WatchHub<T>; match: (obj: T) => boolean; current: () => T[] },
): Response {
  const from = watchStart(q.resourceVersion);
  return watchResponse({
    res: opts.res,
    table: opts.table,
    timeoutSeconds: q.timeoutSeconds,
    bookmarks: q.allowWatchBookmarks,
    initialEventsEnd: q.sendInitialEvents || from === undefined,
    currentResourceVersion: () => ctx.engine.currentResourceVersion(),
    subscribe: (send) => {
      if (from === undefined) for (const obj of opts.current()) send({ type: 'ADDED', object: obj });
      return opts.hub.subscribe({ fromRV: from, filter: opts.match, send });
    },
    onShutdown: ctx.shutdown.onShutdown,
  });
}
