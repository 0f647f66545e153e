import { Hono } from 'hono';
import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { updateObject } from '../../lib/store/verbs.ts';
import { readObjectBody } from '../http/body.ts';
import { endpoint } from '../http/endpoint.ts';
import type { HandlerEnv } from '../http/env.ts';
import { itemPath } from '../http/paths.ts';
import { isDryRun } from '../http/query.ts';
import { objectResponse } from '../http/respond.ts';
import { appendWarnings, parseFieldValidation } from '../../lib/api/strict-fields.ts';

/** PUT (replace) an object of a store-served resource, or its status subresource. */
export function updateStoreObject(res: ResourceDescriptor) {
  return (ctx: AppContext) => {
    const app = new Hono<HandlerEnv>();
    const handler = (subresource?: 'status') =>
      endpoint(ctx.log, async (c) => {
        const dryRun = isDryRun(c);
        const fieldValidation = parseFieldValidation(c.req.query('fieldValidation'));
        const warnings: string[] = [];
        const body = await readObjectBody(c, ctx.config.maxBodyBytes);
        const obj = await updateObject(ctx.store, res, c.req.param('namespace'), c.req.param('name') ?? '', body, { dryRun, subresource, fieldValidation, warnings });
        const resp = objectResponse(c, res, obj);
        appendWarnings(resp.headers, warnings);
        return resp;
      });
    app.put(itemPath(res), handler());
    if (res.subresources.some((s) => s.name === 'status')) app.put(itemPath(res, 'status'), handler('status'));
    return app;
  };
}
