import { Hono } from 'hono';
import { RESOURCES } from '../lib/api/resources.ts';
import type { AppContext, UserInfo } from '../lib/context.ts';
import { errors } from '../lib/errors.ts';
import type { HandlerEnv } from '../handlers/http/env.ts';
import { jsonResponse, statusResponse } from '../handlers/http/respond.ts';
import { discoveryRoutes } from './discovery.ts';
import { openapiRoutes } from './openapi.ts';
import { allHandlers } from './routes.ts';
import { VERSION_INFO } from './version.ts';

export interface GatewayOptions {
  /** Resolves the caller; throwing a StatusError (401) refuses the request. */
  authenticate: (req: Request) => Promise<UserInfo>;
}

/** Which resource (and verb) an unmatched path names, so it gets a 405 rather than a 404. */
function knownResourcePath(path: string): boolean {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))\/(?:watch\/)?(?:namespaces\/[^/]+\/)?([^/]+)(?:\/[^/]+(?:\/([^/]+))?)?$/.exec(path);
  if (!m) return false;
  const group = m[1] ?? '';
  const version = m[2] ?? 'v1';
  const res = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === m[3]);
  if (!res) return false;
  return !m[4] || res.subresources.some((s) => s.name === m[4]);
}

export function buildGateway(ctx: AppContext, opts: GatewayOptions): Hono<HandlerEnv> {
  const app = new Hono<HandlerEnv>();

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const path = c.req.path;
    // Health probes are polled constantly; logging them would drown everything else.
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return;
    ctx.log.info('request', {
      method: c.req.method,
      path,
      query: new URL(c.req.url).search || undefined,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      user: c.get('user')?.username,
    });
  });

  for (const probe of ['/healthz', '/livez', '/readyz']) app.get(probe, (c) => c.text('ok'));
  app.get('/version', () => jsonResponse(VERSION_INFO));

  app.use('*', async (c, next) => {
    try {
      c.set('user', await opts.authenticate(c.req.raw));
    } catch (err) {
      return statusResponse(err, ctx.log);
    }
    await next();
  });

  app.route('/', discoveryRoutes());
  app.route('/', openapiRoutes());
  for (const h of allHandlers()) app.route('/', h(ctx));

  app.notFound((c) => {
    if (knownResourcePath(c.req.path))
      return statusResponse(errors.methodNotAllowed(c.req.method, { group: '', resource: c.req.path.split('/').filter(Boolean).slice(-1)[0] }));
    return statusResponse(errors.pathNotFound());
  });
  app.onError((err) => statusResponse(err, ctx.log));
  return app;
}
