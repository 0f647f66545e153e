import { Hono } from 'hono';
import { AUTHENTICATION_GROUP, SELF_SUBJECT_REVIEWS } from '../lib/api/reviews.ts';
import type { AppContext } from '../lib/context.ts';
import { readObjectBody } from './http/body.ts';
import { endpoint } from './http/endpoint.ts';
import { userOf, type HandlerEnv } from './http/env.ts';
import { collectionPath } from './http/paths.ts';
import { jsonResponse } from './http/respond.ts';

/** POST selfsubjectreviews (`kubectl auth whoami`): who the authenticator took the caller for. */
export default function createSelfSubjectReview(ctx: AppContext) {
  const app = new Hono<HandlerEnv>();
  app.post(
    collectionPath(SELF_SUBJECT_REVIEWS),
    endpoint(ctx.log, async (c) => {
      // The body carries nothing to read, but must still be a well-formed object.
      await readObjectBody(c, ctx.config.maxBodyBytes);
      const { username, uid, groups, extra } = userOf(c);
      const userInfo = { username, ...(uid ? { uid } : {}), groups, ...(extra && Object.keys(extra).length ? { extra } : {}) };
      return jsonResponse({ apiVersion: `${AUTHENTICATION_GROUP}/v1`, kind: 'SelfSubjectReview', metadata: { creationTimestamp: null }, status: { userInfo } }, 201);
    }),
  );
  return app;
}
