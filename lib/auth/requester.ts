import { authorizeOrThrow, type Authorizer } from './authorizer.ts';
import type { RequestAttributes } from './attributes.ts';
import type { UserInfo } from './user.ts';

/**
 * Who a request runs as, with the authorizer that decided it: what is needed to ask, mid-request,
 * whether the caller may also do something else (read a Secret the request makes the server use).
 * No authorizer means none is configured (a handler called without the gateway): everything is allowed,
 * as the gateway's default.
 */
export interface Requester {
  user: UserInfo;
  authorizer?: Authorizer;
}

/** The attributes of `GET /api/v1/namespaces/<ns>/secrets/<name>`. */
export function secretGetAttributes(namespace: string, name: string): RequestAttributes {
  return {
    isResourceRequest: true,
    path: `/api/v1/namespaces/${namespace}/secrets/${name}`,
    verb: 'get',
    apiPrefix: 'api',
    apiGroup: '',
    apiVersion: 'v1',
    namespace,
    resource: 'secrets',
    subresource: '',
    name,
    parts: ['secrets', name],
  };
}

/**
 * A 403 naming the Secret unless the requester may `get` it: a request that makes the server use a
 * Secret's credentials needs the right to read them (otherwise it could send them anywhere).
 */
export async function requireSecretAccess(requester: Requester, namespace: string, name: string): Promise<void> {
  if (!requester.authorizer) return;
  await authorizeOrThrow(requester.authorizer, requester.user, secretGetAttributes(namespace, name));
}
