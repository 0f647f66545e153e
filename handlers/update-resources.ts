import { Hono } from 'hono';
import { applyPatch } from '../lib/api/patch.ts';
import type { AppContext } from '../lib/context.ts';
import { readObjectBody, readPatchBody } from './http/body.ts';
import { endpoint } from './http/endpoint.ts';
import { userOf, type HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { decodeResources, PACKAGEREVISIONRESOURCES } from './http/porch-input.ts';
import { objectResponse } from './http/respond.ts';

/** PUT/PATCH packagerevisionresources/<name>: replace a Draft's files. */
export default function updateResources(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  const path = itemPath(PACKAGEREVISIONRESOURCES);
  app.put(
    path,
    endpoint(ctx.log, async (c) => {
      const namespace = c.req.param('namespace') ?? '';
      const name = c.req.param('name') ?? '';
      const input = decodeResources(await readObjectBody(c, ctx.config.maxBodyBytes), namespace, name, c.req.query('fieldValidation'));
      return objectResponse(c, PACKAGEREVISIONRESOURCES, await ctx.ops.updateResources(namespace, name, input, userOf(c)));
    }),
  );
  app.patch(
    path,
    endpoint(ctx.log, async (c) => {
      const namespace = c.req.param('namespace') ?? '';
      const name = c.req.param('name') ?? '';
      const { type, patch } = await readPatchBody(c, ctx.config.maxBodyBytes);
      const current = await ctx.ops.getResources(namespace, name);
      const input = decodeResources(applyPatch(type, current as unknown as Record<string, unknown>, patch), namespace, name, c.req.query('fieldValidation'));
      return objectResponse(c, PACKAGEREVISIONRESOURCES, await ctx.ops.updateResources(namespace, name, input, userOf(c)));
    }),
  );
  return app;
}
