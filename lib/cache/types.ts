import type { Lifecycle } from '../api/porch.ts';
import type { GitPackageRevision } from '../git/types.ts';

/** One package revision as the cache knows it, before metadata from its PackageRev is merged in. */
export interface RevisionRecord {
  name: string;
  packagePath: string;
  workspace: string;
  revision: number;
  lifecycle: Lifecycle;
  /** The ref carrying the content (draft/proposed branch, tag, or the registered branch). */
  git: GitPackageRevision;
  /** The deletionProposed branch, when lifecycle is DeletionProposed. */
  deletionRef?: string;
}
