import type { KubeObject } from '../api/meta.ts';
import type { StatusCause } from '../errors.ts';

/**
 * Per-resource admission as kube-apiserver strategies do it: defaulting before validation, and checks
 * that need the old object (immutable fields). Both return field causes rather than throwing so all
 * problems are reported at once.
 */
export interface Strategy {
  prepareForCreate?(obj: KubeObject): void;
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  validate?(obj: KubeObject): StatusCause[];
  validateUpdate?(obj: KubeObject, old: KubeObject): StatusCause[];
}
