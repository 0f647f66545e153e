import type { AppContext } from '../lib/context.ts';
import { normalisePackageFieldSelector, packageMatcher } from '../lib/engine/fields.ts';
import { listEndpoint } from './http/list-endpoint.ts';
import { PACKAGES } from '../lib/api/resources.ts';
import { listResponse, negotiate } from './http/respond.ts';
import { hubWatchResponse } from './http/hub-watch.ts';

/** GET packages: one per package path, with its latest published revision. */
export default function listPackages(ctx: AppContext) {
  return listEndpoint(ctx, PACKAGES, (c, q) => {
    const namespace = q.namespace;
    const match = packageMatcher(namespace, q.labelSelector, normalisePackageFieldSelector(q.fieldSelector));
    if (q.watch)
      return hubWatchResponse(ctx, q, { res: PACKAGES, table: negotiate(c).table, hub: ctx.engine.packageHub, match, current: () => ctx.engine.listPackages(namespace, match) });
    return listResponse(c, PACKAGES, ctx.engine.listPackages(namespace, match), ctx.engine.currentResourceVersion());
  });
}
