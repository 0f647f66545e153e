import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import { readObjectBody } from './http/body.ts';
import { endpoint } from './http/endpoint.ts';
import { userOf, type HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { decodePackageRevision, PACKAGEREVISIONS } from './http/porch-input.ts';
import { objectResponse } from './http/respond.ts';

/** PUT packagerevisions/<name>: metadata, Draft ↔ Proposed, Published ↔ DeletionProposed. */
export default function updatePackageRevision(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  app.put(
    itemPath(PACKAGEREVISIONS),
    endpoint(ctx.log, async (c) => {
      const namespace = c.req.param('namespace') ?? '';
      const name = c.req.param('name') ?? '';
      const input = decodePackageRevision(await readObjectBody(c, ctx.config.maxBodyBytes), namespace, name, c.req.query('fieldValidation'));
      return objectResponse(c, PACKAGEREVISIONS, await ctx.ops.update(namespace, name, input, userOf(c)));
    }),
  );
  return app;
}
