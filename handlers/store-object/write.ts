import { Hono } from 'hono';
import type { KubeObject } from '../../lib/api/meta.ts';
import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import { appendWarnings, parseFieldValidation } from '../../lib/api/strict-fields.ts';
import type { AppContext } from '../../lib/context.ts';
import type { WriteOptions } from '../../lib/store/verbs.ts';
import { endpoint } from '../http/endpoint.ts';
import { requesterOf, type HandlerContext, type HandlerEnv } from '../http/env.ts';
import { itemPath } from '../http/paths.ts';
import { isDryRun } from '../http/query.ts';
import { objectResponse } from '../http/respond.ts';

type Write = (ctx: AppContext, c: HandlerContext, namespace: string | undefined, name: string, opts: WriteOptions) => Promise<KubeObject>;

/**
 * PUT and PATCH of a store-served object, or of its status subresource: both read the query's dry run
 * and field validation and answer the written object with any unknown-field warnings.
 */
export function storeObjectWrite(res: ResourceDescriptor, method: 'put' | 'patch', write: Write) {
  return (ctx: AppContext) => {
    const app = new Hono<HandlerEnv>();
    const handler = (subresource?: 'status') =>
      endpoint(ctx.log, async (c) => {
        const warnings: string[] = [];
        const admission = { requester: requesterOf(c), security: ctx.security };
        const opts = { dryRun: isDryRun(c), subresource, fieldValidation: parseFieldValidation(c.req.query('fieldValidation')), warnings, admission };
        const obj = await write(ctx, c, c.req.param('namespace'), c.req.param('name') ?? '', opts);
        const resp = objectResponse(c, res, obj);
        appendWarnings(resp.headers, warnings);
        return resp;
      });
    app.on(method.toUpperCase(), itemPath(res), handler());
    if (res.subresources.some((s) => s.name === 'status')) app.on(method.toUpperCase(), itemPath(res, 'status'), handler('status'));
    return app;
  };
}
