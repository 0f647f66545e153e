import type { ResourceDescriptor } from '../../lib/api/resources.ts';
import type { UserInfo } from '../../lib/auth/user.ts';
import type { AppContext } from '../../lib/context.ts';
import { readObjectBody } from './body.ts';
import { route } from './endpoint.ts';
import { userOf } from './env.ts';
import { collectionPath } from './paths.ts';
import { jsonResponse } from './respond.ts';

/** A review's answer: the spec it echoes (none for SelfSubjectReview) and the status it adds. */
export interface ReviewAnswer {
  spec?: unknown;
  status: Record<string, unknown>;
}

/**
 * A review resource as kube-apiserver serves one: create only, never stored. The body must be a
 * well-formed object even where the review reads nothing from it; the answer is the same kind with
 * the spec and a status, 201.
 */
export function reviewEndpoint(res: ResourceDescriptor, answer: (body: Record<string, unknown>, user: UserInfo) => Promise<ReviewAnswer> | ReviewAnswer) {
  return (ctx: AppContext) =>
    route(ctx, 'POST', collectionPath(res), async (c) => {
      const body = await readObjectBody(c, ctx.config.maxBodyBytes);
      const { spec, status } = await answer(body, userOf(c));
      return jsonResponse({ apiVersion: `${res.group}/${res.version}`, kind: res.kind, metadata: { creationTimestamp: null }, spec, status }, 201);
    });
}
