import YAML, { isMap } from 'yaml';

// The Kptfile of a package made from an upstream, as `kpt pkg get` writes it: the package's own
// name, then `upstream` (where to update from) and `upstreamLock` (exactly what it came from) right
// after metadata. The rest of the file — comments, order, other fields — stays as it was.

export interface GitLock {
  repo: string;
  directory: string;
  ref: string;
  commit: string;
}

export function withUpstream(kptfile: string, packageName: string, lock: GitLock): string {
  const doc = YAML.parseDocument(kptfile);
  if (!isMap(doc.contents)) throw new Error('the upstream Kptfile is not a YAML mapping');
  doc.setIn(['metadata', 'name'], packageName);
  const map = doc.contents;
  map.items = map.items.filter((p) => {
    const k = String((p.key as { value?: unknown })?.value ?? p.key);
    return k !== 'upstream' && k !== 'upstreamLock';
  });
  type Item = (typeof map.items)[number];
  const upstream = doc.createPair('upstream', { type: 'git', git: { repo: lock.repo, directory: lock.directory, ref: lock.ref }, updateStrategy: 'resource-merge' }) as unknown as Item;
  const upstreamLock = doc.createPair('upstreamLock', { type: 'git', git: { repo: lock.repo, directory: lock.directory, ref: lock.ref, commit: lock.commit } }) as unknown as Item;
  const at = map.items.findIndex((p) => String((p.key as { value?: unknown })?.value ?? p.key) === 'metadata');
  map.items.splice(at < 0 ? map.items.length : at + 1, 0, upstream, upstreamLock);
  return doc.toString();
}

/** package-context.yaml (kpt's ConfigMap kptfile.kpt.dev) names the package it is in. */
export function withPackageContextName(text: string, packageName: string): string {
  const doc = YAML.parseDocument(text);
  if (!isMap(doc.contents) || !doc.hasIn(['data'])) return text;
  doc.setIn(['data', 'name'], packageName);
  return doc.toString();
}
