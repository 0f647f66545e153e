import { Hono } from 'hono';
import type { Authorizer } from '../lib/auth/authorizer.ts';
import { AUTHORIZATION_GROUP, SELF_SUBJECT_RULES_REVIEWS } from '../lib/api/reviews.ts';
import type { AppContext } from '../lib/context.ts';
import { errors } from '../lib/errors.ts';
import { isRecord } from '../lib/util.ts';
import { readObjectBody } from './http/body.ts';
import { endpoint } from './http/endpoint.ts';
import { userOf, type HandlerEnv } from './http/env.ts';
import { collectionPath } from './http/paths.ts';
import { jsonResponse } from './http/respond.ts';

/**
 * POST selfsubjectrulesreviews (`kubectl auth can-i --list`): the rules the authorizer holds for the
 * caller in a namespace; `incomplete` where an authorizer cannot list its rules.
 */
export function createSelfSubjectRulesReview(authorizer: Authorizer) {
  return (ctx: AppContext) => {
    const app = new Hono<HandlerEnv>();
    app.post(
      collectionPath(SELF_SUBJECT_RULES_REVIEWS),
      endpoint(ctx.log, async (c) => {
        const body = await readObjectBody(c, ctx.config.maxBodyBytes);
        const spec = isRecord(body.spec) ? body.spec : {};
        if (spec.namespace !== undefined && typeof spec.namespace !== 'string')
          throw errors.invalid('SelfSubjectRulesReview', AUTHORIZATION_GROUP, '', [{ field: 'spec.namespace', message: 'must be a string' }]);
        const namespace = typeof spec.namespace === 'string' ? spec.namespace : '';
        const found = authorizer.rules?.(userOf(c), namespace) ?? { rules: [], incomplete: true };
        const resourceRules = found.rules
          .filter((r) => !r.nonResourceURLs?.length)
          .map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) }));
        const nonResourceRules = found.rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
        return jsonResponse(
          {
            apiVersion: `${AUTHORIZATION_GROUP}/v1`,
            kind: 'SelfSubjectRulesReview',
            metadata: { creationTimestamp: null },
            spec: { namespace },
            status: { resourceRules, nonResourceRules, incomplete: found.incomplete },
          },
          201,
        );
      }),
    );
    return app;
  };
}
