import * as v from 'valibot';
import type { RequestAttributes } from '../lib/auth/attributes.ts';
import type { Authorizer } from '../lib/auth/authorizer.ts';
import { AUTHORIZATION_GROUP, SELF_SUBJECT_ACCESS_REVIEWS, SelfSubjectAccessReviewSpecSchema, type SelfSubjectAccessReviewSpec } from '../lib/api/reviews.ts';
import { issuePath } from '../lib/api/validate.ts';
import { errors } from '../lib/errors.ts';
import { reviewEndpoint } from './http/review-endpoint.ts';

function invalid(field: string, message: string) {
  return errors.invalid('SelfSubjectAccessReview', AUTHORIZATION_GROUP, '', [{ field, message }]);
}

/** The question, in the shape the authorizer is asked about a real request. */
function attributesOf(spec: SelfSubjectAccessReviewSpec): RequestAttributes {
  const r = spec.resourceAttributes;
  const n = spec.nonResourceAttributes;
  if (r && n) throw invalid('spec.nonResourceAttributes', 'cannot be specified in combination with resourceAttributes');
  if (n)
    return { isResourceRequest: false, path: n.path ?? '', verb: n.verb ?? '', apiPrefix: '', apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '', parts: [] };
  if (!r) throw invalid('spec.resourceAttributes', 'exactly one of nonResourceAttributes or resourceAttributes must be specified');
  const group = r.group ?? '';
  return {
    isResourceRequest: true,
    path: '',
    verb: r.verb ?? '',
    apiPrefix: group ? 'apis' : 'api',
    apiGroup: group,
    apiVersion: r.version ?? '',
    namespace: r.namespace ?? '',
    resource: r.resource ?? '',
    subresource: r.subresource ?? '',
    name: r.name ?? '',
    parts: [r.resource ?? '', ...(r.name ? [r.name] : []), ...(r.subresource ? [r.subresource] : [])].filter((p) => p !== ''),
  };
}

/**
 * POST selfsubjectaccessreviews (`kubectl auth can-i`): may the caller do this? Answered by the
 * authorizer that decides the caller's real requests.
 */
export function createSelfSubjectAccessReview(authorizer: Authorizer) {
  return reviewEndpoint(SELF_SUBJECT_ACCESS_REVIEWS, async (body, user) => {
    const parsed = v.safeParse(SelfSubjectAccessReviewSpecSchema, body.spec ?? {});
    if (!parsed.success) throw invalid(issuePath(parsed.issues[0], SelfSubjectAccessReviewSpecSchema, 'spec'), parsed.issues[0].message);
    const decision = await authorizer.authorize(user, attributesOf(parsed.output));
    const status = {
      allowed: decision.allowed,
      ...(decision.denied ? { denied: true } : {}),
      ...(decision.reason ? { reason: decision.reason } : {}),
    };
    return { spec: body.spec, status };
  });
}
