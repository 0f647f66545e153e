import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import { normaliseRevisionFieldSelector, revisionMatcher } from '../lib/engine/fields.ts';
import { sortRevisions } from '../lib/engine/order.ts';
import { endpoint } from './http/endpoint.ts';
import type { HandlerEnv } from './http/env.ts';
import { allNamespacesPath, collectionPath } from './http/paths.ts';
import { PACKAGEREVISIONRESOURCES } from './http/porch-input.ts';
import { listQuery } from './http/query.ts';
import { listResponse } from './http/respond.ts';
import { errors } from '../lib/errors.ts';

const READ_CONCURRENCY = 16;

/** GET packagerevisionresources: the files of every matching revision (read from git on demand). */
export default function listPackageRevisionResources(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  const handler = endpoint(ctx.log, async (c) => {
    const q = listQuery(c);
    if (q.watch) throw errors.methodNotAllowed('watch', { group: 'porch.kpt.dev', resource: 'packagerevisionresources' });
    const namespace = c.req.param('namespace');
    const match = revisionMatcher(namespace, q.labelSelector, normaliseRevisionFieldSelector(q.fieldSelector));
    const revisions = sortRevisions(ctx.engine.listRevisions(namespace, match));
    const items = new Array(revisions.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(READ_CONCURRENCY, revisions.length) }, async () => {
        for (let i = next++; i < revisions.length; i = next++)
          items[i] = await ctx.ops.getResources(revisions[i].metadata.namespace ?? '', revisions[i].metadata.name ?? '');
      }),
    );
    return listResponse(c, PACKAGEREVISIONRESOURCES, items, ctx.engine.currentResourceVersion());
  });
  app.get(collectionPath(PACKAGEREVISIONRESOURCES), handler);
  app.get(allNamespacesPath(PACKAGEREVISIONRESOURCES), handler);
  return app;
}
