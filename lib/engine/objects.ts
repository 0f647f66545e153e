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
import { simpleYamlMapping, simpleYamlSections } from '../api/yaml-subset.ts';
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
// Every revision's Kptfile is read when its object is built, and YAML.parse dominates a cold load.
// Most Kptfiles are plain block mappings of plain or simply quoted scalars; for exactly those,
// simpleYamlMapping (lib/api/yaml-subset.ts) gives the value YAML.parse would, and anything else goes
// to readKptfile unchanged. What a revision shows of such a Kptfile lies in a few sections, and
// Kptfiles that differ elsewhere (names, descriptions) share them: simpleYamlSections checks a text is
// in the subset and gives those sections' text, and the info is built once per distinct sections.

/** What kptfileInfoOf reads of a document that simpleYamlMapping reads (sequences, such as readinessGates, are not in the subset). */
const INFO_SECTIONS = [['upstream'], ['upstreamLock'], ['metadata', 'labels'], ['metadata', 'annotations']];

/**
 * A map bounded by keeping two generations of at most `perGeneration` entries (evicting one entry per
 * insert instead walks the deleted ones).
 */
class GenerationCache<V> {
  private current = new Map<string, V>();
  private older = new Map<string, V>();

  constructor(private readonly perGeneration: number) {}

  get(key: string): V | undefined {
    return this.current.get(key) ?? this.older.get(key);
  }

  set(key: string, value: V): void {
    if (this.current.size >= this.perGeneration) {
      this.older = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }
}

/** By Kptfile text. */
const kptfileInfos = new GenerationCache<KptfileInfo>(512);
/** By the text of a simple Kptfile's INFO_SECTIONS (short ones as they are, long ones by digest). */
const sectionInfos = new GenerationCache<KptfileInfo>(512);
/** Equal infos as one object: Kptfiles differ per revision (descriptions), what a revision shows rarely does. */
const sharedInfos = new GenerationCache<KptfileInfo>(2048);
const packageMetadatas = new WeakMap<KptfileInfo, NonNullable<PackageRevision['spec']['packageMetadata']>>();

/** Short keys as they are, long ones by digest, so thousands of long ones cost little. No digest holds a tab or a brace. */
function cacheKey(text: string): string {
  return text.length <= 128 ? text : sha1(text, 'base64');
}

/** readKptfile, with the fast path above and results shared by identical texts and equal contents (they end up frozen). */
export function kptfileInfo(text: string): KptfileInfo {
  const hit = kptfileInfos.get(text);
  if (hit) return hit;
  const sections = text ? simpleYamlSections(text, INFO_SECTIONS) : undefined;
  const sectionsKey = sections === undefined ? undefined : cacheKey(sections);
  let info = sectionsKey === undefined ? undefined : sectionInfos.get(sectionsKey);
  if (!info) {
    const simple = sections === undefined ? undefined : simpleYamlMapping(text);
    const parsed = simple ? kptfileInfoOf(simple) : readKptfile(text);
    const key = cacheKey(JSON.stringify(parsed));
    info = sharedInfos.get(key);
    if (!info) sharedInfos.set(key, (info = deepFreeze(parsed)));
    // Flat: a slice of the Kptfile's text would keep all of it.
    if (sectionsKey !== undefined) sectionInfos.set(flatString(sectionsKey), info);
  }
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

/** The labels of every revision without metadata of its own that is its package's latest: one frozen object shared by all. */
const LATEST_ONLY: Record<string, string> = Object.freeze({ [LATEST_REVISION_LABEL]: 'true' });

/** A revision's labels: its PackageRev's, without internal ones, and the latest-revision label as `latest` says. */
function revisionLabels(fromMeta: Record<string, string> | null | undefined, latest: boolean): Record<string, string> | undefined {
  if (!fromMeta) return latest ? LATEST_ONLY : undefined;
  const labels: Record<string, string> = { ...fromMeta };
  for (const k of Object.keys(labels)) if (k.startsWith('internal.porch.kpt.dev/')) delete labels[k];
  if (latest) labels[LATEST_REVISION_LABEL] = 'true';
  else delete labels[LATEST_REVISION_LABEL];
  return Object.keys(labels).length ? labels : undefined;
}

/** A release's ref as selfLock shows it: without refs/tags/ or refs/heads/. */
function shortRef(ref: string): string {
  return ref.startsWith('refs/tags/') ? ref.slice(10) : ref.startsWith('refs/heads/') ? ref.slice(11) : ref;
}

export function buildPackageRevision(r: RevisionRecord, b: RevisionContext): PackageRevision {
  const kpt = kptfileInfo(r.git.kptfile);
  const meta = b.meta?.metadata;
  const metadata: ObjectMeta = {
    name: r.name,
    namespace: b.namespace,
    uid: deterministicUid('packagerevision', b.namespace, r.name),
    resourceVersion: String(b.rv),
    creationTimestamp: meta?.creationTimestamp ?? timestamp(r.git.author.timestamp),
  };
  const labels = revisionLabels(meta?.labels, b.latest);
  if (labels) metadata.labels = labels;
  if (meta) {
    if (meta.annotations && Object.keys(meta.annotations).length) metadata.annotations = { ...meta.annotations };
    const finalizers = (meta.finalizers ?? []).filter((f) => !f.startsWith('internal.porch.kpt.dev/'));
    if (finalizers.length) metadata.finalizers = finalizers;
    if (meta.ownerReferences?.length) metadata.ownerReferences = structuredClone(meta.ownerReferences);
    if (meta.deletionTimestamp) metadata.deletionTimestamp = meta.deletionTimestamp;
  }

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
    status.selfLock = Object.freeze({
      type: 'git',
      git: Object.freeze({
        repo: b.repo.spec.git?.repo ?? '',
        directory: dir ? `${dir}/${r.packagePath}` : r.packagePath,
        ref: shortRef(r.git.ref),
        commit: r.git.commit,
      }),
    });
    status.publishedBy = r.git.author.name || r.git.author.email;
    status.publishTimestamp = timestamp(r.git.author.timestamp);
  }
  status.deployment = b.repo.spec.deployment === true;
  if (kpt.conditions?.length) status.conditions = kpt.conditions;

  // Frozen as deepFreeze would, but by hand: what comes from the Kptfile is frozen already (kptfileInfo,
  // packageMetadata), and walking every object of every revision is a good part of a cold load.
  if (meta) deepFreeze(metadata);
  else Object.freeze(metadata);
  deepFreeze(spec.tasks);
  Object.freeze(spec);
  Object.freeze(status);
  return Object.freeze({ apiVersion: PORCH_API_VERSION, kind: 'PackageRevision', metadata, spec, status });
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
