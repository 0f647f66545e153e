import { LIFECYCLES, type PackageRevision, type PorchPackage } from '../api/porch.ts';
import type { ObjectMeta } from '../api/meta.ts';
import { matchesFields, matchesLabels, type FieldSelector, type LabelSelector } from '../api/selectors.ts';
import { errors } from '../errors.ts';

const LABEL_FIELD = /^spec\.packageMetadata\.labels\[(.+)\]$/;

/** The fields a kind can be selected by, each with how an object answers it. */
type Fields<T> = ReadonlyMap<string, (o: T) => string | undefined>;

// Both kinds are selected by name, namespace, package and repository, as in Porch.
const PACKAGE_FIELDS: Fields<PorchPackage | PackageRevision> = new Map<string, (o: PorchPackage | PackageRevision) => string | undefined>([
  ['metadata.name', (o) => o.metadata.name],
  ['metadata.namespace', (o) => o.metadata.namespace],
  ['spec.packageName', (o) => o.spec.packageName],
  ['spec.repository', (o) => o.spec.repository],
]);

const REVISION_FIELDS: Fields<PackageRevision> = new Map<string, (pr: PackageRevision) => string | undefined>([
  ...PACKAGE_FIELDS,
  ['spec.revision', (pr) => String(pr.spec.revision ?? 0)],
  ['spec.workspaceName', (pr) => pr.spec.workspaceName],
  ['spec.lifecycle', (pr) => pr.spec.lifecycle],
]);

function revisionField(pr: PackageRevision, field: string): string | undefined {
  const known = REVISION_FIELDS.get(field);
  if (known) return known(pr);
  const m = LABEL_FIELD.exec(field);
  if (m) return pr.spec.packageMetadata?.labels?.[m[1]] ?? '';
  return undefined;
}

function packageField(p: PorchPackage, field: string): string | undefined {
  return PACKAGE_FIELDS.get(field)?.(p);
}

function unsupported(field: string) {
  return errors.badRequest(`field label not supported: ${field}`);
}

/**
 * Porch's field selectors for package revisions; values are normalised the way Porch reads them
 * (`spec.revision=v2` means 2) and an unknown field or lifecycle is a 400.
 */
export function normaliseRevisionFieldSelector(sel: FieldSelector): FieldSelector {
  return sel.map((r) => {
    if (r.field === 'spec.revision') {
      const v = r.value.replace(/^v/, '');
      if (!/^-?\d+$/.test(v)) throw errors.badRequest(`invalid value for spec.revision: "${r.value}"`);
      return { ...r, value: String(Number(v)) };
    }
    if (r.field === 'spec.lifecycle' && !(LIFECYCLES as readonly string[]).includes(r.value))
      throw errors.badRequest(`invalid value for spec.lifecycle: "${r.value}"; must be one of ${LIFECYCLES.join(', ')}`);
    if (!REVISION_FIELDS.has(r.field) && !LABEL_FIELD.test(r.field)) throw unsupported(r.field);
    return r;
  });
}

export function normalisePackageFieldSelector(sel: FieldSelector): FieldSelector {
  for (const r of sel) if (!PACKAGE_FIELDS.has(r.field)) throw unsupported(r.field);
  return sel;
}

/** A list's filter: the namespace (undefined for all), then the label and field selectors. */
function matcher<T extends { metadata: ObjectMeta }>(field: (o: T, name: string) => string | undefined) {
  return (namespace: string | undefined, labels: LabelSelector, fields: FieldSelector) =>
    (o: T): boolean =>
      (namespace === undefined || o.metadata.namespace === namespace) &&
      (!labels.length || matchesLabels(labels, o.metadata.labels)) &&
      (!fields.length || matchesFields(fields, (f) => field(o, f)));
}

export const revisionMatcher = matcher(revisionField);
export const packageMatcher = matcher(packageField);
