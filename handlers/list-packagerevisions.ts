import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import { normaliseRevisionFieldSelector, revisionMatcher } from '../lib/engine/fields.ts';
import { endpoint } from './http/endpoint.ts';
import type { HandlerEnv } from './http/env.ts';
import { allNamespacesPath, collectionPath, watchPaths } from './http/paths.ts';
import { PACKAGEREVISIONS } from './http/porch-input.ts';
import { listQuery } from './http/query.ts';
import { listResponse, negotiate } from './http/respond.ts';
import { hubWatchResponse } from './http/hub-watch.ts';

/** GET packagerevisions (one namespace or all), and their watch. */
export default function listPackageRevisions(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  const run = (forceWatch: boolean) =>
    endpoint(ctx.log, async (c) => {
      const q = listQuery(c);
      const namespace = q.namespace;
      const match = revisionMatcher(namespace, q.labelSelector, normaliseRevisionFieldSelector(q.fieldSelector));
      const table = negotiate(c).table;
      if (q.watch || forceWatch)
        return hubWatchResponse(ctx, q, { res: PACKAGEREVISIONS, table, hub: ctx.engine.revisionHub, match, current: () => ctx.engine.listRevisions(namespace, match) });
      const rv = ctx.engine.currentResourceVersion();
      return listResponse(c, PACKAGEREVISIONS, ctx.engine.listRevisions(namespace, match), rv);
    });
  app.get(collectionPath(PACKAGEREVISIONS), run(false));
  app.get(allNamespacesPath(PACKAGEREVISIONS), run(false));
  for (const p of watchPaths(PACKAGEREVISIONS)) app.get(p, run(true));
  return app;
}
