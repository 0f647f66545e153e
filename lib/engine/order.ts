import type { PackageRevision } from '../api/porch.ts';

/** Porch's list order: repository, package, revision, lifecycle, name. */
export function sortRevisions(items: PackageRevision[]): PackageRevision[] {
  return items.sort(
    (a, b) =>
      cmp(a.metadata.namespace, b.metadata.namespace) ||
      cmp(a.spec.repository, b.spec.repository) ||
      cmp(a.spec.packageName, b.spec.packageName) ||
      (a.spec.revision ?? 0) - (b.spec.revision ?? 0) ||
      cmp(a.spec.lifecycle, b.spec.lifecycle) ||
      cmp(a.metadata.name, b.metadata.name),
  );
}

function cmp(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}
