import { Hono } from 'hono';
import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { endpoint } from './endpoint.ts';
import type { HandlerContext, HandlerEnv } from './env.ts';
import { allNamespacesPath, collectionPath, watchPaths } from './paths.ts';
import { listQuery, type ListQuery } from './query.ts';

/**
 * A list handler at a resource's collection paths (one namespace and all namespaces), and at the legacy
 * `/watch/` paths, where the request is a watch whatever its query says.
 */
export function listEndpoint(ctx: AppContext, res: ResourceDescriptor, serve: (c: HandlerContext, q: ListQuery) => Promise<Response> | Response): Hono<HandlerEnv> {
  const app = new Hono<HandlerEnv>();
  const run = (forceWatch: boolean) =>
    endpoint(ctx.log, (c) => {
      const q = listQuery(c);
      return serve(c, forceWatch ? { ...q, watch: true } : q);
    });
  app.get(collectionPath(res), run(false));
  if (res.namespaced) app.get(allNamespacesPath(res), run(false));
  for (const p of watchPaths(res)) app.get(p, run(true));
  return app;
}
