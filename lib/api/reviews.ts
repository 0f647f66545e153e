import * as v from 'valibot';
import type { ResourceDescriptor } from './resources.ts';

// The review APIs kubectl's `auth can-i` and `auth whoami` call. kube-apiserver serves them; a dev
// server stands in for it, so it serves them too, answered by its own authenticator and authorizer.

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';
export const AUTHENTICATION_GROUP = 'authentication.k8s.io';

const stringOpt = v.optional(v.string());

const ResourceAttributesSchema = v.object({
  namespace: stringOpt,
  verb: stringOpt,
  group: stringOpt,
  version: stringOpt,
  resource: stringOpt,
  subresource: stringOpt,
  name: stringOpt,
});

const NonResourceAttributesSchema = v.object({ path: stringOpt, verb: stringOpt });

export const SelfSubjectAccessReviewSpecSchema = v.object({
  resourceAttributes: v.optional(v.nullable(v.looseObject(ResourceAttributesSchema.entries))),
  nonResourceAttributes: v.optional(v.nullable(v.looseObject(NonResourceAttributesSchema.entries))),
});

export type SelfSubjectAccessReviewSpec = v.InferOutput<typeof SelfSubjectAccessReviewSpecSchema>;

const reviewSchema = v.looseObject({ apiVersion: stringOpt, kind: stringOpt });

function review(group: string, plural: string, kind: string): ResourceDescriptor {
  return {
    group,
    version: 'v1',
    plural,
    singular: kind.toLowerCase(),
    kind,
    listKind: '',
    namespaced: false,
    shortNames: [],
    categories: [],
    verbs: ['create'],
    subresources: [],
    schema: reviewSchema,
    printerColumns: [],
    backend: 'gateway',
  };
}

export const SELF_SUBJECT_ACCESS_REVIEWS = review(AUTHORIZATION_GROUP, 'selfsubjectaccessreviews', 'SelfSubjectAccessReview');
export const SELF_SUBJECT_RULES_REVIEWS = review(AUTHORIZATION_GROUP, 'selfsubjectrulesreviews', 'SelfSubjectRulesReview');
export const SELF_SUBJECT_REVIEWS = review(AUTHENTICATION_GROUP, 'selfsubjectreviews', 'SelfSubjectReview');

/** What discovery lists besides the stored resources, where this server stands in for kube-apiserver. */
export const REVIEW_RESOURCES: ResourceDescriptor[] = [SELF_SUBJECT_REVIEWS, SELF_SUBJECT_ACCESS_REVIEWS, SELF_SUBJECT_RULES_REVIEWS];
