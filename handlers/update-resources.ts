import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import type { HandlerEnv } from './http/env.ts';
import { itemPath } from './http/paths.ts';
import { decodeResources } from './http/porch-input.ts';
import { PACKAGEREVISIONRESOURCES } from '../lib/api/resources.ts';
import { patchEndpoint, replaceEndpoint, type PorchWrite } from './http/porch-write.ts';

/** PUT/PATCH packagerevisionresources/<name>: replace a Draft's files. */
export default function updateResources(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  const path = itemPath(PACKAGEREVISIONRESOURCES);
  const resources: PorchWrite<ReturnType<typeof decodeResources>> = {
    res: PACKAGEREVISIONRESOURCES,
    decode: decodeResources,
    current: (namespace, name) => ctx.ops.getResources(namespace, name),
    write: (namespace, name, input, user, opts) => ctx.ops.updateResources(namespace, name, input, user, opts),
  };
  app.put(path, replaceEndpoint(ctx, resources));
  app.patch(path, patchEndpoint(ctx, resources));
  return app;
}
