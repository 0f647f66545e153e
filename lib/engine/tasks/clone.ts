import type { Task } from '../../api/porch.ts';
import { errors } from '../../errors.ts';
import type { Engine } from '../engine.ts';
import { withPackageContextName, withUpstream } from './kptfile-upstream.ts';
import { gitUpstream, revisionUpstream, type Upstream } from './upstream.ts';

// The clone task: a new package whose content is an upstream package's, with a Kptfile that records
// where it came from (upstream and upstreamLock) and carries the new package's name.

const FIELD = 'spec.tasks[0].clone.upstreamRef';

export async function cloneResources(engine: Engine, namespace: string, name: string, packagePath: string, task: Task): Promise<Record<string, string>> {
  const ref = task.clone?.upstreamRef;
  let up: Upstream;
  if (ref?.git) up = await gitUpstream(engine, namespace, name, ref.git);
  else if (ref?.oci || ref?.type === 'oci')
    throw errors.invalid('PackageRevision', 'porch.kpt.dev', name, [{ field: `${FIELD}.oci`, message: 'Unsupported value: OCI upstreams are not supported; use a PackageRevision or a git upstream' }]);
  else up = await revisionUpstream(engine, namespace, name, ref?.upstreamRef?.name, `${FIELD}.upstreamRef.name`);

  const pkgName = packagePath.split('/').pop() ?? packagePath;
  const files = { ...up.files };
  files.Kptfile = withUpstream(files.Kptfile ?? `apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: ${pkgName}\n`, pkgName, up.lock);
  if (files['package-context.yaml'] !== undefined) files['package-context.yaml'] = withPackageContextName(files['package-context.yaml'], pkgName);
  return files;
}
