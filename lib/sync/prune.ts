import { REPOSITORY_LABEL } from '../api/porch.ts';
import { findResource } from '../api/resources.ts';
import { StatusError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/types.ts';

const PACKAGEREVS = findResource('config.porch.kpt.dev', 'v1alpha1', 'packagerevs')!;

export interface PruneArgs {
  store: Store;
  namespace: string;
  repository: string;
  /** Whether the revision of this name exists in git (as the sync just read it). */
  exists(name: string): boolean;
  /**
   * Only PackageRevs created before this time (ms since the epoch) are candidates: one created just
   * now may belong to a revision whose commit the sync's listing did not see yet.
   */
  createdBefore: number;
  log: Logger;
}

export interface PruneResult {
  deleted: string[];
  /** Marked for deletion but kept by finalizers of their users. */
  held: { name: string; finalizers: string[] }[];
}

/**
 * Delete the PackageRevs (revision metadata) of one repository whose revision is gone from git, e.g.
 * a branch or tag deleted outside the API. A PackageRev carrying finalizers is deleted the Kubernetes
 * way: it gets a deletionTimestamp and stays until whoever owns those finalizers removes them.
 */
export async function pruneOrphanedPackageRevs(args: PruneArgs): Promise<PruneResult> {
  const result: PruneResult = { deleted: [], held: [] };
  const { items } = await args.store.list(PACKAGEREVS, {
    namespace: args.namespace,
    labelSelector: [{ key: REPOSITORY_LABEL, op: 'eq', value: args.repository }],
  });
  for (const m of items) {
    const name = m.metadata.name ?? '';
    if (args.exists(name) || m.metadata.deletionTimestamp) continue;
    const created = Date.parse(m.metadata.creationTimestamp ?? '');
    if (Number.isNaN(created) || created >= args.createdBefore) continue;
    try {
      // The precondition keeps a PackageRev that changed since the list (a revision re-created under
      // the same name) from being deleted on stale information.
      const after = await args.store.delete(PACKAGEREVS, args.namespace, name, { resourceVersion: m.metadata.resourceVersion });
      if (after.metadata.deletionTimestamp && (after.metadata.finalizers ?? []).length) {
        result.held.push({ name, finalizers: [...(after.metadata.finalizers ?? [])] });
        args.log.warn('package revision is gone from git; its PackageRev waits for finalizers', {
          namespace: args.namespace,
          repository: args.repository,
          packageRevision: name,
          finalizers: after.metadata.finalizers,
        });
      } else {
        result.deleted.push(name);
        args.log.info('package revision is gone from git; deleted its PackageRev', { namespace: args.namespace, repository: args.repository, packageRevision: name });
      }
    } catch (err) {
      if (err instanceof StatusError && (err.code === 404 || err.code === 409)) continue;
      throw err;
    }
  }
  return result;
}
