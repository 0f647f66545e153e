import type { Authorizer } from '../lib/auth/authorizer.ts';
import { AUTHORIZATION_GROUP, SELF_SUBJECT_RULES_REVIEWS } from '../lib/api/reviews.ts';
import { errors } from '../lib/errors.ts';
import { isRecord } from '../lib/util.ts';
import { reviewEndpoint } from './http/review-endpoint.ts';

/**
 * POST selfsubjectrulesreviews (`kubectl auth can-i --list`): the rules the authorizer holds for the
 * caller in a namespace; `incomplete` where an authorizer cannot list its rules.
 */
export function createSelfSubjectRulesReview(authorizer: Authorizer) {
  return reviewEndpoint(SELF_SUBJECT_RULES_REVIEWS, (body, user) => {
    const spec = isRecord(body.spec) ? body.spec : {};
    if (spec.namespace !== undefined && typeof spec.namespace !== 'string')
      throw errors.invalid('SelfSubjectRulesReview', AUTHORIZATION_GROUP, '', [{ field: 'spec.namespace', message: 'must be a string' }]);
    const namespace = typeof spec.namespace === 'string' ? spec.namespace : '';
    const found = authorizer.rules?.(user, namespace) ?? { rules: [], incomplete: true };
    const resourceRules = found.rules
      .filter((r) => !r.nonResourceURLs?.length)
      .map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) }));
    const nonResourceRules = found.rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
    return { spec: { namespace }, status: { resourceRules, nonResourceRules, incomplete: found.incomplete } };
  });
}
