import type { AppContext } from '../lib/context.ts';
import { normaliseRevisionFieldSelector, revisionMatcher } from '../lib/engine/fields.ts';
import { listEndpoint } from './http/list-endpoint.ts';
import { PACKAGEREVISIONS } from '../lib/api/resources.ts';
import { listResponse, negotiate } from './http/respond.ts';
import { hubWatchResponse } from './http/hub-watch.ts';

/** GET packagerevisions (one namespace or all), and their watch. */
export default function listPackageRevisions(ctx: AppContext) {
  return listEndpoint(ctx, PACKAGEREVISIONS, (c, q) => {
    const namespace = q.namespace;
    const match = revisionMatcher(namespace, q.labelSelector, normaliseRevisionFieldSelector(q.fieldSelector));
    const table = negotiate(c).table;
    if (q.watch)
      return hubWatchResponse(ctx, q, { res: PACKAGEREVISIONS, table, hub: ctx.engine.revisionHub, match, current: () => ctx.engine.listRevisions(namespace, match) });
    const rv = ctx.engine.currentResourceVersion();
    return listResponse(c, PACKAGEREVISIONS, ctx.engine.listRevisions(namespace, match), rv);
  });
}
