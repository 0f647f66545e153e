import type { GitPackageRevision } from '../git/types.ts';
import { packageName } from '../api/names.ts';
import { flatString } from '../util.ts';
import type { RevisionRecord } from './types.ts';

const RANK: Record<GitPackageRevision['kind'], number> = { placeholder: 0, draft: 1, proposed: 2, published: 3, deletionProposed: 3 };

/**
 * Records by listing entry: the git layer hands back the same entry objects for refs that did not move,
 * so a record (and its flattened name, see flatString) is built once per entry rather than once per
 * refresh, and a cached revision costs one record.
 */
const built = new WeakMap<GitPackageRevision, RevisionRecord>();

/**
 * Turn a git listing into package revisions: a deletionProposed branch marks its tag's revision (or
 * the registered branch's placeholder), and
 * when a crash left two refs for one name (a draft next to the tag it was published as), the later
 * lifecycle wins.
 */
export function recordsFromListing(
  repository: string,
  listing: readonly GitPackageRevision[],
  /** Package names by path, kept by the caller across listings (a package has several revisions). */
  packageNames = new Map<string, string>(),
): Map<string, RevisionRecord> {
  const deletionProposed = new Set<string>();
  for (let i = 0; i < listing.length; i++) if (listing[i].kind === 'deletionProposed') deletionProposed.add(listing[i].ref);

  const out = new Map<string, RevisionRecord>();
  // Indexed: a cold load runs this before it is optimised, when each step of an iterator is an object.
  for (let i = 0; i < listing.length; i++) {
    const g = listing[i];
    if (g.kind === 'deletionProposed') continue;
    const dp =
      deletionProposed.size > 0 && g.deletionMark !== undefined && (g.kind === 'published' || g.kind === 'placeholder') && deletionProposed.has(g.deletionMark) ? g.deletionMark : undefined;
    let rec = built.get(g);
    // Repository names are DNS labels, so the prefix tells which repository a record was built for.
    if (!rec || !rec.name.startsWith(`${repository}.`) || rec.deletionRef !== dp) {
      rec = {
        name: rec?.name.startsWith(`${repository}.`) ? rec.name : flatString(`${namedPackage(packageNames, repository, g.packagePath)}.${g.workspace}`),
        packagePath: g.packagePath,
        workspace: g.workspace,
        revision: g.kind === 'placeholder' ? -1 : g.revision,
        lifecycle: g.kind === 'draft' ? 'Draft' : g.kind === 'proposed' ? 'Proposed' : dp ? 'DeletionProposed' : 'Published',
        git: g,
        deletionRef: dp,
      };
      built.set(g, rec);
    }
    const prev = out.get(rec.name);
    if (prev && RANK[prev.git.kind] >= RANK[g.kind]) continue;
    out.set(rec.name, rec);
  }
  return out;
}

/** packageName(repository, path), the first part of packageRevisionName, made once per path in `names`. */
export function namedPackage(names: Map<string, string>, repository: string, path: string): string {
  let name = names.get(path);
  if (name === undefined) names.set(path, (name = packageName(repository, path)));
  return name;
}

/** The name of the latest published revision of each package path. */
export function latestRevisions(records: Iterable<RevisionRecord>): Map<string, RevisionRecord> {
  const latest = new Map<string, RevisionRecord>();
  for (const r of records) {
    if (r.revision <= 0 || (r.lifecycle !== 'Published' && r.lifecycle !== 'DeletionProposed')) continue;
    const cur = latest.get(r.packagePath);
    if (!cur || r.revision > cur.revision) latest.set(r.packagePath, r);
  }
  return latest;
}
