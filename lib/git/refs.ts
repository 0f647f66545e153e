// Porch's ref layout. `dir` is the Repository's directory without leading/trailing slashes ("" = top).

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

export function draftRef(dir: string, pkg: string, ws: string): string {
  return `refs/heads/${join('drafts', dir, pkg, ws)}`;
}

export function proposedRef(dir: string, pkg: string, ws: string): string {
  return `refs/heads/${join('proposed', dir, pkg, ws)}`;
}

export function publishedTag(dir: string, pkg: string, revision: number): string {
  return `refs/tags/${join(dir, pkg, `v${revision}`)}`;
}

/**
 * The branch marking a published revision DeletionProposed. Porch names it after `vN` for a numbered
 * revision, otherwise after the workspace: the registered branch's name for its placeholder, the tag's
 * own name for a tag that is not `vN`.
 */
export function deletionProposedRef(dir: string, pkg: string, revision: number | string): string {
  return `refs/heads/${join('deletionProposed', dir, pkg, typeof revision === 'number' ? `v${revision}` : revision)}`;
}

/**
 * `revision` is -1 for a tag (or a deletionProposed branch) not named `vN`: Porch lists such a tag as a
 * published revision whose workspace is the tag's last segment (`name`).
 */
export type ParsedRef =
  | { kind: 'draft' | 'proposed'; packagePath: string; workspace: string }
  | { kind: 'published' | 'deletionProposed'; packagePath: string; revision: number; name: string };

function underDir(dir: string, rest: string): string | undefined {
  if (!dir) return rest;
  return rest.startsWith(`${dir}/`) ? rest.slice(dir.length + 1) : undefined;
}

/**
 * A tag's last segment becomes the last part of a PackageRevision name, so only names that fit one
 * are listed (`v2.0.0`, `main`, `release-1`); `v0`, `V1` or `Release_1` name no revision.
 */
function workspaceLike(s: string): boolean {
  return s !== 'v0' && /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(s);
}

/** What a ref means in Porch's layout; undefined for refs that are not package revisions. */
export function parseRef(dir: string, ref: string): ParsedRef | undefined {
  const split = (s: string | undefined) => {
    if (!s) return undefined;
    const i = s.lastIndexOf('/');
    return i <= 0 ? undefined : { pkg: s.slice(0, i), last: s.slice(i + 1) };
  };
  const version = (v: string) => (/^v[1-9]\d*$/.test(v) ? Number(v.slice(1)) : -1);
  if (ref.startsWith('refs/tags/')) {
    const p = split(underDir(dir, ref.slice('refs/tags/'.length)));
    return p && workspaceLike(p.last) ? { kind: 'published', packagePath: p.pkg, revision: version(p.last), name: p.last } : undefined;
  }
  if (!ref.startsWith('refs/heads/')) return undefined;
  const name = ref.slice('refs/heads/'.length);
  for (const kind of ['drafts', 'proposed', 'deletionProposed'] as const) {
    if (!name.startsWith(`${kind}/`)) continue;
    const p = split(underDir(dir, name.slice(kind.length + 1)));
    if (!p) return undefined;
    if (kind === 'deletionProposed') return workspaceLike(p.last) ? { kind, packagePath: p.pkg, revision: version(p.last), name: p.last } : undefined;
    return { kind: kind === 'drafts' ? 'draft' : 'proposed', packagePath: p.pkg, workspace: p.last };
  }
  return undefined;
}

/** isomorphic-git's listRefs order: by name, a peeled "^{}" entry right after its tag. */
export function compareRefNames(a: string, b: string): number {
  const x = a.endsWith('^{}') ? a.slice(0, -3) : a;
  const y = b.endsWith('^{}') ? b.slice(0, -3) : b;
  if (x < y) return -1;
  if (x > y) return 1;
  return a.endsWith('^{}') ? 1 : -1;
}
