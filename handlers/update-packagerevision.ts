import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import type { HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { PACKAGEREVISIONS } from '../lib/api/resources.ts';
import { replaceEndpoint, revisionUpdate } from './http/porch-write.ts';

/** PUT packagerevisions/<name>: metadata, Draft ↔ Proposed, Published ↔ DeletionProposed. */
export default function updatePackageRevision(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  app.put(itemPath(PACKAGEREVISIONS), replaceEndpoint(ctx, revisionUpdate(ctx)));
  return app;
}
