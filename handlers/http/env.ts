import type { Context } from 'hono';
import type { UserInfo } from '../../lib/auth/user.ts';

/** Per-request values the gateway sets before a handler runs (absent when a test calls a handler alone). */
export type HandlerEnv = { Variables: { user?: UserInfo } };

export type HandlerContext = Context<HandlerEnv>;

export const ANONYMOUS: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

export function userOf(c: HandlerContext): UserInfo {
  return c.get('user') ?? ANONYMOUS;
}
