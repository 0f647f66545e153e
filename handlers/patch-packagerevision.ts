import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import type { HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { PACKAGEREVISIONS } from '../lib/api/resources.ts';
import { patchEndpoint, revisionUpdate } from './http/porch-write.ts';

/** PATCH packagerevisions/<name>: the patch is applied to the current object, then it is an update. */
export default function patchPackageRevision(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  app.patch(itemPath(PACKAGEREVISIONS), patchEndpoint(ctx, revisionUpdate(ctx)));
  return app;
}
