import type { AppContext } from '../lib/context.ts';
import { readObjectBody } from './http/body.ts';
import { route } from './http/endpoint.ts';
import { userOf } from './http/env.ts';
import { collectionPath } from './http/paths.ts';
import { decodePackageRevision } from './http/porch-input.ts';
import { PACKAGEREVISIONS } from '../lib/api/resources.ts';
import { objectResponse } from './http/respond.ts';
import { isDryRun } from './http/query.ts';
import { requireNamespace } from '../lib/store/verbs.ts';

/** POST packagerevisions: a new Draft (init, or a task such as edit). */
export default function createPackageRevision(ctx: AppContext) {
  return route(ctx, 'POST', collectionPath(PACKAGEREVISIONS), async (c) => {
    const dryRun = isDryRun(c);
    const namespace = c.req.param('namespace') ?? '';
    const body = await readObjectBody(c, ctx.config.maxBodyBytes);
    const input = decodePackageRevision(body, namespace, undefined, c.req.query('fieldValidation'));
    await requireNamespace(ctx.store, PACKAGEREVISIONS, namespace);
    const pr = await ctx.ops.create(namespace, input, userOf(c), { dryRun, authorizer: c.get('authorizer') });
    return objectResponse(c, PACKAGEREVISIONS, pr, 201);
  });
}
