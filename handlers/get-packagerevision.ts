import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import { endpoint } from './http/endpoint.ts';
import type { HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { PACKAGEREVISIONS } from '../lib/api/resources.ts';
import { objectResponse } from './http/respond.ts';

/** GET one packagerevision (also served as its approval subresource). */
export default function getPackageRevision(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  const handler = endpoint(ctx.log, async (c) => {
    const { pr } = ctx.engine.getRevision(c.req.param('namespace') ?? '', c.req.param('name') ?? '');
    return objectResponse(c, PACKAGEREVISIONS, pr);
  });
  app.get(itemPath(PACKAGEREVISIONS), handler);
  app.get(itemPath(PACKAGEREVISIONS, 'approval'), handler);
  return app;
}
