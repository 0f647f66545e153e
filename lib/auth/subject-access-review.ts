import type { UserInfo } from './user.ts';
import { errors } from '../errors.ts';
import type { RequestAttributes } from './attributes.ts';
import type { Authorizer, Decision } from './authorizer.ts';
import { postReview, reviewCache, type ApiPoster } from './review-post.ts';
import type { TtlCache } from './ttl-cache.ts';

export const SUBJECT_ACCESS_REVIEW_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

export interface SubjectAccessReviewOptions {
  post: ApiPoster;
  allowTtlMs?: number;
  /** Shorter than allowTtlMs so a freshly created RoleBinding takes effect quickly. */
  denyTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

type Json = Record<string, unknown>;

/** The SubjectAccessReview spec kube-apiserver's webhook authorizer would send for this request. */
export function subjectAccessReviewSpec(user: UserInfo, attrs: RequestAttributes): Json {
  const spec: Json = { user: user.username, groups: [...user.groups] };
  if (user.uid) spec.uid = user.uid;
  if (user.extra && Object.keys(user.extra).length > 0) {
    // Sorted so the same user always yields the same cache key.
    spec.extra = Object.fromEntries(Object.keys(user.extra).sort().map((k) => [k, user.extra?.[k] ?? []]));
  }
  if (attrs.isResourceRequest) {
    const ra: Json = {};
    const put = (k: string, v: string) => {
      if (v) ra[k] = v;
    };
    put('namespace', attrs.namespace);
    put('verb', attrs.verb);
    put('group', attrs.apiGroup);
    put('version', attrs.apiVersion);
    put('resource', attrs.resource);
    put('subresource', attrs.subresource);
    put('name', attrs.name);
    spec.resourceAttributes = ra;
  } else {
    spec.nonResourceAttributes = { path: attrs.path, verb: attrs.verb };
  }
  return spec;
}

/**
 * Delegated authorization for running behind a real cluster: each decision is a SubjectAccessReview
 * posted to kube-apiserver, so the cluster's RBAC (and any other authorizer it runs) decides. Answers
 * are cached briefly since a client repeats the same request shape many times.
 */
export class SubjectAccessReviewAuthorizer implements Authorizer {
  private readonly cache: TtlCache<Decision>;

  constructor(private readonly opts: SubjectAccessReviewOptions) {
    this.cache = reviewCache((d: Decision) => d.allowed, { positiveTtlMs: opts.allowTtlMs, negativeTtlMs: opts.denyTtlMs, maxEntries: opts.maxEntries ?? 4096, now: opts.now });
  }

  async authorize(user: UserInfo, attrs: RequestAttributes): Promise<Decision> {
    const spec = subjectAccessReviewSpec(user, attrs);
    const decision = await this.cache.getOrLoad(JSON.stringify(spec), () => this.review(spec));
    return { ...decision };
  }

  private async review(spec: Json): Promise<Decision> {
    // Unanswered, a 500 rather than a 403: the request was not judged, so it must not look refused.
    const status = await postReview(this.opts.post, SUBJECT_ACCESS_REVIEW_PATH, { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec }, (m) =>
      errors.internal(`subject access review failed: ${m}`),
    );
    const reason = typeof status.reason === 'string' ? status.reason : '';
    if (status.allowed === true && status.denied === true)
      throw errors.internal('subject access review returned both allow and deny');
    if (status.denied === true) return { allowed: false, denied: true, reason };
    return { allowed: status.allowed === true, reason };
  }

  get cacheSize(): number {
    return this.cache.size;
  }
}
