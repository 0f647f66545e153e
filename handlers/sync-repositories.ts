import { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import { endpoint } from './http/endpoint.ts';
import type { HandlerEnv } from './http/env.ts';
import { jsonResponse } from './http/respond.ts';

export const SYNC_PATH = '/internal/sync-repositories';

/**
 * Sync repositories with git: all of them, or one (`?namespace=&name=`). Scheduled by the gateway;
 * not part of the Kubernetes API surface.
 */
export default function syncRepositories(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  app.post(
    SYNC_PATH,
    endpoint(ctx.log, async (c) => {
      const namespace = c.req.query('namespace');
      const name = c.req.query('name');
      const targets = ctx.engine.repositories(namespace).filter((r) => !name || r.name === name);
      const started = performance.now();
      const results = await Promise.all(
        targets.map(async (r) => {
          await ctx.engine.syncRepository(r.namespace, r.name);
          return { namespace: r.namespace, name: r.name, error: r.lastError ?? null, revisions: r.size };
        }),
      );
      return jsonResponse({ synced: results, ms: Math.round(performance.now() - started) });
    }),
  );
  return app;
}
