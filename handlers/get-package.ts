import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import { endpoint } from './http/endpoint.ts';
import type { HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { PACKAGES } from '../lib/api/resources.ts';
import { objectResponse } from './http/respond.ts';

/** GET packages/<name>. */
export default function getPackage(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  app.get(
    itemPath(PACKAGES),
    endpoint(ctx.log, async (c) => objectResponse(c, PACKAGES, ctx.engine.getPackage(c.req.param('namespace') ?? '', c.req.param('name') ?? ''))),
  );
  return app;
}
