import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import type { AppContext } from '../../lib/context.ts';
import { deleteObject } from '../../lib/store/verbs.ts';
import { route } from '../http/endpoint.ts';
import { itemPath } from '../http/paths.ts';
import { objectResponse } from '../http/respond.ts';
import { readDeleteOptions } from '../http/delete-options.ts';

/** DELETE an object of a store-served resource (with resourceVersion/uid preconditions). */
export function deleteStoreObject(res: ResourceDescriptor) {
  return (ctx: AppContext) =>
    route(ctx, 'DELETE', itemPath(res), async (c) => {
      const opts = await readDeleteOptions(c, ctx.config.maxBodyBytes);
      const obj = await deleteObject(ctx.store, res, c.req.param('namespace'), c.req.param('name') ?? '', opts.preconditions, { dryRun: opts.dryRun });
      return objectResponse(c, res, obj);
    });
}
