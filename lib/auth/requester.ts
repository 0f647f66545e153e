import { authorizeOrThrow, type Authorizer } from './authorizer.ts';
import { requestAttributes } from './attributes.ts';
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

/**
 * A 403 naming the Secret unless the requester may `get` it: a request that makes the server use a
 * Secret's credentials needs the right to read them (otherwise it could send them anywhere).
 */
export async function requireSecretAccess(requester: Requester, namespace: string, name: string): Promise<void> {
  if (!requester.authorizer) return;
  await authorizeOrThrow(requester.authorizer, requester.user, requestAttributes('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`));
}
