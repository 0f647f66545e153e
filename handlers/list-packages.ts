import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import { normalisePackageFieldSelector, packageMatcher } from '../lib/engine/fields.ts';
import { endpoint } from './http/endpoint.ts';
import type { HandlerEnv } from './http/env.ts';
import { allNamespacesPath, collectionPath, watchPaths } from './http/paths.ts';
import { PACKAGES } from './http/porch-input.ts';
import { listQuery } from './http/query.ts';
import { listResponse, negotiate } from './http/respond.ts';
import { hubWatchResponse } from './http/hub-watch.ts';

/** GET packages: one per package path, with its latest published revision. */
export default function listPackages(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  const run = (forceWatch: boolean) =>
    endpoint(ctx.log, async (c) => {
      const q = listQuery(c);
      const namespace = q.namespace;
      const match = packageMatcher(namespace, q.labelSelector, normalisePackageFieldSelector(q.fieldSelector));
      if (q.watch || forceWatch)
        return hubWatchResponse(ctx, q, { res: PACKAGES, table: negotiate(c).table, hub: ctx.engine.packageHub, match, current: () => ctx.engine.listPackages(namespace, match) });
      return listResponse(c, PACKAGES, ctx.engine.listPackages(namespace, match), ctx.engine.currentResourceVersion());
    });
  app.get(collectionPath(PACKAGES), run(false));
  app.get(allNamespacesPath(PACKAGES), run(false));
  for (const p of watchPaths(PACKAGES)) app.get(p, run(true));
  return app;
}
