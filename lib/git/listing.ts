import { compareRefNames } from './refs.ts';
import type { GitPackageRevision, ListingChange } from './types.ts';

// A listing as its holder keeps it: entries by key, in the order listRevisions gives them (refs by
// name, then the placeholders), so a listing brought up to date by a write's change and one read
// afresh are the same map in the same order.

/** Key of a listing entry: placeholders share their branch's ref, so the package path is part of it. */
export function revisionKey(r: Pick<GitPackageRevision, 'ref' | 'packagePath' | 'kind'>): string {
  return r.kind === 'placeholder' ? `${r.ref}\0${r.packagePath}` : r.ref;
}

export function listingMap(revisions: readonly GitPackageRevision[]): Map<string, GitPackageRevision> {
  return new Map(revisions.map((r) => [revisionKey(r), r]));
}

/** `listing` with a write's change applied. */
export function applyListingChange(listing: ReadonlyMap<string, GitPackageRevision>, change: ListingChange): Map<string, GitPackageRevision> {
  const refs: GitPackageRevision[] = [];
  const placeholders: GitPackageRevision[] = [];
  const gone = new Set(change.removed);
  const put = listingMap(change.put);
  for (const [key, r] of listing) {
    if (r.kind === 'placeholder') placeholders.push(r);
    else if (!gone.has(key) && !put.has(key)) refs.push(r);
  }
  // The kept refs are in order already: the few written ones are merged in, not the whole list sorted.
  const written = [...put.values()].sort((a, b) => compareRefNames(a.ref, b.ref));
  const merged: GitPackageRevision[] = [];
  let i = 0;
  for (const r of refs) {
    while (i < written.length && compareRefNames(written[i].ref, r.ref) < 0) merged.push(written[i++]);
    merged.push(r);
  }
  merged.push(...written.slice(i));
  return listingMap([...merged, ...(change.branch ? change.branch.placeholders : placeholders)]);
}
