import type { KubeObject, ObjectMeta } from '../api/meta.ts';
import {
  LATEST_REVISION_LABEL,
  PORCH_API_VERSION,
  type PackageRevision,
  type PackageRevisionResources,
  type PorchPackage,
  type Task,
} from '../api/porch.ts';
import type { Repository } from '../api/repository.ts';
import type { RevisionRecord } from '../cache/types.ts';
import { deepFreeze, nowTimestamp } from '../util.ts';
import { readKptfile } from './kptfile.ts';
import { deterministicUid, packageName } from './names.ts';

export interface BuildContext {
  namespace: string;
  repo: Repository;
  latest: boolean;
  /** The revision's PackageRev: labels, annotations, finalizers, ownerReferences, creation time. */
  meta?: KubeObject;
  rv: number;
}

function repoDirectory(repo: Repository): string {
  const d = repo.spec.git?.directory ?? '';
  return d.replace(/^\/+|\/+$/g, '');
}

function timestamp(seconds: number): string {
  return nowTimestamp(new Date(seconds * 1000));
}

export function buildPackageRevision(r: RevisionRecord, b: BuildContext): PackageRevision {
  const kpt = readKptfile(r.git.kptfile);
  const labels: Record<string, string> = { ...(b.meta?.metadata.labels ?? {}) };
  for (const k of Object.keys(labels)) if (k.startsWith('internal.porch.kpt.dev/')) delete labels[k];
  if (b.latest) labels[LATEST_REVISION_LABEL] = 'true';
  else delete labels[LATEST_REVISION_LABEL];
  const metadata: ObjectMeta = {
    name: r.name,
    namespace: b.namespace,
    uid: deterministicUid('packagerevision', b.namespace, r.name),
    resourceVersion: String(b.rv),
    creationTimestamp: b.meta?.metadata.creationTimestamp ?? timestamp(r.git.author.timestamp),
  };
  if (Object.keys(labels).length) metadata.labels = labels;
  if (b.meta?.metadata.annotations && Object.keys(b.meta.metadata.annotations).length) metadata.annotations = { ...b.meta.metadata.annotations };
  const finalizers = (b.meta?.metadata.finalizers ?? []).filter((f) => !f.startsWith('internal.porch.kpt.dev/'));
  if (finalizers.length) metadata.finalizers = finalizers;
  if (b.meta?.metadata.ownerReferences?.length) metadata.ownerReferences = structuredClone(b.meta.metadata.ownerReferences);
  if (b.meta?.metadata.deletionTimestamp) metadata.deletionTimestamp = b.meta.metadata.deletionTimestamp;

  const spec: PackageRevision['spec'] = {
    packageName: r.packagePath,
    repository: b.repo.metadata.name,
    workspaceName: r.workspace,
  };
  if (r.revision !== 0) spec.revision = r.revision;
  spec.lifecycle = r.lifecycle;
  spec.tasks = r.git.tasks as Task[];
  if (kpt.readinessGates?.length) spec.readinessGates = kpt.readinessGates;
  if (kpt.labels || kpt.annotations) {
    spec.packageMetadata = {};
    if (kpt.labels) spec.packageMetadata.labels = kpt.labels;
    if (kpt.annotations) spec.packageMetadata.annotations = kpt.annotations;
  }

  const status: PackageRevision['status'] = {};
  if (kpt.upstreamLock) status.upstreamLock = kpt.upstreamLock as PackageRevision['status']['upstreamLock'];
  const published = r.lifecycle === 'Published' || r.lifecycle === 'DeletionProposed';
  if (published && r.revision > 0) {
    const dir = repoDirectory(b.repo);
    status.selfLock = {
      type: 'git',
      git: {
        repo: b.repo.spec.git?.repo ?? '',
        directory: dir ? `${dir}/${r.packagePath}` : r.packagePath,
        ref: r.git.ref.replace(/^refs\/(tags|heads)\//, ''),
        commit: r.git.commit,
      },
    };
    status.publishedBy = r.git.author.name || r.git.author.email;
    status.publishTimestamp = timestamp(r.git.author.timestamp);
  }
  status.deployment = b.repo.spec.deployment === true;
  if (kpt.conditions?.length) status.conditions = kpt.conditions;

  return deepFreeze({ apiVersion: PORCH_API_VERSION, kind: 'PackageRevision', metadata, spec, status });
}

export function buildResources(pr: PackageRevision, resources: Record<string, string>): PackageRevisionResources {
  return {
    apiVersion: PORCH_API_VERSION,
    kind: 'PackageRevisionResources',
    metadata: structuredClone(pr.metadata),
    spec: {
      packageName: pr.spec.packageName ?? '',
      workspaceName: pr.spec.workspaceName ?? '',
      ...(pr.spec.revision ? { revision: pr.spec.revision } : {}),
      repository: pr.spec.repository ?? '',
      resources,
    },
    status: {},
  };
}

export function buildPackage(namespace: string, repository: string, packagePath: string, latestRevision: number, rv: number, created: string): PorchPackage {
  const name = packageName(repository, packagePath);
  return deepFreeze({
    apiVersion: PORCH_API_VERSION,
    kind: 'PorchPackage',
    metadata: { name, namespace, uid: deterministicUid('package', namespace, name), resourceVersion: String(rv), creationTimestamp: created },
    spec: { packageName: packagePath, repository },
    status: latestRevision > 0 ? { latestRevision } : {},
  });
}
