import type * as v from 'valibot';
import { NamespaceSchema, SecretSchema } from './core.ts';
import { preservingSchema } from './generic.ts';
import type { KubeObject } from './meta.ts';
import { PackageRevisionResourcesSchema, PackageRevisionSchema, PORCH_GROUP, PORCH_VERSION, PorchPackageSchema, type PackageRevision, type PackageRevisionResources, type PorchPackage } from './porch.ts';
import { CONFIG_GROUP, CONFIG_VERSION, RepositorySchema, type Repository } from './repository.ts';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'date' | 'number';
  description?: string;
  priority?: number;
  /** JSONPath as CRDs declare it, for manifests; `cell` is what the server evaluates. */
  jsonPath?: string;
  cell: (obj: KubeObject) => string | number | boolean | null;
}

export interface Subresource {
  name: string;
  verbs: Verb[];
}

export interface ResourceDescriptor<T extends KubeObject = KubeObject> {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: Verb[];
  subresources: Subresource[];
  // The schema's input/output types differ per resource; callers only validate and describe with it.
  schema: v.GenericSchema<unknown, unknown>;
  printerColumns: PrinterColumn[];
  /**
   * Objects served straight from the store, computed by the engine from git, or answered by the
   * gateway from the request's own identity (the review APIs; nothing is stored).
   */
  backend: 'store' | 'engine' | 'gateway';
  /**
   * Never set: it carries the type of the resource's objects, so the store's verbs answer
   * `store.get(REPOSITORIES, …)` as a Repository without a cast.
   */
  readonly objectType?: T;
}

