import type { Logger } from '../../lib/log.ts';
import type { HandlerContext } from './env.ts';
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
