import { Hono } from 'hono';
import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { errors } from '../../lib/errors.ts';
import { endpoint } from '../http/endpoint.ts';
import type { HandlerEnv } from '../http/env.ts';
import { itemPath } from '../http/paths.ts';
import { objectResponse } from '../http/respond.ts';

/** GET one object of a store-served resource (and its status subresource, when it has one). */
export function getStoreObject(res: ResourceDescriptor) {
  return (ctx: AppContext) => {
    const app = new Hono<HandlerEnv>();
    const handler = endpoint(ctx.log, async (c) => {
      const name = c.req.param('name') ?? '';
      const obj = await ctx.store.get(res, c.req.param('namespace'), name);
      if (!obj) throw errors.notFound({ group: res.group, resource: res.plural }, name);
      return objectResponse(c, res, obj);
    });
    app.get(itemPath(res), handler);
    if (res.subresources.some((s) => s.name === 'status')) app.get(itemPath(res, 'status'), handler);
    return app;
  };
}
