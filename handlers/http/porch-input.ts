import { revisionNameForErrors } from '../../lib/api/names.ts';
import type { PackageRevision, PackageRevisionResources } from '../../lib/api/porch.ts';
import { PACKAGEREVISIONRESOURCES, PACKAGEREVISIONS } from '../../lib/api/resources.ts';
import { checkKindAndVersion, validateObject } from '../../lib/api/validate.ts';
import { errors } from '../../lib/errors.ts';
import { checkUnknownFields, parseFieldValidation } from '../../lib/api/strict-fields.ts';


function checkNames(body: Record<string, unknown>, namespace: string, name?: string): void {
  const meta = (body.metadata ?? {}) as Record<string, unknown>;
  if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace)
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  if (name !== undefined && meta.name !== undefined && meta.name !== '' && meta.name !== name)
    throw errors.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
}

/** A decoded PackageRevision body, checked against the schema (422 naming the fields). */
export function decodePackageRevision(body: Record<string, unknown>, namespace: string, name?: string, fieldValidation?: string): PackageRevision {
  checkKindAndVersion(PACKAGEREVISIONS, body);
  checkUnknownFields(PACKAGEREVISIONS, body, parseFieldValidation(fieldValidation));
  checkNames(body, namespace, name);
  const meta = (body.metadata ?? {}) as Record<string, unknown>;
  const obj = validateObject(PACKAGEREVISIONS, { metadata: {}, ...body }, [], revisionNameForErrors(name ?? meta.name, body.spec));
  obj.spec ??= {};
  obj.status ??= {};
  return obj;
}

export function decodeResources(body: Record<string, unknown>, namespace: string, name: string, fieldValidation?: string): PackageRevisionResources {
  checkKindAndVersion(PACKAGEREVISIONRESOURCES, body);
  checkUnknownFields(PACKAGEREVISIONRESOURCES, body, parseFieldValidation(fieldValidation));
  checkNames(body, namespace, name);
  return validateObject(PACKAGEREVISIONRESOURCES, { metadata: {}, ...body });
}
