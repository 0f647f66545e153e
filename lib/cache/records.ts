import type { GitPackageRevision } from '../git/types.ts';
import { packageRevisionName } from '../engine/names.ts';
import { flatString } from '../engine/objects.ts';
import type { RevisionRecord } from './types.ts';

const RANK: Record<GitPackageRevision['kind'], number> = { placeholder: 0, draft: 1, proposed: 2, published: 3, deletionProposed: 3 };

/**
 * Names by listing entry: the git layer hands back the same entry objects for refs that did not move,
 * so a name is built (and flattened, see flatString) once per entry rather than once per refresh.
 */
const names = new WeakMap<GitPackageRevision, { repository: string; name: string }>();

function nameOf(repository: string, g: GitPackageRevision): string {
  const hit = names.get(g);
  if (hit && hit.repository === repository) return hit.name;
  const name = flatString(packageRevisionName(repository, g.packagePath, g.workspace));
  names.set(g, { repository, name });
  return name;
}

/**
 * Turn a git listing into package revisions: a deletionProposed branch marks its tag's revision, and
 * when a crash left two refs for one name (a draft next to the tag it was published as), the later
 * lifecycle wins.
 */
export function recordsFromListing(repository: string, listing: readonly GitPackageRevision[]): Map<string, RevisionRecord> {
  const deletionProposed = new Map<string, GitPackageRevision>();
  for (const g of listing) if (g.kind === 'deletionProposed') deletionProposed.set(`${g.packagePath}\0${g.revision}`, g);

  const out = new Map<string, RevisionRecord>();
  for (const g of listing) {
    if (g.kind === 'deletionProposed') continue;
    const name = nameOf(repository, g);
    const prev = out.get(name);
    if (prev && RANK[prev.git.kind] >= RANK[g.kind]) continue;
    const dp = g.kind === 'published' ? deletionProposed.get(`${g.packagePath}\0${g.revision}`) : undefined;
    out.set(name, {
      name,
      packagePath: g.packagePath,
      workspace: g.workspace,
      revision: g.kind === 'placeholder' ? -1 : g.revision,
      lifecycle: g.kind === 'draft' ? 'Draft' : g.kind === 'proposed' ? 'Proposed' : dp ? 'DeletionProposed' : 'Published',
      git: g,
      deletionRef: dp?.ref,
    });
  }
  return out;
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
