import { Hono } from 'hono';
import type { AppContext } from '../../lib/context.ts';
import type { Logger } from '../../lib/log.ts';
import type { HandlerContext, HandlerEnv } from './env.ts';
import { statusResponse } from './respond.ts';

/** Wraps a handler body so anything it throws becomes a Status response, even when called alone. */
export function endpoint(log: Logger, fn: (c: HandlerContext) => Promise<Response> | Response) {
  return async (c: HandlerContext): Promise<Response> => {
    try {
      return await fn(c);
    } catch (err) {
      return statusResponse(err, log);
    }
  };
}

/** A handler of one route: `method` at `path`, answered by `fn` as an endpoint. */
export function route(ctx: AppContext, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, fn: (c: HandlerContext) => Promise<Response> | Response): Hono<HandlerEnv> {
  const app = new Hono<HandlerEnv>();
  app.on(method, path, endpoint(ctx.log, fn));
  return app;
}
