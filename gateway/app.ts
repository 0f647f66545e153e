import { isRecord } from '../lib/util.ts';
import { Hono } from 'hono';
import type { Authorizer } from '../lib/auth/authorizer.ts';
import { authorizeOrThrow } from '../lib/auth/authorizer.ts';
import { attributesOf } from '../lib/auth/attributes.ts';
import type { NodeRequestLike } from '../lib/auth/chain.ts';
import { RESOURCES, type ResourceDescriptor } from '../lib/api/resources.ts';
import type { AppContext } from '../lib/context.ts';
import type { UserInfo } from '../lib/auth/user.ts';
import { errors } from '../lib/errors.ts';
import type { HandlerEnv } from '../handlers/http/env.ts';
import { jsonResponse, statusResponse } from '../handlers/http/respond.ts';
import { discoveryRoutes } from './discovery.ts';
import { openapiRoutes } from './openapi.ts';
import { allHandlers, reviewHandlers, reviewResources } from './routes.ts';
import { VERSION_INFO } from './version.ts';
import { allowAll, HEALTH_PATHS, isStrippedHeader, type GatewayAuth } from './auth.ts';

export interface GatewayOptions {
  /** Resolves the caller; throwing a StatusError (401) refuses the request. */
  authenticate: (req: Request, incoming?: NodeRequestLike) => Promise<UserInfo>;
  /** Decides every request after authentication; default: everything allowed. */
  authorizer?: Authorizer;
  /** Front-proxy headers (X-Remote-*) removed from the request once it is authenticated. */
  stripHeaders?: GatewayAuth['strip'];
  /** The resources served (discovery, OpenAPI, handlers); default all. See servedResources(). */
  resources?: ResourceDescriptor[];
}

/** The Node request @hono/node-server (and the WebSocket upgrade) passes as `env.incoming`. */
function incomingOf(env: unknown): NodeRequestLike | undefined {
  if (typeof env !== 'object' || env === null || !('incoming' in env)) return undefined;
  const incoming = (env as { incoming?: unknown }).incoming;
  return typeof incoming === 'object' && incoming !== null ? (incoming as NodeRequestLike) : undefined;
}

/** The request without headers a handler must never see; the same object when there are none. */
function stripped(req: Request, strip: GatewayAuth['strip']): Request {
  const names = [...req.headers.keys()].filter((n) => isStrippedHeader(n, strip));
  if (names.length === 0) return req;
  try {
    for (const n of names) req.headers.delete(n);
    return req;
  } catch {
    const headers = new Headers(req.headers);
    for (const n of names) headers.delete(n);
    const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers, signal: req.signal };
    if (req.body && req.method !== 'GET' && req.method !== 'HEAD') {
      init.body = req.body;
      init.duplex = 'half';
    }
    return new Request(req.url, init);
  }
}

/** Which resource (and verb) an unmatched path names, so it gets a 405 rather than a 404. */
/** The resource (and subresource) a path names, when it names one this server serves. */
function knownResourcePath(path: string, served: ResourceDescriptor[]): { group: string; resource: string } | undefined {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))\/(?:watch\/)?(?:namespaces\/[^/]+\/)?([^/]+)(?:\/[^/]+(?:\/([^/]+))?)?$/.exec(path);
  if (!m) return undefined;
  const group = m[1] ?? '';
  const version = m[2] ?? 'v1';
  const res = served.find((r) => r.group === group && r.version === version && r.plural === m[3]);
  if (!res) return undefined;
  if (m[4] && !res.subresources.some((s) => s.name === m[4])) return undefined;
  return { group, resource: m[4] ? `${res.plural}/${m[4]}` : res.plural };
}

const PROBES = new Set(HEALTH_PATHS);

/** Why a request failed, from its Status answer: what an operator reading the request log needs. */
async function failureOf(res: Response): Promise<{ reason?: string; message?: string }> {
  if (!(res.headers.get('content-type') ?? '').includes('json')) return {};
  try {
    const body: unknown = await res.clone().json();
    if (!isRecord(body) || body.kind !== 'Status') return {};
    return { reason: typeof body.reason === 'string' ? body.reason : undefined, message: typeof body.message === 'string' ? body.message : undefined };
  } catch {
    return {};
  }
}

export function buildGateway(ctx: AppContext, opts: GatewayOptions): Hono<HandlerEnv> {
  const app = new Hono<HandlerEnv>();

  app.use('*', async (c, next) => {
    const started = performance.now();
    // Once stopping, only health probes are answered; the rest are told to come back (a load
    // balancer or client retries elsewhere), while requests already in progress finish.
    if (ctx.shutdown.stopping && !PROBES.has(c.req.path)) {
      c.res = statusResponse(errors.unavailable('the server is shutting down', 1));
      return;
    }
    await ctx.shutdown.serve(next);
    const path = c.req.path;
    // Health probes are polled constantly; logging them would drown everything else.
    if (PROBES.has(path)) return;
    ctx.log.info('request', {
      method: c.req.method,
      path,
      query: new URL(c.req.url).search || undefined,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      user: c.get('user')?.username,
      ...(c.res.status >= 400 ? await failureOf(c.res) : {}),
    });
  });

  app.get('/healthz', (c) => c.text('ok'));
  app.get('/livez', (c) => c.text('ok'));
  // Not ready once stopping, so traffic moves elsewhere while in-flight requests finish.
  app.get('/readyz', (c) => (ctx.shutdown.stopping ? c.text('shutting down', 503) : c.text('ok')));

  const authorizer = opts.authorizer ?? allowAll;
  const strip = opts.stripHeaders ?? { exact: ['X-Remote-User', 'X-Remote-Group'], prefixes: ['X-Remote-Extra-'] };
  app.use('*', async (c, next) => {
    try {
      const user = await opts.authenticate(c.req.raw, incomingOf(c.env));
      c.set('user', user);
      c.req.raw = stripped(c.req.raw, strip);
      await authorizeOrThrow(authorizer, user, attributesOf(c.req.raw));
    } catch (err) {
      return statusResponse(err, ctx.log);
    }
    await next();
  });

  app.get('/version', () => jsonResponse(VERSION_INFO));

  const served = opts.resources ?? RESOURCES;
  const reviews = reviewResources(served);
  app.route('/', discoveryRoutes([...served, ...reviews]));
  app.route('/', openapiRoutes(served));
  for (const h of allHandlers(served)) app.route('/', h(ctx));
  if (reviews.length) for (const h of reviewHandlers(authorizer)) app.route('/', h(ctx));

  app.notFound((c) => {
    const known = knownResourcePath(c.req.path, served);
    if (known) return statusResponse(errors.methodNotAllowed(c.req.method, known));
    return statusResponse(errors.pathNotFound());
  });
  app.onError((err) => statusResponse(err, ctx.log));
  return app;
}
