import type { Lifecycle } from '../api/porch.ts';
import { errors } from '../errors.ts';
import { PR_GR } from './gr.ts';

// Porch's lifecycle rules, in one place. A request the object's current state does not allow is a
// 409 Conflict (Porch answers some of these with 500): the same request may succeed once the state
// changes, unlike a 422, which no state makes valid.

/** Transitions the main resource allows (PUT/PATCH packagerevisions). */
export function checkUpdateTransition(name: string, from: Lifecycle, to: Lifecycle): void {
  if (from === to) return;
  const ok =
    (from === 'Draft' && to === 'Proposed') ||
    (from === 'Proposed' && to === 'Draft') ||
    (from === 'Published' && to === 'DeletionProposed') ||
    (from === 'DeletionProposed' && to === 'Published');
  if (ok) return;
  if (to === 'Published')
    throw errors.conflict(PR_GR, name, `cannot change the lifecycle from ${from} to Published: a package revision is published through the approval subresource`);
  throw errors.conflict(PR_GR, name, `cannot change the lifecycle from ${from} to ${to}`);
}

/** Transitions the approval subresource allows. */
export function checkApprovalTransition(name: string, from: Lifecycle, to: Lifecycle): void {
  const ok =
    (from === 'Proposed' && (to === 'Published' || to === 'Draft')) ||
    (from === 'Published' && to === 'DeletionProposed') ||
    (from === 'DeletionProposed' && to === 'Published');
  if (ok) return;
  const message =
    to === 'Published' && from !== 'Proposed'
      ? `cannot approve package with ${from} lifecycle value; only Proposed packages can be approved`
      : `cannot change approval from ${from} to ${to}`;
  throw errors.conflict(PR_GR, name, message);
}
