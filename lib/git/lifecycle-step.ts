import type { Lifecycle } from '../api/porch.ts';
import { deletionProposedRef, draftRef, proposedRef } from './refs.ts';
import type { RevisionRefs } from './types.ts';

/**
 * The ref change a lifecycle step is in Porch's layout: a draft or proposed branch renamed, the
 * deletionProposed branch of a published revision made or removed; undefined when there is nothing
 * to do. Written by PorchGitRepository, planned by PlannedWrites: both take it from here.
 */
export type LifecycleStep = { kind: 'move'; to: string } | { kind: 'mark'; ref: string } | { kind: 'unmark'; ref: string };

export function lifecycleStep(dir: string, rev: RevisionRefs, to: Lifecycle): LifecycleStep | undefined {
  const g = rev.git;
  if (g.kind === 'draft' && to === 'Proposed') return { kind: 'move', to: proposedRef(dir, g.packagePath, g.workspace) };
  if (g.kind === 'proposed' && to === 'Draft') return { kind: 'move', to: draftRef(dir, g.packagePath, g.workspace) };
  const published = g.kind === 'published' || g.kind === 'placeholder';
  if (published && rev.deletionRef === undefined && to === 'DeletionProposed') return { kind: 'mark', ref: deletionProposedRef(dir, g.packagePath, g.revision) };
  if (published && rev.deletionRef !== undefined && to === 'Published') return { kind: 'unmark', ref: rev.deletionRef };
  return undefined;
}
