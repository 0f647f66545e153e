import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import { endpoint } from './http/endpoint.ts';
import type { HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { PACKAGEREVISIONRESOURCES } from '../lib/api/resources.ts';
import { objectResponse } from './http/respond.ts';
import { errors } from '../lib/errors.ts';
import { PRR_GR } from '../lib/engine/gr.ts';

/** GET packagerevisionresources/<name>: the files of one revision. */
export default function getPackageRevisionResources(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  app.get(
    itemPath(PACKAGEREVISIONRESOURCES),
    endpoint(ctx.log, async (c) => {
      const namespace = c.req.param('namespace') ?? '';
      const name = c.req.param('name') ?? '';
      if (!ctx.engine.findRevision(namespace, name)) throw errors.notFound(PRR_GR, name);
      return objectResponse(c, PACKAGEREVISIONRESOURCES, await ctx.ops.getResources(namespace, name));
    }),
  );
  return app;
}
