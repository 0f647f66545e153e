import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { createObject } from '../../lib/store/verbs.ts';
import { readObjectBody } from '../http/body.ts';
import { route } from '../http/endpoint.ts';
import { requesterOf } from '../http/env.ts';
import { collectionPath } from '../http/paths.ts';
import { isDryRun } from '../http/query.ts';
import { objectResponse } from '../http/respond.ts';
import { appendWarnings, parseFieldValidation } from '../../lib/api/strict-fields.ts';

/** POST a new object of a store-served resource. */
export function createStoreObject(res: ResourceDescriptor) {
  return (ctx: AppContext) =>
    route(ctx, 'POST', collectionPath(res), async (c) => {
      const dryRun = isDryRun(c);
      const fieldValidation = parseFieldValidation(c.req.query('fieldValidation'));
      const warnings: string[] = [];
      const body = await readObjectBody(c, ctx.config.maxBodyBytes);
      const obj = await createObject(ctx.store, res, c.req.param('namespace'), body, { dryRun, fieldValidation, warnings, admission: { requester: requesterOf(c), security: ctx.security } });
      const resp = objectResponse(c, res, obj, 201);
      appendWarnings(resp.headers, warnings);
      return resp;
    });
}
