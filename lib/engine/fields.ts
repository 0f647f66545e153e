import { LIFECYCLES, type PackageRevision, type PorchPackage } from '../api/porch.ts';
import { matchesFields, matchesLabels, type FieldSelector, type LabelSelector } from '../api/selectors.ts';
import { errors } from '../errors.ts';

const LABEL_FIELD = /^spec\.packageMetadata\.labels\[(.+)\]$/;
const REVISION_FIELDS = new Set(['metadata.name', 'metadata.namespace', 'spec.revision', 'spec.packageName', 'spec.repository', 'spec.workspaceName', 'spec.lifecycle']);
const PACKAGE_FIELDS = new Set(['metadata.name', 'metadata.namespace', 'spec.packageName', 'spec.repository']);

function revisionField(pr: PackageRevision, field: string): string | undefined {
  switch (field) {
    case 'metadata.name':
      return pr.metadata.name;
    case 'metadata.namespace':
      return pr.metadata.namespace;
    case 'spec.revision':
      return String(pr.spec.revision ?? 0);
    case 'spec.packageName':
      return pr.spec.packageName;
    case 'spec.repository':
      return pr.spec.repository;
    case 'spec.workspaceName':
      return pr.spec.workspaceName;
    case 'spec.lifecycle':
      return pr.spec.lifecycle;
  }
  const m = LABEL_FIELD.exec(field);
  if (m) return pr.spec.packageMetadata?.labels?.[m[1]] ?? '';
  return undefined;
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
    if (!REVISION_FIELDS.has(r.field) && !LABEL_FIELD.test(r.field))
      throw errors.badRequest(`field label not supported: ${r.field}`);
    return r;
  });
}

export function revisionMatcher(namespace: string | undefined, labels: LabelSelector, fields: FieldSelector): (pr: PackageRevision) => boolean {
  return (pr) =>
    (namespace === undefined || pr.metadata.namespace === namespace) &&
    (!labels.length || matchesLabels(labels, pr.metadata.labels)) &&
    (!fields.length || matchesFields(fields, (f) => revisionField(pr, f)));
}

function packageField(p: PorchPackage, field: string): string | undefined {
  switch (field) {
    case 'metadata.name':
      return p.metadata.name;
    case 'metadata.namespace':
      return p.metadata.namespace;
    case 'spec.packageName':
      return p.spec.packageName;
    case 'spec.repository':
      return p.spec.repository;
  }
  return undefined;
}

export function normalisePackageFieldSelector(sel: FieldSelector): FieldSelector {
  for (const r of sel)
    if (!PACKAGE_FIELDS.has(r.field))
      throw errors.badRequest(`field label not supported: ${r.field}`);
  return sel;
}

export function packageMatcher(namespace: string | undefined, labels: LabelSelector, fields: FieldSelector): (p: PorchPackage) => boolean {
  return (p) =>
    (namespace === undefined || p.metadata.namespace === namespace) &&
    (!labels.length || matchesLabels(labels, p.metadata.labels)) &&
    (!fields.length || matchesFields(fields, (f) => packageField(p, f)));
}
