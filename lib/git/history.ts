import { parseTrailers, type Trailer } from './trailer.ts';
import type { GitSignature, TrailerTask } from './types.ts';

// What Porch derives from commit history rather than from a ref: the workspace of a tag, the tasks of
// a revision and, for the registered branch, the last commit that touched each package. History is
// walked newest first by committer time across all parents, as go-git's Log does, but each walk is
// bounded and stops at commits that belong to something else, so listing stays proportional to the
// number of refs rather than the length of history.

/** Task types a revision can start with (Porch's validFirstTaskTypes). */
export const FIRST_TASK_TYPES: ReadonlySet<string> = new Set(['init', 'edit', 'clone', 'upgrade']);

export interface CommitSummary {
  parents: readonly string[];
  /** Committer time: the order history is walked in. */
  time: number;
  author: GitSignature;
  annotations: readonly Trailer[];
}

export type CommitSource = (oid: string) => Promise<CommitSummary>;

/** The workspace a commit's annotations give `fullPath` (first non-empty one), as Porch's getPkgWorkspace reads it. */
export function annotatedWorkspace(annotations: readonly Trailer[], fullPath: string): string | undefined {
  for (const a of annotations) if (a.package === fullPath && a.workspaceName) return a.workspaceName;
  return undefined;
}

/** Annotations that belong to revision (fullPath, workspace); old Porch wrote the workspace as "revision". */
function belongs(a: Trailer, fullPath: string, workspace: string): boolean {
  return a.package === fullPath && (a.workspaceName === workspace || (a.workspaceName === '' && a.revision === workspace));
}

/** Walks commits newest first from `starts`; `visit` returns false to not follow a commit's parents. */
async function walk(read: CommitSource, starts: readonly string[], limit: number, visit: (oid: string, c: CommitSummary) => boolean | 'stop'): Promise<void> {
  const seen = new Set<string>(starts);
  const frontier: { oid: string; c: CommitSummary }[] = [];
  for (const oid of starts) frontier.push({ oid, c: await read(oid) });
  for (let n = 0; frontier.length && n < limit; n++) {
    let best = 0;
    for (let i = 1; i < frontier.length; i++) if (frontier[i].c.time > frontier[best].c.time) best = i;
    const { oid, c } = frontier.splice(best, 1)[0];
    const next = visit(oid, c);
    if (next === 'stop') return;
    if (!next) continue;
    for (const p of c.parents) {
      if (seen.has(p)) continue;
      seen.add(p);
      frontier.push({ oid: p, c: await read(p) });
    }
  }
}

/**
 * The tasks of revision (fullPath, workspace) as Porch's loadTasks finds them from `start`: among the
 * commits annotated for this revision, the oldest carrying a first task (init/edit/clone/upgrade),
 * stopping at init or clone, which begin a revision. The walk does not follow commits annotated only
 * for other packages or revisions (what a draft was branched from), and reads at most `limit` commits.
 */
export async function revisionTasks(read: CommitSource, start: string, fullPath: string, workspace: string, limit = 64): Promise<TrailerTask[]> {
  let found: TrailerTask | undefined;
  await walk(read, [start], limit, (_oid, c) => {
    const mine = c.annotations.filter((a) => belongs(a, fullPath, workspace));
    if (c.annotations.length && !mine.length) return false;
    for (const a of mine) {
      const type = a.task?.type;
      if (typeof type !== 'string' || !FIRST_TASK_TYPES.has(type)) continue;
      found = { ...a.task, type };
      if (type === 'init' || type === 'clone') return 'stop';
    }
    return true;
  });
  return found ? [found] : [];
}

/**
 * For each package of `fullPaths`, the newest commit reachable from `head` annotated for it (Porch's
 * findLatestPackageCommit, done for all packages in one walk). Packages not met within `limit`
 * commits are absent from the result.
 */
export async function latestPackageCommits(read: CommitSource, head: string, fullPaths: ReadonlySet<string>, limit: number): Promise<Map<string, { oid: string; author: GitSignature }>> {
  const out = new Map<string, { oid: string; author: GitSignature }>();
  if (!fullPaths.size) return out;
  await walk(read, [head], limit, (oid, c) => {
    for (const a of c.annotations) if (fullPaths.has(a.package) && !out.has(a.package)) out.set(a.package, { oid, author: c.author });
    return out.size === fullPaths.size ? 'stop' : true;
  });
  return out;
}

/** Author names and emails repeat across thousands of commits: one string each. */
const names = new Map<string, string>();
function intern(s: string): string {
  const hit = names.get(s);
  if (hit !== undefined) return hit;
  if (names.size >= 4096) names.clear();
  names.set(s, s);
  return s;
}

export function summarise(c: { message: string; parent: readonly string[]; author: GitSignature; committer: { timestamp: number } }): CommitSummary {
  return {
    parents: c.parent,
    time: c.committer.timestamp,
    author: { name: intern(c.author.name), email: intern(c.author.email), timestamp: c.author.timestamp },
    annotations: parseTrailers(c.message),
  };
}
