import type { Context } from 'hono';
import type { UserInfo } from '../../lib/auth/user.ts';
import type { Authorizer } from '../../lib/auth/authorizer.ts';
import type { Requester } from '../../lib/auth/requester.ts';

/** Per-request values the gateway sets before a handler runs (absent when a test calls a handler alone). */
export type HandlerEnv = { Variables: { user?: UserInfo; authorizer?: Authorizer } };

export type HandlerContext = Context<HandlerEnv>;

export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

export function userOf(c: HandlerContext): UserInfo {
  return c.get('user') ?? ANONYMOUS;
}

/** The caller with the authorizer that admitted the request, for checks a handler makes on its behalf. */
export function requesterOf(c: HandlerContext): Requester {
  return { user: userOf(c), authorizer: c.get('authorizer') };
}
