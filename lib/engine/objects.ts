import type { ObjectMeta } from '../api/meta.ts';
import {
  LATEST_REVISION_LABEL,
  PORCH_API_VERSION,
  type PackageRevision,
  type PackageRevisionResources,
  type PorchPackage,
  type Task,
} from '../api/porch.ts';
import type { Repository } from '../api/repository.ts';
import type { RevisionContext } from '../cache/repository-cache.ts';
import type { RevisionRecord } from '../cache/types.ts';
import { simpleYamlMapping } from '../api/yaml-subset.ts';
import { deepFreeze, flatString, secondsTimestamp, sha1, trimSlashes } from '../util.ts';
import { kptfileInfoOf, readKptfile, type KptfileInfo } from './kptfile.ts';
import { deterministicUid, packageName } from '../api/names.ts';


function repoDirectory(repo: Repository): string {
  return trimSlashes(repo.spec.git?.directory ?? '');
}

/** RFC 3339 of a commit time; many revisions share one (a commit and its tag), so one string each. */
let lastTimestamp = { seconds: Number.NaN, text: '' };
function timestamp(seconds: number): string {
  if (lastTimestamp.seconds !== seconds) lastTimestamp = { seconds, text: secondsTimestamp(seconds) };
  return lastTimestamp.text;
}

// ---- Kptfiles: a fast path for the common shape ----
//
// Every revision's Kptfile is parsed when its object is built, and YAML.parse dominates a cold load.
// Most Kptfiles are plain block mappings of plain or simply quoted scalars; for exactly those,
// simpleYamlMapping (lib/api/yaml-subset.ts) gives the value YAML.parse would, and anything else goes
// to readKptfile unchanged. Results are shared by identical Kptfile texts.

const kptfileInfos = new Map<string, KptfileInfo>();
/** Equal infos as one object: Kptfiles differ per revision (descriptions), what a revision shows rarely does. */
const sharedInfos = new Map<string, KptfileInfo>();
const packageMetadatas = new WeakMap<KptfileInfo, NonNullable<PackageRevision['spec']['packageMetadata']>>();

/** readKptfile, with the fast path above and results shared by identical texts and equal contents (they end up frozen). */
export function kptfileInfo(text: string): KptfileInfo {
  const hit = kptfileInfos.get(text);
  if (hit) return hit;
  const simple = text ? simpleYamlMapping(text) : undefined;
  const parsed = simple ? kptfileInfoOf(simple) : readKptfile(text);
  // Keyed by digest: the texts themselves, thousands of them, would cost more than the sharing saves.
  const key = sha1(JSON.stringify(parsed)).toString('base64');
  let info = sharedInfos.get(key);
  if (!info) {
    if (sharedInfos.size >= 4096) sharedInfos.delete(sharedInfos.keys().next().value as string);
    sharedInfos.set(key, (info = deepFreeze(parsed)));
  }
  if (kptfileInfos.size >= 1024) kptfileInfos.delete(kptfileInfos.keys().next().value as string);
  kptfileInfos.set(text, info);
  return info;
}

function packageMetadata(kpt: KptfileInfo): PackageRevision['spec']['packageMetadata'] {
  if (!kpt.labels && !kpt.annotations) return undefined;
  let pm = packageMetadatas.get(kpt);
  if (!pm) {
    pm = {};
    if (kpt.labels) pm.labels = kpt.labels;
    if (kpt.annotations) pm.annotations = kpt.annotations;
    packageMetadatas.set(kpt, deepFreeze(pm));
  }
  return pm;
}

export function buildPackageRevision(r: RevisionRecord, b: RevisionContext): PackageRevision {
  const kpt = kptfileInfo(r.git.kptfile);
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
  const pm = packageMetadata(kpt);
  if (pm) spec.packageMetadata = pm;

  const status: PackageRevision['status'] = {};
  if (kpt.upstreamLock) status.upstreamLock = kpt.upstreamLock as PackageRevision['status']['upstreamLock'];
  const published = r.lifecycle === 'Published' || r.lifecycle === 'DeletionProposed';
  // A tag not named vN (revision -1) is a release too; the registered branch's placeholder is not.
  if (published && r.git.kind !== 'placeholder') {
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
    metadata: { name: flatString(name), namespace, uid: deterministicUid('package', namespace, name), resourceVersion: String(rv), creationTimestamp: created },
    spec: { packageName: packagePath, repository },
    status: latestRevision > 0 ? { latestRevision } : {},
  });
}
