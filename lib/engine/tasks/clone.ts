import type { Task } from '../../api/porch.ts';
import type { RepositoryCache } from '../../cache/repository-cache.ts';
import { errors } from '../../errors.ts';
import type { PackageContents } from '../../git/file-origin.ts';
import type { Engine } from '../engine.ts';
import type { Requester } from '../../auth/requester.ts';
import { PR_GR } from '../gr.ts';
import { KptfileError } from '../kptfile.ts';
import { withUpstream, type GitLock } from './kptfile-upstream.ts';
import { ensureMergeKeys } from './merge-key.ts';
import { withDeploymentContext } from './package-context.ts';
import { trimSlashes } from '../../util.ts';
import { gitUpstream, revisionUpstream, type Upstream } from './upstream.ts';

// The clone task: a new package whose content is an upstream package's, with a Kptfile that records
// where it came from (upstream and upstreamLock) and carries the new package's name. As in Porch, a
// deployment repository also gets the package context regenerated, and every resource gets kpt's
// merge key so a later upgrade can match it with its upstream copy.

const FIELD = 'spec.tasks[0].clone.upstreamRef';

export async function cloneResources(engine: Engine, target: RepositoryCache, name: string, packagePath: string, task: Task, requester: Requester): Promise<PackageContents> {
  // A package is cloned once; later revisions are edits or upgrades of it (Porch's rule). The
  // error names a revision that is there, one not on its way out if there is such.
  const existing = [...target.records()].filter((r) => r.packagePath === packagePath).map((r) => r.name);
  if (existing.length) {
    const shown = existing.find((n) => !target.revision(n)?.metadata.deletionTimestamp) ?? existing[0];
    throw errors.alreadyExists(PR_GR, shown, `clone cannot create a new revision for package "${packagePath}" that already exists in repository "${target.name}"; make subsequent revisions with edit (copy) or upgrade`);
  }
  const ref = task.clone?.upstreamRef;
  let up: Upstream;
  if (ref?.git) up = await gitUpstream(engine, target.namespace, name, ref.git, requester);
  else if (ref?.oci || ref?.type === 'oci')
    throw errors.invalid('PackageRevision', 'porch.kpt.dev', name, [{ field: `${FIELD}.oci`, message: 'Unsupported value: OCI upstreams are not supported; use a PackageRevision or a git upstream' }]);
  else up = await revisionUpstream(engine, target.namespace, name, ref?.upstreamRef?.name, `${FIELD}.upstreamRef.name`);

  try {
    return { files: asCloned(up.files, packagePath, Boolean(target.repo.spec.deployment), up.lock), origins: up.origins };
  } catch (err) {
    if (!(err instanceof KptfileError)) throw err;
    if (ref?.git) throw upstreamKptfileInvalid(name, `${FIELD}.git.directory`, `the Kptfile of "${trimSlashes(ref.git.directory) || '.'}" at ${ref.git.ref}`, err);
    throw upstreamKptfileInvalid(name, `${FIELD}.upstreamRef.name`, `the Kptfile of package revision "${ref?.upstreamRef?.name ?? ''}"`, err);
  }
}

/** An upstream package's files as a clone of it into `packagePath` writes them. */
export function asCloned(upstream: Record<string, string>, packagePath: string, deployment: boolean, lock: GitLock): Record<string, string> {
  const pkgName = packagePath.split('/').pop() ?? packagePath;
  let files = { ...upstream };
  files.Kptfile = withUpstream(files.Kptfile ?? `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${pkgName}\n`, { packageName: pkgName }, lock);
  if (deployment) files = withDeploymentContext(files, packagePath);
  return ensureMergeKeys(files);
}

/** A 422 naming the upstream's Kptfile (`which`): the request is well formed, the package it names unusable. */
function upstreamKptfileInvalid(name: string, field: string, which: string, err: KptfileError) {
  return errors.invalid('PackageRevision', 'porch.kpt.dev', name, [{ field, message: `Invalid value: ${which} cannot be used: ${err.message}` }]);
}
