import type { AppContext } from '../lib/context.ts';
import { readDeleteOptions } from './http/delete-options.ts';
import { route } from './http/endpoint.ts';
import { userOf } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { PACKAGEREVISIONS } from '../lib/api/resources.ts';
import { objectResponse } from './http/respond.ts';

/** DELETE packagerevisions/<name>: Draft, Proposed, DeletionProposed and the branch placeholder. */
export default function deletePackageRevision(ctx: AppContext) {
  return route(ctx, 'DELETE', itemPath(PACKAGEREVISIONS), async (c) => {
    const opts = await readDeleteOptions(c, ctx.config.maxBodyBytes);
    const pr = await ctx.ops.delete(c.req.param('namespace') ?? '', c.req.param('name') ?? '', opts.preconditions, { dryRun: opts.dryRun }, userOf(c));
    return objectResponse(c, PACKAGEREVISIONS, pr);
  });
}