export function apiVersionOf(r: Pick<ResourceDescriptor, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

function path(obj: unknown, ...keys: string[]): unknown {
  let cur = obj;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function str(obj: unknown, ...keys: string[]): string {
  const val = path(obj, ...keys);
  return val === undefined || val === null ? '' : String(val);
}

function conditionStatus(obj: KubeObject, type: string): string {
  const conds = path(obj, 'status', 'conditions');
  if (!Array.isArray(conds)) return '';
  const c = conds.find((x) => (x as { type?: string }).type === type) as { status?: string } | undefined;
  return c?.status ?? '';
}

const ALL: Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const CRUD: Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export const NAMESPACES: ResourceDescriptor = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  verbs: CRUD,
  subresources: [],
  schema: NamespaceSchema,
  printerColumns: [{ name: 'Status', type: 'string', jsonPath: '.status.phase', cell: (o) => str(o, 'status', 'phase') }],
  backend: 'store',
};

export const SECRETS: ResourceDescriptor = {
  group: '',
  version: 'v1',
  plural: 'secrets',
  singular: 'secret',
  kind: 'Secret',
  listKind: 'SecretList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ALL,
  subresources: [],
  schema: SecretSchema,
  printerColumns: [
    { name: 'Type', type: 'string', jsonPath: '.type', cell: (o) => str(o, 'type') },
    { name: 'Data', type: 'string', cell: (o) => Object.keys((path(o, 'data') as object | undefined) ?? {}).length },
  ],
  backend: 'store',
};

export const REPOSITORIES: ResourceDescriptor<Repository> = {
  group: CONFIG_GROUP,
  version: CONFIG_VERSION,
  plural: 'repositories',
  singular: 'repository',
  kind: 'Repository',
  listKind: 'RepositoryList',
  namespaced: true,
  shortNames: ['repo'],
  categories: ['porch'],
  verbs: ALL,
  subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  schema: RepositorySchema,
  printerColumns: [
    { name: 'Type', type: 'string', jsonPath: '.spec.type', cell: (o) => str(o, 'spec', 'type') },
    { name: 'Content', type: 'string', jsonPath: '.spec.content', cell: (o) => str(o, 'spec', 'content') },
    { name: 'Sync Schedule', type: 'string', jsonPath: '.spec.sync.schedule', cell: (o) => str(o, 'spec', 'sync', 'schedule') },
    { name: 'Deployment', type: 'boolean', jsonPath: '.spec.deployment', cell: (o) => (path(o, 'spec', 'deployment') === true ? 'true' : '') },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', cell: (o) => conditionStatus(o, 'Ready') },
    {
      name: 'Address',
      type: 'string',
      // Porch's path; Kubernetes JSONPath takes unions of single-quoted names only.
      jsonPath: ".spec['git','oci']['repo','registry']",
      cell: (o) => str(o, 'spec', 'git', 'repo') || str(o, 'spec', 'oci', 'registry'),
    },
    { name: 'Branch', type: 'string', jsonPath: '.spec.git.branch', cell: (o) => str(o, 'spec', 'git', 'branch') },
  ],
  backend: 'store',
};

export const PACKAGEREVS: ResourceDescriptor = {
  group: CONFIG_GROUP,
  version: CONFIG_VERSION,
  plural: 'packagerevs',
  singular: 'packagerev',
  kind: 'PackageRev',
  listKind: 'PackageRevList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ALL,
  subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  schema: preservingSchema('PackageRev carries the metadata of a package revision that git cannot hold.'),
  printerColumns: [],
  backend: 'store',
};

export const PACKAGEVARIANTS: ResourceDescriptor = {
  group: CONFIG_GROUP,
  version: CONFIG_VERSION,
  plural: 'packagevariants',
  singular: 'packagevariant',
  kind: 'PackageVariant',
  listKind: 'PackageVariantList',
  namespaced: true,
  shortNames: [],
  categories: ['porch'],
  verbs: ALL,
  subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  schema: preservingSchema('PackageVariant keeps a downstream package in sync with an upstream one.'),
  printerColumns: [],
  backend: 'store',
};

export const PACKAGEVARIANTSETS: ResourceDescriptor = {
  group: CONFIG_GROUP,
  version: CONFIG_VERSION,
  plural: 'packagevariantsets',
  singular: 'packagevariantset',
  kind: 'PackageVariantSet',
  listKind: 'PackageVariantSetList',
  namespaced: true,
  shortNames: [],
  categories: ['porch'],
  verbs: ALL,
  subresources: [{ name: 'status', verbs: ['get', 'patch', 'update'] }],
  schema: preservingSchema('PackageVariantSet creates PackageVariants from a template.'),
  printerColumns: [],
  backend: 'store',
};

export const PACKAGEREVISIONS: ResourceDescriptor<PackageRevision> = {
  group: PORCH_GROUP,
  version: PORCH_VERSION,
  plural: 'packagerevisions',
  singular: 'packagerevision',
  kind: 'PackageRevision',
  listKind: 'PackageRevisionList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: CRUD,
  subresources: [{ name: 'approval', verbs: ['get', 'update', 'patch'] }],
  schema: PackageRevisionSchema,
  printerColumns: [
    { name: 'Package', type: 'string', cell: (o) => str(o, 'spec', 'packageName') },
    { name: 'WorkspaceName', type: 'string', cell: (o) => str(o, 'spec', 'workspaceName') },
    { name: 'Revision', type: 'integer', cell: (o) => Number(path(o, 'spec', 'revision') ?? 0) },
    { name: 'Latest', type: 'boolean', cell: (o) => str(o, 'metadata', 'labels', 'kpt.dev/latest-revision') === 'true' },
    { name: 'Lifecycle', type: 'string', cell: (o) => str(o, 'spec', 'lifecycle') },
    { name: 'Repository', type: 'string', cell: (o) => str(o, 'spec', 'repository') },
  ],
  backend: 'engine',
};

export const PACKAGEREVISIONRESOURCES: ResourceDescriptor<PackageRevisionResources> = {
  group: PORCH_GROUP,
  version: PORCH_VERSION,
  plural: 'packagerevisionresources',
  singular: 'packagerevisionresources',
  kind: 'PackageRevisionResources',
  listKind: 'PackageRevisionResourcesList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ['get', 'list', 'watch', 'update', 'patch'],
  subresources: [],
  schema: PackageRevisionResourcesSchema,
  printerColumns: [
    { name: 'Package', type: 'string', cell: (o) => str(o, 'spec', 'packageName') },
    { name: 'WorkspaceName', type: 'string', cell: (o) => str(o, 'spec', 'workspaceName') },
    { name: 'Revision', type: 'integer', cell: (o) => Number(path(o, 'spec', 'revision') ?? 0) },
    { name: 'Repository', type: 'string', cell: (o) => str(o, 'spec', 'repository') },
    { name: 'Files', type: 'integer', cell: (o) => Object.keys((path(o, 'spec', 'resources') as object | undefined) ?? {}).length },
  ],
  backend: 'engine',
};

export const PACKAGES: ResourceDescriptor<PorchPackage> = {
  group: PORCH_GROUP,
  version: PORCH_VERSION,
  plural: 'packages',
  singular: 'package',
  kind: 'PorchPackage',
  listKind: 'PorchPackageList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ['get', 'list', 'watch'],
  subresources: [],
  schema: PorchPackageSchema,
  printerColumns: [
    { name: 'Package', type: 'string', cell: (o) => str(o, 'spec', 'packageName') },
    { name: 'Repository', type: 'string', cell: (o) => str(o, 'spec', 'repository') },
    { name: 'Latest Revision', type: 'integer', cell: (o) => Number(path(o, 'status', 'latestRevision') ?? 0) },
  ],
  backend: 'engine',
};

/** Every resource this server knows, in discovery order. */
export const RESOURCES: ResourceDescriptor[] = [NAMESPACES, SECRETS, REPOSITORIES, PACKAGEREVS, PACKAGEVARIANTS, PACKAGEVARIANTSETS, PACKAGEREVISIONS, PACKAGEREVISIONRESOURCES, PACKAGES];

export function findResource(group: string, version: string, plural: string): ResourceDescriptor | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}
