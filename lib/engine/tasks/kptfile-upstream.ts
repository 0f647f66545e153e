import { isMap, type YAMLMap } from 'yaml';
import { edited, KptfileError, parseForEdit } from '../kptfile.ts';
import { mergeCommentOnMetadataLine } from '../../merge/resources.ts';

// The Kptfile of a package made from an upstream, as Porch writes it on clone and upgrade (kpt's
// kptops.UpdateUpstream): optionally the package's new name, then `upstream` (where to update
// from) and `upstreamLock` (exactly what it came from) right after metadata, in the Kptfile's
// field order. The rest of the file — comments, order, other fields — stays as it was.

export interface GitLock {
  repo: string;
  directory: string;
  ref: string;
  commit: string;
}

/**
 * kpt's normalisation of the recorded location: the repository URL ends in `.git` and the
 * directory has no leading slash. A local path is left as it is: a suffix would name another
 * directory.
 */
export function normalizeLock(lock: GitLock): GitLock {
  const network = /^[a-z][a-z0-9+.-]*:\/\//i.test(lock.repo) && !lock.repo.startsWith('file:');
  return {
    repo: network && !lock.repo.endsWith('.git') ? `${lock.repo}.git` : lock.repo,
    directory: lock.directory.replace(/^\/+/, ''),
    ref: lock.ref,
    commit: lock.commit,
  };
}

function keyOf(p: { key: unknown }): string {
  return String((p.key as { value?: unknown })?.value ?? p.key);
}

export interface UpstreamEdit {
  /** Clone: the new package's name. Upgrade: undefined, the name stays. */
  packageName?: string;
}

/**
 * Porch replaces `upstream` whole with the revision's lock (kptops.UpdateKptfileUpstream with
 * GetLock), so no `updateStrategy` is written, on clone and on upgrade alike; kpt reads a missing
 * strategy as resource-merge.
 */
export function withUpstream(kptfile: string, edit: UpstreamEdit, given: GitLock): string {
  const { packageName } = edit;
  const lock = normalizeLock(given);
  const doc = parseForEdit(kptfile);
  if (packageName !== undefined) {
    if (doc.has('metadata') && !isMap(doc.get('metadata', true))) throw new KptfileError('the Kptfile\'s metadata is not a YAML mapping');
    edited(() => doc.setIn(['metadata', 'name'], packageName));
  }
  const map = doc.contents as YAMLMap;
  map.items = map.items.filter((p) => keyOf(p) !== 'upstream' && keyOf(p) !== 'upstreamLock');
  type Item = (typeof map.items)[number];
  const upstream = doc.createPair('upstream', { type: 'git', git: { repo: lock.repo, directory: lock.directory, ref: lock.ref } }) as unknown as Item;
  const upstreamLock = doc.createPair('upstreamLock', { type: 'git', git: { repo: lock.repo, directory: lock.directory, ref: lock.ref, commit: lock.commit } }) as unknown as Item;
  const at = map.items.findIndex((p) => keyOf(p) === 'metadata');
  map.items.splice(at < 0 ? map.items.length : at + 1, 0, upstream, upstreamLock);
  return mergeCommentOnMetadataLine(doc.toString({ lineWidth: 0 }));
}
