import { Hono } from 'hono';
import { applyPatch } from '../lib/api/patch.ts';
import type { AppContext } from '../lib/context.ts';
import { readPatchBody } from './http/body.ts';
import { endpoint } from './http/endpoint.ts';
import { userOf, type HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { decodePackageRevision, PACKAGEREVISIONS } from './http/porch-input.ts';
import { objectResponse } from './http/respond.ts';

/** PATCH packagerevisions/<name>: the patch is applied to the current object, then it is an update. */
export default function patchPackageRevision(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  app.patch(
    itemPath(PACKAGEREVISIONS),
    endpoint(ctx.log, async (c) => {
      const namespace = c.req.param('namespace') ?? '';
      const name = c.req.param('name') ?? '';
      const { type, patch } = await readPatchBody(c, ctx.config.maxBodyBytes);
      const { pr } = ctx.engine.getRevision(namespace, name);
      const patched = applyPatch(type, pr as unknown as Record<string, unknown>, patch);
      const input = decodePackageRevision(patched, namespace, name, c.req.query('fieldValidation'));
      return objectResponse(c, PACKAGEREVISIONS, await ctx.ops.update(namespace, name, input, userOf(c)));
    }),
  );
  return app;
}
