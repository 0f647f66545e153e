import type { Hono } from 'hono';
import type { AppContext } from '../lib/context.ts';
import type { HandlerEnv } from './http/env.ts';

/** The handlers of engine-served resources (porch.kpt.dev), each its own file. */
export const ENGINE_HANDLERS: ((ctx: AppContext) => Hono<HandlerEnv>)[] = [];
