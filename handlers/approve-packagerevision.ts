import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import type { HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import type { PackageRevision } from '../lib/api/porch.ts';
import { PACKAGEREVISIONS } from '../lib/api/resources.ts';
import { patchEndpoint, replaceEndpoint, revisionUpdate, type PorchWrite } from './http/porch-write.ts';

/** PUT/PATCH packagerevisions/<name>/approval: publish, reject, propose or undo deletion. */
export default function approvePackageRevision(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  const path = itemPath(PACKAGEREVISIONS, 'approval');
  // The same decoding and current object as an update; only the operation differs.
  const approval: PorchWrite<PackageRevision> = { ...revisionUpdate(ctx), write: (namespace, name, input, user, opts) => ctx.ops.approve(namespace, name, input, user, opts) };
  app.put(path, replaceEndpoint(ctx, approval));
  app.patch(path, patchEndpoint(ctx, approval));
  return app;
}
