import type { KubeObject } from '../api/meta.ts';
import type { Requester } from '../auth/requester.ts';
import type { StatusCause } from '../errors.ts';
import type { SecurityPolicy } from '../security-policy.ts';

/** What admission needs beyond the object: who asks (and their authorizer), and the server's limits. */
export interface Admission {
  requester: Requester;
  security: SecurityPolicy;
}

/**
 * Per-resource admission as kube-apiserver strategies do it: defaulting before validation, and checks
 * that need the old object (immutable fields). Both return field causes rather than throwing so all
 * problems are reported at once. `admit` runs after them, for checks that reach outside the object
 * (the filesystem, the authorizer); it throws the Status (422 or 403) itself.
 */
export interface Strategy {
  prepareForCreate?(obj: KubeObject): void;
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  validate?(obj: KubeObject): StatusCause[];
  validateUpdate?(obj: KubeObject, old: KubeObject): StatusCause[];
  admit?(obj: KubeObject, old: KubeObject | undefined, admission: Admission): Promise<void>;
}
