import { Hono } from 'hono';
import { applyPatch } from '../lib/api/patch.ts';
import type { AppContext } from '../lib/context.ts';
import { readObjectBody, readPatchBody } from './http/body.ts';
import { endpoint } from './http/endpoint.ts';
import { userOf, type HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { decodePackageRevision, PACKAGEREVISIONS } from './http/porch-input.ts';
import { objectResponse } from './http/respond.ts';

/** PUT/PATCH packagerevisions/<name>/approval: publish, reject, propose or undo deletion. */
export default function approvePackageRevision(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  const path = itemPath(PACKAGEREVISIONS, 'approval');
  app.put(
    path,
    endpoint(ctx.log, async (c) => {
      const namespace = c.req.param('namespace') ?? '';
      const name = c.req.param('name') ?? '';
      const input = decodePackageRevision(await readObjectBody(c, ctx.config.maxBodyBytes), namespace, name, c.req.query('fieldValidation'));
      return objectResponse(c, PACKAGEREVISIONS, await ctx.ops.approve(namespace, name, input, userOf(c)));
    }),
  );
  app.patch(
    path,
    endpoint(ctx.log, async (c) => {
      const namespace = c.req.param('namespace') ?? '';
      const name = c.req.param('name') ?? '';
      const { type, patch } = await readPatchBody(c, ctx.config.maxBodyBytes);
      const { pr } = ctx.engine.getRevision(namespace, name);
      const input = decodePackageRevision(applyPatch(type, pr as unknown as Record<string, unknown>, patch), namespace, name, c.req.query('fieldValidation'));
      return objectResponse(c, PACKAGEREVISIONS, await ctx.ops.approve(namespace, name, input, userOf(c)));
    }),
  );
  return app;
}
