import type { Hono } from 'hono';
import { RESOURCES, type ResourceDescriptor } from '../lib/api/resources.ts';
import type { AppContext } from '../lib/context.ts';
import type { HandlerEnv } from '../handlers/http/env.ts';
import { createStoreObject } from '../handlers/store-object/create.ts';
import { deleteStoreObject } from '../handlers/store-object/delete.ts';
import { getStoreObject } from '../handlers/store-object/get.ts';
import { listStoreObjects } from '../handlers/store-object/list.ts';
import { patchStoreObject } from '../handlers/store-object/patch.ts';
import { updateStoreObject } from '../handlers/store-object/update.ts';
import { ENGINE_HANDLERS } from '../handlers/index.ts';
import { createSelfSubjectAccessReview } from '../handlers/create-selfsubjectaccessreview.ts';
import createSelfSubjectReview from '../handlers/create-selfsubjectreview.ts';
import { createSelfSubjectRulesReview } from '../handlers/create-selfsubjectrulesreview.ts';
import { REVIEW_RESOURCES } from '../lib/api/reviews.ts';
import type { Authorizer } from '../lib/auth/authorizer.ts';

type HandlerFactory = (ctx: AppContext) => Hono<HandlerEnv>;

function storeHandlers(res: ResourceDescriptor): HandlerFactory[] {
  return [listStoreObjects(res), getStoreObject(res), createStoreObject(res), updateStoreObject(res), patchStoreObject(res), deleteStoreObject(res)];
}

/**
 * The resources a process serves, by backend: both in dev mode; in cluster mode only the engine's
 * (porch.kpt.dev), since kube-apiserver serves the CRDs, Secrets and Namespaces; only the store's
 * when a dev server stands in for kube-apiserver.
 */
export function servedResources(backends: ResourceDescriptor['backend'][]): ResourceDescriptor[] {
  return RESOURCES.filter((r) => backends.includes(r.backend));
}

/** Every handler the gateway mounts, for the resources this process serves. */
export function allHandlers(served: ResourceDescriptor[] = RESOURCES): HandlerFactory[] {
  const out: HandlerFactory[] = [];
  for (const res of served) if (res.backend === 'store') out.push(...storeHandlers(res));
  if (served.some((r) => r.backend === 'engine')) out.push(...ENGINE_HANDLERS);
  return out;
}

/**
 * The review APIs (`kubectl auth can-i`, `auth whoami`) belong to kube-apiserver: served only where this
 * process stands in for it (it serves the store's kinds), never next to a real one in cluster mode.
 */
export function reviewResources(served: ResourceDescriptor[]): ResourceDescriptor[] {
  return served.some((r) => r.backend === 'store') ? REVIEW_RESOURCES : [];
}

export function reviewHandlers(authorizer: Authorizer): HandlerFactory[] {
  return [createSelfSubjectReview, createSelfSubjectAccessReview(authorizer), createSelfSubjectRulesReview(authorizer)];
}
