import type { Task } from '../../api/porch.ts';
import type { RepositoryCache } from '../../cache/repository-cache.ts';
import { errors } from '../../errors.ts';
import { combineOrigins, type PackageContents } from '../../git/file-origin.ts';
import { MergeError, upgradePackageInSlices } from '../../merge/package.ts';
import { PR_GR } from '../gr.ts';
import type { Engine } from '../engine.ts';
import { asCloned } from './clone.ts';
import { KptfileError } from '../kptfile.ts';
import { withUpstream } from './kptfile-upstream.ts';
import { ensureMergeKeys } from './merge-key.ts';
import { revisionUpstream, type Upstream } from './upstream.ts';

// The upgrade task: a new draft of a downstream package, made by merging what changed between two
// revisions of its upstream (old → new) into a published revision of the package itself. The
// Kptfile's lock moves to the new upstream; resources the merge brought in get kpt's merge key.

const FIELD = 'spec.tasks[0].upgrade';

export async function upgradeResources(engine: Engine, cache: RepositoryCache, name: string, packagePath: string, task: Task): Promise<PackageContents> {
  const u = task.upgrade ?? {};
  const invalid = (field: string, message: string) => errors.invalid('PackageRevision', 'porch.kpt.dev', name, [{ field, message }]);
  const oldUp = await revisionUpstream(engine, cache.namespace, name, u.oldUpstreamRef?.name, `${FIELD}.oldUpstreamRef.name`);
  const newUp = await revisionUpstream(engine, cache.namespace, name, u.newUpstreamRef?.name, `${FIELD}.newUpstreamRef.name`);
  if (oldUp.cache !== newUp.cache || oldUp.packagePath !== newUp.packagePath)
    throw invalid(`${FIELD}.newUpstreamRef.name`, `Invalid value: "${u.newUpstreamRef?.name}": the old and new upstream must be revisions of one package`);
  const local = await revisionUpstream(engine, cache.namespace, name, u.localPackageRevisionRef?.name, `${FIELD}.localPackageRevisionRef.name`);
  if (local.cache !== cache || local.packagePath !== packagePath)
    throw invalid(
      `${FIELD}.localPackageRevisionRef.name`,
      `Invalid value: "${u.localPackageRevisionRef?.name}": the upgraded draft must be a new revision of the local package (${local.packagePath} in ${local.cache.name})`,
    );
  const strategy = u.strategy ?? 'resource-merge';
  let merged: Record<string, string>;
  try {
    const cloned = strategy === 'fast-forward' ? clonedView(oldUp, packagePath, Boolean(cache.repo.spec.deployment)) : undefined;
    merged = await upgradePackageInSlices(strategy, { original: oldUp.files, updated: newUp.files, local: local.files, cloned });
  } catch (err) {
    // The request is well formed but cannot be carried out against the packages as they are now.
    if (err instanceof MergeError) throw errors.conflict(PR_GR, name, `the ${strategy} upgrade cannot be done: ${err.message}`);
    throw err;
  }
  const kptfile = merged.Kptfile ?? local.files.Kptfile;
  if (kptfile === undefined) throw errors.conflict(PR_GR, name, `the ${strategy} upgrade left the package without a Kptfile`);
  try {
    merged.Kptfile = withUpstream(kptfile, {}, newUp.lock);
  } catch (err) {
    if (err instanceof KptfileError) throw errors.conflict(PR_GR, name, `the ${strategy} upgrade cannot be done: the upgraded Kptfile cannot be used: ${err.message}`);
    throw err;
  }
  // A file the merge left as the local or the new upstream has it keeps that one's bytes and mode.
  return { files: ensureMergeKeys(merged), origins: combineOrigins(local.origins, newUp.origins) };
}

/**
 * The old upstream as the clone wrote it, so what the clone itself added is no local change to
 * fast-forward; undefined when the old upstream could not have been cloned as it is.
 */
function clonedView(oldUp: Upstream, packagePath: string, deployment: boolean): Record<string, string> | undefined {
  try {
    return asCloned(oldUp.files, packagePath, deployment, oldUp.lock);
  } catch (err) {
    if (err instanceof KptfileError) return undefined;
    throw err;
  }
}
