import type { Task } from '../../api/porch.ts';
import type { RepositoryCache } from '../../cache/repository-cache.ts';
import { errors } from '../../errors.ts';
import type { PackageContents } from '../../git/file-origin.ts';
import type { Engine } from '../engine.ts';
import type { Requester } from '../../auth/requester.ts';
import { PR_GR } from '../gr.ts';
import { withUpstream } from './kptfile-upstream.ts';
import { ensureMergeKeys } from './merge-key.ts';
import { withDeploymentContext } from './package-context.ts';
import { gitUpstream, revisionUpstream, type Upstream } from './upstream.ts';

// The clone task: a new package whose content is an upstream package's, with a Kptfile that records
// where it came from (upstream and upstreamLock) and carries the new package's name. As in Porch, a
// deployment repository also gets the package context regenerated, and every resource gets kpt's
// merge key so a later upgrade can match it with its upstream copy.

const FIELD = 'spec.tasks[0].clone.upstreamRef';

export async function cloneResources(engine: Engine, target: RepositoryCache, name: string, packagePath: string, task: Task, requester: Requester): Promise<PackageContents> {
  // A package is cloned once; later revisions are edits or upgrades of it (Porch's rule).
  if ([...target.records()].some((r) => r.packagePath === packagePath))
    throw errors.alreadyExists(PR_GR, name, `clone cannot create a new revision for package "${packagePath}" that already exists in repository "${target.name}"; make subsequent revisions with edit (copy) or upgrade`);
  const ref = task.clone?.upstreamRef;
  let up: Upstream;
  if (ref?.git) up = await gitUpstream(engine, target.namespace, name, ref.git, requester);
  else if (ref?.oci || ref?.type === 'oci')
    throw errors.invalid('PackageRevision', 'porch.kpt.dev', name, [{ field: `${FIELD}.oci`, message: 'Unsupported value: OCI upstreams are not supported; use a PackageRevision or a git upstream' }]);
  else up = await revisionUpstream(engine, target.namespace, name, ref?.upstreamRef?.name, `${FIELD}.upstreamRef.name`);

  const pkgName = packagePath.split('/').pop() ?? packagePath;
  let files = { ...up.files };
  files.Kptfile = withUpstream(files.Kptfile ?? `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${pkgName}\n`, { packageName: pkgName }, up.lock);
  if (target.repo.spec.deployment) files = withDeploymentContext(files, packagePath);
  return { files: ensureMergeKeys(files), origins: up.origins };
}
