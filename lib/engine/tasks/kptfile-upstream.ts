import YAML, { isMap } from 'yaml';

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
  /** Upgrade: keep the update strategy the package chose. Clone: kpt's default, resource-merge. */
  keepStrategy?: boolean;
}

export function withUpstream(kptfile: string, edit: UpstreamEdit, given: GitLock): string {
  const { packageName, keepStrategy = false } = edit;
  const lock = normalizeLock(given);
  const doc = YAML.parseDocument(kptfile);
  if (!isMap(doc.contents)) throw new Error('the upstream Kptfile is not a YAML mapping');
  if (packageName !== undefined) doc.setIn(['metadata', 'name'], packageName);
  const kept = keepStrategy ? doc.getIn(['upstream', 'updateStrategy']) : undefined;
  const strategy = typeof kept === 'string' && kept ? kept : 'resource-merge';
  const map = doc.contents;
  map.items = map.items.filter((p) => keyOf(p) !== 'upstream' && keyOf(p) !== 'upstreamLock');
  type Item = (typeof map.items)[number];
  const upstream = doc.createPair('upstream', { type: 'git', git: { repo: lock.repo, directory: lock.directory, ref: lock.ref }, updateStrategy: strategy }) as unknown as Item;
  const upstreamLock = doc.createPair('upstreamLock', { type: 'git', git: { repo: lock.repo, directory: lock.directory, ref: lock.ref, commit: lock.commit } }) as unknown as Item;
  const at = map.items.findIndex((p) => keyOf(p) === 'metadata');
  map.items.splice(at < 0 ? map.items.length : at + 1, 0, upstream, upstreamLock);
  return doc.toString({ lineWidth: 0 });
}
